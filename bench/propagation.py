#!/usr/bin/env python3
"""Revocation propagation between two ward nodes (driven by bench/propagation.sh).

    propagation.py URL_A URL_B ADMIN_TOKEN CALLER_TOKEN N [LOCAL]

Creates N tokens on node A. For each: verifies it on node B until VALID (so B has seen
it, and would have cached it), revokes it on A, and from A's acknowledgement polls B's
verify back to back until the answer is not VALID. Prints p50/p99/max of that delay.
Baseline in the same run: LOCAL tokens revoked on A and polled on A itself, and the
round trip of one verify on B (the resolution of the measurement). The RESULT line also
counts the requests sent to each node (for the server CPU time per request).
"""
import http.client
import json
import math
import statistics
import sys
import time
from urllib.parse import urlparse

TIMEOUT_S = 5.0
REQUESTS = {}  # url -> requests sent to that node (for the server CPU time per request)


class Node:
    def __init__(self, url, bearer):
        u = urlparse(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        self.headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"}
        self.url = url

    def post(self, path, body):
        REQUESTS[self.url] = REQUESTS.get(self.url, 0) + 1
        self.conn.request("POST", path, body=json.dumps(body) if body is not None else b"", headers=self.headers)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)

    def verify(self, token):
        status, body = self.post("/v1/verify", {"token": token})
        if status != 200:
            raise SystemExit(f"verify answered HTTP {status}: {body}")
        return body["code"]


def pct(values, p):
    s = sorted(values)
    return s[min(len(s), max(1, math.ceil(p / 100 * len(s)))) - 1]  # nearest rank


def measure(creator, poller, verifier, tokens):
    delays, first_poll, timeouts = [], 0, 0
    for token, tid in tokens:
        deadline = time.monotonic() + TIMEOUT_S
        while verifier.verify(token) != "VALID":  # warm: the node has seen it valid
            if time.monotonic() > deadline:
                raise SystemExit("a new token never answered VALID on the polled node")
        status, body = creator.post(f"/v1/tokens/{tid}/revoke", None)
        acked = time.perf_counter()
        if status != 200:
            raise SystemExit(f"revoke answered HTTP {status}: {body}")
        polls = 0
        while True:
            code = poller.verify(token)
            polls += 1
            now = time.perf_counter()
            if code != "VALID":
                break
            if now - acked > TIMEOUT_S:
                timeouts += 1
                break
        delays.append((now - acked) * 1000)
        first_poll += polls == 1
    return delays, first_poll, timeouts


def summary(label, delays, first_poll, timeouts):
    line = (f"{label} n={len(delays)} p50_ms={statistics.median(delays):.2f} p99_ms={pct(delays, 99):.2f} "
            f"max_ms={max(delays):.2f} first_poll_rejected={first_poll} timeouts={timeouts}")
    print(line, flush=True)
    return pct(delays, 99)


def main():
    url_a, url_b, admin, caller, n = sys.argv[1:6]
    n, local = int(n), int(sys.argv[6]) if len(sys.argv) > 6 else 50
    a_admin, a_caller, b_caller = Node(url_a, admin), Node(url_a, caller), Node(url_b, caller)
    tokens = []
    for i in range(n + local):
        status, body = a_admin.post("/v1/tokens", {"name": f"prop-{i}", "type": "pipeline",
                                                   "scopes": ["ward:introspect"]})
        if status != 201:
            raise SystemExit(f"create answered HTTP {status}: {body}")
        tokens.append((body["token"], body["id"]))
    print(f"created {len(tokens)} tokens on node A", file=sys.stderr)

    rtts = []
    for token, _ in tokens[:200]:
        t = time.perf_counter()
        b_caller.verify(token)
        rtts.append((time.perf_counter() - t) * 1000)
    print(f"ward verify round trip on node B p50_ms={statistics.median(rtts):.3f} p99_ms={pct(rtts, 99):.3f}")

    base = summary("ward revoke-to-reject same node (A->A)", *measure(a_admin, a_caller, a_caller, tokens[n:]))
    p99 = summary("ward propagation A->B", *measure(a_admin, b_caller, b_caller, tokens[:n]))
    print(f"RESULT p99_ms={p99:.2f} same_node_p99_ms={base:.2f} "
          f"requests_a={REQUESTS.get(url_a, 0)} requests_b={REQUESTS.get(url_b, 0)}")


if __name__ == "__main__":
    main()
