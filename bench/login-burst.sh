#!/usr/bin/env bash
# bench/login-burst.sh — memory of a login burst (issue 9, finding 14).
#
# Starts a release `ward server` behind a "trusted proxy" (trusted_proxies = 127.0.0.1/32, so
# X-Forwarded-For names the client), fires BURST (256) concurrent wrong passwords from ADDRS
# (16) addresses, and prints the server's RSS: idle before, peak (VmHWM) and settled SETTLE
# seconds after the burst, plus how the burst was answered (401 checked, 429 throttled,
# 503 over the hashing bound). The same run is made with each binary in ALLOCATORS:
#   mimalloc  target/release/ward as built (mimalloc is ward's global allocator)
#   glibc     the same source built with `--features system-alloc` (glibc malloc)
# Knobs: BURST, ADDRS, SETTLE (s), ROUNDS (bursts per server, default 2), HASHES (sets
# login.max_concurrent_hashes; default: the server's, one per core), NO_BUILD=1 (use the
# binaries already in $WORK_BIN), WARD_BENCH_PASSWORD.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
BURST=${BURST:-256}
ADDRS=${ADDRS:-16}
SETTLE=${SETTLE:-10}
ROUNDS=${ROUNDS:-2}
PASSWORD=${WARD_BENCH_PASSWORD:-bench-admin-password-0123}
WORK_BIN=${WORK_BIN:-$REPO/target/login-burst}
for tool in curl python3; do command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }; done

mkdir -p "$WORK_BIN"
if [[ ${NO_BUILD:-0} != 1 ]]; then
  echo "building ward twice (mimalloc, then glibc malloc)..." >&2
  (cd "$REPO" && cargo build --release -p ward-cli --bin ward >&2 && cp target/release/ward "$WORK_BIN/ward-mimalloc")
  (cd "$REPO" && cargo build --release -p ward-cli --bin ward --features system-alloc >&2 &&
    cp target/release/ward "$WORK_BIN/ward-glibc")
  # Leave target/release/ward as the shipped (mimalloc) build.
  (cd "$REPO" && cargo build --release -p ward-cli --bin ward >&2)
fi

WORK=$(mktemp -d /tmp/ward-login-burst.XXXXXX)
PID=
cleanup() {
  if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then kill "$PID"; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mb() { awk -v k="$2" '$1 == k":" { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

run_one() {
  local alloc=$1 bin=$WORK_BIN/ward-$1 port dir=$WORK/$1 idle peak settled answers round
  [[ -x $bin ]] || { echo "no $bin (run without NO_BUILD=1)" >&2; exit 2; }
  mkdir -p "$dir"
  {
    echo '[server]'
    echo 'trusted_proxies = ["127.0.0.1/32"]'
    echo '[login]'
    echo 'hash_wait = "30s"'
    [[ -n ${HASHES:-} ]] && echo "max_concurrent_hashes = $HASHES"
    [[ -n ${HASHES:-} ]] && echo "hash_queue = $BURST"
    echo 'max_failures = 1000'
  } >"$dir/ward.toml"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  WARD_ADMIN_PASSWORD=$PASSWORD "$bin" server --listen "127.0.0.1:$port" --data-dir "$dir" \
    --config "$dir/ward.toml" >"$dir/log" 2>&1 &
  PID=$!
  for _ in $(seq 1 300); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz") == 200 ]] && break
    kill -0 "$PID" 2>/dev/null || { tail "$dir/log" >&2; exit 1; }
    sleep 0.1
  done
  # One good login first, so the idle figure includes a warmed-up server.
  curl -sf -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" "http://127.0.0.1:$port/v1/login"
  sleep 2
  idle=$(mb "$PID" VmRSS)
  for round in $(seq 1 "$ROUNDS"); do
    answers=$(python3 - "$port" "$BURST" "$ADDRS" "$round" <<'PY'
import collections, http.client, json, sys, threading
port, burst, addrs, rnd = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
counts = collections.Counter()
lock = threading.Lock()
barrier = threading.Barrier(burst)
def one(i):
    body = json.dumps({"username": "admin", "password": f"wrong-{rnd}-{i}"})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    barrier.wait()
    try:
        conn.request("POST", "/v1/login", body, {"Content-Type": "application/json",
                     "X-Forwarded-For": f"198.51.100.{i % addrs + 1}"})
        status = conn.getresponse().status
    except Exception:
        status = "error"
    with lock:
        counts[status] += 1
threads = [threading.Thread(target=one, args=(i,)) for i in range(burst)]
[t.start() for t in threads]
[t.join() for t in threads]
print(" ".join(f"{k}:{v}" for k, v in sorted(counts.items(), key=str)))
PY
)
    echo "  $alloc round $round: answers $answers, rss now $(mb "$PID" VmRSS) MB" >&2
  done
  peak=$(mb "$PID" VmHWM)
  sleep "$SETTLE"
  settled=$(mb "$PID" VmRSS)
  echo "RESULT alloc=$alloc burst=$BURST addrs=$ADDRS rounds=$ROUNDS idle_mb=$idle peak_mb=$peak settled_mb=$settled answers=$answers"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
}

for alloc in ${ALLOCATORS:-mimalloc glibc}; do run_one "$alloc"; done
