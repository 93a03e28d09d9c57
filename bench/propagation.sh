#!/usr/bin/env bash
# bench/propagation.sh — how long a revocation on node A takes to be enforced on node B, two
# `ward server` processes on one PostgreSQL database (a fresh one, dropped at the end).
#
#   bench/propagation.sh                    # 200 revocations
#   N=200 LOCAL=50 PG=postgres://postgres@127.0.0.1:5432 bench/propagation.sh
#
# For each of N tokens created on A: verify on B until VALID (B has seen it), revoke on A,
# then poll B's verify back to back from A's acknowledgement until it is not VALID
# (bench/propagation.py). Baselines in the same run: the same measure on one node (LOCAL
# tokens, revoke on A, poll A) and one verify round trip on B. Also each node's server CPU
# time per request it answered, and the database backends' per request to either node
# (bench/procstat.py; raise N for a finer figure: the clock tick is 10 ms). Loopback only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${N:-200}
LOCAL=${LOCAL:-50}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
command -v psql >/dev/null || { echo "psql not found (apt-get install -y postgresql-client)" >&2; exit 2; }
psql "$PG/postgres" -Atqc 'select 1' >/dev/null ||
  { echo "PostgreSQL does not answer at $PG (see docs/storage.md to start one)" >&2; exit 2; }

db=ward_bench_prop_$$_$RANDOM
psql "$PG/postgres" -qc "CREATE DATABASE $db" >/dev/null
EXIT_HOOKS+=("psql '$PG/postgres' -qc 'DROP DATABASE IF EXISTS $db WITH (FORCE)' >/dev/null")
url=$PG/$db

log "propagation: nodes A and B on database $db; $(audit_note)"
# every node of a cluster has the same master key (docs/multi-node.md)
WARD_MASTER_KEY=$(head -c32 /dev/urandom | base64)
export WARD_MASTER_KEY
ward_start A "$WORK/a" --database-url "$url"
ward_start B "$WORK/b" --database-url "$url"
admin=$(login "$URL_A")
read -r caller _ < <(create_token "$URL_A" "$admin" bench-caller)
[[ -n $caller ]] || { echo "could not create the caller token" >&2; exit 1; }

log "propagation: $N revocations A->B, $LOCAL on A alone"
settle A; settle B
python3 "$BENCH_DIR/procstat.py" snap "$PID_A" >"$WORK/cpu.a.before"
python3 "$BENCH_DIR/procstat.py" snap "$PID_B" >"$WORK/cpu.b.before"
python3 "$BENCH_DIR/procstat.py" snap "cmdline: $db " >"$WORK/db.before"
out=$(python3 "$BENCH_DIR/propagation.py" "$URL_A" "$URL_B" "$admin" "$caller" "$N" "$LOCAL")
grep -v '^RESULT' <<<"$out"
res=$(grep '^RESULT' <<<"$out")
p99=$(field p99_ms "$res") base=$(field same_node_p99_ms "$res")
# each node's CPU time per request it answered (A: creates, revokes, same-node verifies;
# B: verifies), counted until both are idle again, as wrk_server does
settle A; settle B
python3 "$BENCH_DIR/procstat.py" snap "$PID_A" >"$WORK/cpu.a.after"
python3 "$BENCH_DIR/procstat.py" snap "$PID_B" >"$WORK/cpu.b.after"
python3 "$BENCH_DIR/procstat.py" snap "cmdline: $db " >"$WORK/db.after"
echo "node A requests=$(field requests_a "$res")" \
  "$(python3 "$BENCH_DIR/procstat.py" diff "$WORK/cpu.a.before" "$WORK/cpu.a.after" "$(field requests_a "$res")")"
echo "node B requests=$(field requests_b "$res")" \
  "$(python3 "$BENCH_DIR/procstat.py" diff "$WORK/cpu.b.before" "$WORK/cpu.b.after" "$(field requests_b "$res")")"
echo "database (its backends, both nodes) $(python3 "$BENCH_DIR/procstat.py" diff "$WORK/db.before" "$WORK/db.after" \
  "$(($(field requests_a "$res") + $(field requests_b "$res")))" db_cpu_us_per_req)"
echo "node A: $(rss A); node B: $(rss B)"
echo "RATIO propagation p99 A->B / same node = $(ratio "$p99" "$base"); p99 / target 100 ms = $(ratio "$p99" 100)"
target "revocation propagation A->B p99 (ms)" "$p99" "<=" 100 "same-node p99 $base ms"
