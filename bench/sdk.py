#!/usr/bin/env python3
"""Revocations reaching a service through ward's stream (driven by bench/sdk.sh).

    sdk.py URL_A SERVICE ADMIN_TOKEN N KEYS

The example resource server (SERVICE) is subscribed to node B; every change is made on
node A. Token revocation, N times: create a token on A, GET SERVICE/stacks with it until
200 (the service has cached it), revoke it on A, then from A's acknowledgement poll the
service back to back until it answers 401. Key retirement, KEYS times: mint on A, GET
SERVICE/whoami until 200, rotate the key, retire the one that signed it, poll until 401.
Baseline in the same run: one cached GET SERVICE/stacks round trip (the resolution).
Any 200 after the acknowledged change is fine (the stream has not arrived yet); the
figure is when the first refusal came. A 5xx fails the run.
"""
import http.client
import json
import statistics
import sys
import time
from urllib.parse import urlparse

TIMEOUT_S = 5.0


class Conn:
    def __init__(self, url, bearer=None):
        u = urlparse(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        self.bearer = bearer

    def call(self, method, path, body=None, bearer=None):
        headers = {"Content-Type": "application/json"}
        token = bearer or self.bearer
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data and data[:1] in (b"{", b"[") else None)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def until_refused(service, path, token):
    start = time.perf_counter()
    while True:
        status, _ = service.call("GET", path, bearer=token)
        if status == 401:
            return (time.perf_counter() - start) * 1000
        if status >= 500:
            raise SystemExit(f"the service answered {status} during the run")
        if time.perf_counter() - start > TIMEOUT_S:
            raise SystemExit("the service never refused within 5 s")


def until_ok(service, path, token):
    for _ in range(200):
        status, _ = service.call("GET", path, bearer=token)
        if status == 200:
            return
        time.sleep(0.01)
    raise SystemExit(f"{path} never answered 200")


def main():
    url_a, service_url, admin, n, keys = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    a = Conn(url_a, admin)
    service = Conn(service_url)

    revoke_ms = []
    for i in range(n):
        status, created = a.call("POST", "/v1/tokens", {"name": f"sdk-bench-{i}", "type": "pipeline",
                                                        "scopes": ["read:stacks"], "ttl": "1h"})
        assert status == 201, (status, created)
        until_ok(service, "/stacks", created["token"])
        status, _ = a.call("POST", f"/v1/tokens/{created['id']}/revoke")
        assert status == 200, status
        revoke_ms.append(until_refused(service, "/stacks", created["token"]))

    # resolution: one cached round trip through the service's layer
    status, created = a.call("POST", "/v1/tokens", {"name": "sdk-bench-rt", "type": "pipeline",
                                                    "scopes": ["read:stacks"], "ttl": "1h"})
    until_ok(service, "/stacks", created["token"])
    rt = []
    for _ in range(500):
        t = time.perf_counter()
        service.call("GET", "/stacks", bearer=created["token"])
        rt.append((time.perf_counter() - t) * 1000)

    key_ms = []
    for i in range(keys):
        status, minted = a.call("POST", "/v1/mint", {"agent": "sdk-bench", "scopes": ["read:stacks"], "ttl": "1h"})
        assert status in (200, 201), (status, minted)
        until_ok(service, "/whoami", minted["token"])
        status, _ = a.call("POST", "/v1/keys/rotate")
        assert status in (200, 201), status
        status, _ = a.call("POST", f"/v1/keys/{minted['kid']}/retire")
        assert status == 200, status
        key_ms.append(until_refused(service, "/whoami", minted["token"]))

    print(f"revoke on A -> first 401 from the service (subscribed to B), {n} revocations: "
          f"p50={statistics.median(revoke_ms):.1f} ms p99={pct(revoke_ms, 99):.1f} ms max={max(revoke_ms):.1f} ms")
    print(f"key retired on A -> its token's first 401, {keys} keys: "
          f"p50={statistics.median(key_ms):.1f} ms p99={pct(key_ms, 99):.1f} ms max={max(key_ms):.1f} ms")
    print(f"one cached request through the service: p50={statistics.median(rt):.2f} ms p99={pct(rt, 99):.2f} ms")
    print(f"RESULT revoke_p50_ms={statistics.median(revoke_ms):.1f} revoke_p99_ms={pct(revoke_ms, 99):.1f} "
          f"key_p50_ms={statistics.median(key_ms):.1f} key_p99_ms={pct(key_ms, 99):.1f} rt_p50_ms={statistics.median(rt):.2f}")


if __name__ == "__main__":
    main()
