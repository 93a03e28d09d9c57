#!/usr/bin/env python3
"""Idle subscribers of GET /v1/events on one ward node: memory per subscriber, and the time
for one revocation to reach all of them (issue 15: >= 1,000 idle subscribers, <= 50 KB each).

    events.py URL PID TOKEN ADMIN SUBSCRIBERS HOLD_S

Opens SUBSCRIBERS raw HTTP/1.1 connections (asyncio, one process), each `GET /v1/events` with
TOKEN (holding ward:introspect), and reads each one's opening up to `: subscribed`. The
server's VmRSS is read before the first and after the last opened, and again after HOLD_S
seconds of idling (heartbeats flow; every subscriber must still be open). Then ADMIN creates a
token and revokes it, and the script times from the revoke's answer until every subscriber has
read its `token` event. Prints one RESULT line.
"""
import asyncio
import json
import sys
import time
import urllib.request


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def call(url, path, token, body):
    req = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req) as r:
        return json.load(r)


class Subscriber:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host, port, token):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(
            f"GET /v1/events HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.decode(errors="replace").splitlines()[0])
        sub = cls(reader, writer)
        await sub.until(b": subscribed")
        return sub

    async def until(self, needle):
        """Reads (chunked transfer encoding, left in place) until `needle` has been read."""
        seen = b""
        while needle not in seen:
            chunk = await self.reader.read(4096)
            if not chunk:
                raise RuntimeError("the stream ended")
            seen = seen[-len(needle):] + chunk
        return seen


async def main():
    url, pid, token, admin, n, hold = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
    host, port = url.removeprefix("http://").split(":")
    # One subscriber opened and closed first: lazy one-time allocations are not counted.
    warm = await Subscriber.open(host, int(port), token)
    warm.writer.close()
    await asyncio.sleep(0.5)
    before = rss_kb(pid)
    subs = []
    started = time.monotonic()
    for i in range(0, n, 100):  # in batches, as far as the listen backlog goes
        subs += await asyncio.gather(*(Subscriber.open(host, int(port), token) for _ in range(min(100, n - i))))
    opened_s = time.monotonic() - started
    after_open = rss_kb(pid)
    await asyncio.sleep(hold)
    after_hold = rss_kb(pid)
    alive = sum(1 for s in subs if not s.reader.at_eof())

    t = call(url, "/v1/tokens", admin, {"name": "fanout", "type": "pipeline"})
    needle = t["id"].encode()
    waits = [asyncio.create_task(s.until(needle)) for s in subs]
    call(url, f"/v1/tokens/{t['id']}/revoke", admin, {})
    revoked = time.monotonic()
    await asyncio.gather(*waits)
    fanout_ms = (time.monotonic() - revoked) * 1000
    per_sub = (after_hold - before) / n
    print(
        f"RESULT subscribers={n} alive_after_hold={alive} opened_s={opened_s:.1f} rss_before_kb={before} "
        f"rss_open_kb={after_open} rss_after_hold_kb={after_hold} kb_per_subscriber={per_sub:.1f} "
        f"fanout_all_ms={fanout_ms:.1f}"
    )
    for s in subs:
        s.writer.close()


asyncio.run(main())
