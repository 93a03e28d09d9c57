#!/usr/bin/env bash
# bench/sdk.sh — issue 15: the example resource server (ward-client's Verifier and tower
# layer) in front of two `ward server` nodes on one PostgreSQL database (a fresh one,
# dropped at the end); the service subscribes to node B, every change is made on node A.
#
#   bench/sdk.sh                       # 200 revocations, 50 key retirements, 64 connections
#   N=200 KEYS=50 CONNS=64 DUR=10s PG=postgres://postgres@127.0.0.1:5432 bench/sdk.sh
#
# 1. req/s through the layer (GET /stacks: VerifyLayer + RequireScopes, a cache hit each)
#    vs without it (GET /public, same process, same JSON) at CONNS connections (wrk).
# 2. revoke acknowledged by A -> first 401 from the service, p99 over N (bench/sdk.py).
# 3. key retired on A -> first 401 for a token it signed, p99 over KEYS.
# The in-process figure (a cache hit, ns) is `cargo bench -p ward-client`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${N:-200}
KEYS=${KEYS:-50}
CONNS=${CONNS:-64}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
SERVICE_BIN=${SERVICE_BIN:-$REPO/target/release/resource-server}
if [[ ! -x $SERVICE_BIN ]]; then
  echo "building resource-server (cargo build --release -p resource-server)..." >&2
  (cd "$REPO" && cargo build --release -p resource-server >&2)
fi
command -v psql >/dev/null || { echo "psql not found (apt-get install -y postgresql-client)" >&2; exit 2; }
psql "$PG/postgres" -Atqc 'select 1' >/dev/null ||
  { echo "PostgreSQL does not answer at $PG (see docs/storage.md to start one)" >&2; exit 2; }

db=ward_bench_sdk_$$_$RANDOM
psql "$PG/postgres" -qc "CREATE DATABASE $db" >/dev/null
EXIT_HOOKS+=("psql '$PG/postgres' -qc 'DROP DATABASE IF EXISTS $db WITH (FORCE)' >/dev/null")
cat >"$WORK/ward.toml" <<'TOML'
[[scopes]]
name = "read:stacks"
description = "List and read stacks"
risk = "low"
TOML

log "sdk: nodes A and B on database $db; load: $(cut -d' ' -f1-3 /proc/loadavg)"
WARD_MASTER_KEY=$(head -c32 /dev/urandom | base64)
export WARD_MASTER_KEY
ward_start A "$WORK/a" --database-url "$PG/$db" --config "$WORK/ward.toml"
ward_start B "$WORK/b" --database-url "$PG/$db" --config "$WORK/ward.toml"
admin=$(login "$URL_A")
read -r introspect _ < <(create_token "$URL_A" "$admin" sdk-service)
reader=$(curl -sf -X POST -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d '{"name":"sdk-reader","type":"pipeline","scopes":["read:stacks"],"ttl":"1d"}' "$URL_A/v1/tokens" | json_get token)

port=$(free_port)
WARD_TOKEN=$introspect "$SERVICE_BIN" --ward "$URL_B" --listen "127.0.0.1:$port" --staleness 15 \
  >>"$WORK/service.log" 2>&1 &
PID_S=$!
PIDS+=("$PID_S")
SERVICE=http://127.0.0.1:$port
for _ in $(seq 1 100); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$SERVICE/ready") == 200 ]] && break
  sleep 0.1
done
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $reader" "$SERVICE/stacks") == 200 ]] ||
  { echo "the service does not accept the reader token; its log:" >&2; tail "$WORK/service.log" >&2; exit 1; }

log "sdk: req/s with and without the layer, $CONNS connections, $DUR each"
without=$(wrk_run "without layer (GET /public)" "$CONNS" "$LUA/service.lua" "$SERVICE" SERVICE_PATH=/public BEARER="$reader")
with=$(wrk_run "with layer (GET /stacks)" "$CONNS" "$LUA/service.lua" "$SERVICE" SERVICE_PATH=/stacks BEARER="$reader")
echo "$without"
echo "$with"
rps_without=$(field rps "$without") rps_with=$(field rps "$with")
layer_ratio=$(ratio "$rps_with" "$rps_without")
echo "RATIO with layer / without = $layer_ratio"
echo "service: $(curl -s "$SERVICE/ready")"

log "sdk: $N revocations and $KEYS key retirements on A, service subscribed to B"
out=$(python3 "$BENCH_DIR/sdk.py" "$URL_A" "$SERVICE" "$admin" "$N" "$KEYS")
grep -v '^RESULT' <<<"$out"
res=$(grep '^RESULT' <<<"$out")
echo "service after: $(curl -s "$SERVICE/ready")"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
target "resource server req/s with layer / without (c=$CONNS)" "$layer_ratio" ">=" 0.9 "$rps_with / $rps_without rps"
target "revoke on A -> first rejection by the service on B, p99 (ms, n=$N)" "$(field revoke_p99_ms "$res")" "<=" 50 \
  "p50 $(field revoke_p50_ms "$res") ms; one cached request $(field rt_p50_ms "$res") ms"
target "key retired -> its token rejected, p99 (ms, n=$KEYS)" "$(field key_p99_ms "$res")" "<=" 50 \
  "p50 $(field key_p50_ms "$res") ms"
