# shellcheck shell=bash
# bench/lib.sh — shared by the bench/*.sh scripts (sourced, not run).
#
# Starts and stops `ward server` processes on 127.0.0.1 (free ports, fresh data dirs under
# one temp dir that is removed on exit), logs in, creates tokens, runs wrk with Lua scripts
# that print one RESULT line, and prints TARGET lines that bench/run-all.sh collects.
# Knobs: WARD (binary, default target/release/ward, built if missing), DUR (default 10s),
# WARD_BENCH_PASSWORD. DUR is in seconds ('10s').
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
WARD=${WARD:-$REPO/target/release/ward}
DUR=${DUR:-10s}
PASSWORD=${WARD_BENCH_PASSWORD:-bench-admin-password-0123}

for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool not found (wrk: apt-get install -y wrk)" >&2; exit 2; }
done
if [[ ! -x $WARD ]]; then
  echo "building ward (cargo build --release)..." >&2
  (cd "$REPO" && cargo build --release >&2)
fi

WORK=$(mktemp -d /tmp/ward-bench.XXXXXX)
PIDS=()
EXIT_HOOKS=()
cleanup() {
  local p h
  for p in "${PIDS[@]}"; do
    if kill -0 "$p" 2>/dev/null; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  for h in "${EXIT_HOOKS[@]}"; do eval "$h" || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[$(date +%T)] $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[sys.argv[1]])' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "nan"; else printf "%.2f\n", a / b }'; }
# field NAME LINE: the value of NAME=... in a RESULT-style line
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
# target LABEL VALUE OP LIMIT [NOTE]: prints "TARGET|label|value|op limit|PASS/FAIL|note"
target() {
  local verdict
  verdict=$(awk -v v="$2" -v op="$3" -v l="$4" 'BEGIN {
    if (v == "nan" || v == "") { print "FAIL"; exit }
    ok = (op == ">=") ? (v + 0 >= l + 0) : (v + 0 <= l + 0); print ok ? "PASS" : "FAIL" }')
  echo "TARGET|$1|$2|$3 $4|$verdict|${5:-}"
}

# The audit trail: always in the store; also the JSON-lines mirror when this binary has it.
# AUDIT_MIRROR=0 leaves the mirror off (for diagnosis only: the issue's figures have it on).
AUDIT_FLAG=0
if [[ ${AUDIT_MIRROR:-1} == 1 ]] && "$WARD" server --help 2>/dev/null | grep -q -- '--audit-log'; then AUDIT_FLAG=1; fi
audit_note() {
  if ((AUDIT_FLAG)); then echo "audit trail on (store + --audit-log JSON lines)"
  else echo "audit trail: store only (no --audit-log mirror)"; fi
}

# ward_start NAME DATADIR [extra server args...]: sets PORT_<NAME>, PID_<NAME>, URL_<NAME>
# $SERVER_ARGS (optional, split on spaces) is added to every server's command line,
# e.g. SERVER_ARGS="--config /tmp/ward.toml" to try a setting.
ward_start() {
  local name=$1 dir=$2; shift 2
  local port pid log_file=$WORK/$name.log
  local -a audit=() extra=()
  read -r -a extra <<<"${SERVER_ARGS:-}"
  ((AUDIT_FLAG)) && audit=(--audit-log "$WORK/$name.audit.jsonl")
  mkdir -p "$dir"
  port=$(free_port)
  WARD_ADMIN_PASSWORD=$PASSWORD "$WARD" server --listen "127.0.0.1:$port" --data-dir "$dir" \
    "${audit[@]}" "${extra[@]}" "$@" >>"$log_file" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 600); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "ward server $name exited; its log:" >&2; tail -20 "$log_file" >&2; exit 1
    fi
    if [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz") == 200 ]]; then
      printf -v "PORT_$name" '%s' "$port"; printf -v "PID_$name" '%s' "$pid"
      printf -v "URL_$name" '%s' "http://127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  echo "ward server $name did not answer /healthz within 60 s" >&2; exit 1
}

# ward_stop NAME: SIGTERM and wait (the server flushes and exits)
ward_stop() {
  local var=PID_$1
  local pid=${!var}
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# login URL -> session token of admin
login() {
  curl -sf -X POST -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" "$1/v1/login" | json_get token
}

# create_token URL BEARER NAME -> "token id"
create_token() {
  curl -sf -X POST -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
    -d "{\"name\":\"$3\",\"type\":\"pipeline\",\"scopes\":[\"ward:introspect\"]}" "$1/v1/tokens" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["token"], d["id"])'
}

# verify_code URL CALLER TOKEN -> VALID / REVOKED / ...
verify_code() {
  curl -sf -X POST -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
    -d "{\"token\":\"$3\"}" "$1/v1/verify" | json_get code
}

# expect_valid URL CALLER FILE: the first three tokens of FILE must verify VALID
expect_valid() {
  local t code
  for t in $(head -3 "$3"); do
    code=$(verify_code "$1" "$2" "$t")
    [[ $code == VALID ]] || { echo "a seeded token answers $code, not VALID: seeding is broken" >&2; exit 1; }
  done
}

# seeded_start NAME DIR TOKENS SAMPLE CALLER_NAME: server NAME on DIR with TOKENS tokens seeded
# (bench/seed.py; SAMPLE of them listed in $WORK/tokens) and a caller token holding
# ward:introspect in $CALLER; the first tokens of the sample are checked to verify VALID.
seeded_start() {
  local name=$1 dir=$2 tokens=$3 sample=$4 caller_name=$5 admin url_var=URL_$1
  ward_start "$name" "$dir"
  admin=$(login "${!url_var}")
  read -r CALLER _ < <(create_token "${!url_var}" "$admin" "$caller_name")
  [[ -n $CALLER ]] || { echo "could not create the caller token" >&2; exit 1; }
  ward_stop "$name"
  python3 "$BENCH_DIR/seed.py" "$dir/ward.db" "$tokens" --sample "$WORK/tokens" --sample-size "$sample"
  ward_start "$name" "$dir"
  expect_valid "${!url_var}" "$CALLER" "$WORK/tokens"
}

# rss NAME -> "rss_mb=… hwm_mb=…" of a running server
rss() {
  local var=PID_$1
  awk '/^VmRSS/ { r = $2 } /^VmHWM/ { h = $2 } END { printf "rss_mb=%.0f hwm_mb=%.0f\n", r / 1024, h / 1024 }' \
    "/proc/${!var}/status"
}

# --- wrk (the Lua scripts are in bench/lua; $BEARER is the bearer token they send) ---------
LUA=$BENCH_DIR/lua

# wrk_run LABEL CONNS LUA URL [ENV=VAL...]: prints "LABEL c=N rps=… p50_ms=… p99_ms=… errors=…"
wrk_run() {
  local label=$1 c=$2 script=$3 url=$4; shift 4
  local t=2 out
  ((c < 2)) && t=1
  out=$(env THREADS=$t LUA_DIR="$LUA" "$@" wrk -t$t -c"$c" -d"$DUR" --latency -s "$script" "$url" 2>&1 |
    grep '^RESULT' || echo "RESULT rps=0 p50_ms=0 p99_ms=0 errors=-1")
  echo "$label c=$c ${out#RESULT }"
}

# settle NAME: wait until server NAME is idle (its deferred work done)
settle() { local var=PID_$1; python3 "$BENCH_DIR/procstat.py" settle "${!var}" >/dev/null; }

# wrk_server NAME LABEL CONNS LUA URL [ENV=VAL...]: wrk_run against server NAME, plus the
# server's CPU time per request by thread, counted until the server is idle again (work it
# deferred, such as audit batches, belongs to this run; idle_after_s says how long that took).
# With DB_CPU set (a database name), also the CPU of the PostgreSQL backends whose command
# line names it (db_cpu_us_per_req; PostgreSQL's shared WAL writer and checkpointer excluded).
wrk_server() {
  local var=PID_$1 line settled sustained cpu; shift
  python3 "$BENCH_DIR/procstat.py" snap "${!var}" >"$WORK/cpu.before"
  [[ -z ${DB_CPU:-} ]] || python3 "$BENCH_DIR/procstat.py" snap "cmdline:$DB_CPU" >"$WORK/db.before"
  line=$(wrk_run "$@")
  settled=$(python3 "$BENCH_DIR/procstat.py" settle "${!var}")
  python3 "$BENCH_DIR/procstat.py" snap "${!var}" >"$WORK/cpu.after"
  [[ -z ${DB_CPU:-} ]] || python3 "$BENCH_DIR/procstat.py" snap "cmdline:$DB_CPU" >"$WORK/db.after"
  # sustained: the requests over the time until the server was idle again (minus the 1 s idle check)
  sustained=$(awk -v r="$(field rps "$line")" -v d="${DUR%s}" -v s="$settled" \
    'BEGIN { x = s - 1; if (x < 0) x = 0; printf "%.0f", r * d / (d + x) }')
  cpu=$(python3 "$BENCH_DIR/procstat.py" diff "$WORK/cpu.before" "$WORK/cpu.after" "$(($(field rps "$line") * ${DUR%s}))")
  if [[ -n ${DB_CPU:-} ]]; then # also the PostgreSQL backends serving the bench database
    cpu+=" $(python3 "$BENCH_DIR/procstat.py" diff "$WORK/db.before" "$WORK/db.after" \
      "$(($(field rps "$line") * ${DUR%s}))" db_cpu_us_per_req)"
  fi
  echo "$line idle_after_s=$settled sustained_rps=$sustained $cpu"
}

# openbao CASES CONNS: runs ../shared/bench/openbao.sh (or $OPENBAO_SH) in this run
openbao() {
  local sh=${OPENBAO_SH:-$REPO/../shared/bench/openbao.sh}
  [[ -x $sh ]] || { echo "openbao.sh not found at $sh (set OPENBAO_SH)" >&2; exit 2; }
  CASES=$1 CONNS=$2 DUR=$DUR PORT=${BAO_PORT:-18200} "$sh"
}
