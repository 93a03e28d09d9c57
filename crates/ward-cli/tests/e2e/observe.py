"""HTTP and Prometheus helpers for the observability tests (e2e/observe.rs).

  observe.py scrape URL          GET URL, parse it with prometheus_client's
                                 parser; print {"status","samples","text"}
  observe.py get URL [H: V]...   GET URL with headers; print {"status","headers"}

A body the parser refuses raises, and the script exits non-zero.
"""

import json
import sys
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def fetch(url, headers):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def main():
    command, url = sys.argv[1], sys.argv[2]
    if command == "scrape":
        status, _, body = fetch(url, {})
        samples = [
            {"name": s.name, "labels": s.labels, "value": s.value}
            for family in text_string_to_metric_families(body)
            for s in family.samples
        ]
        print(json.dumps({"status": status, "samples": samples, "text": body}))
    elif command == "get":
        headers = dict(h.split(": ", 1) for h in sys.argv[3:])
        status, answer, _ = fetch(url, headers)
        print(json.dumps({"status": status, "headers": {k.lower(): v for k, v in answer.items()}}))
    else:
        sys.exit(f"unknown command {command}")


main()
