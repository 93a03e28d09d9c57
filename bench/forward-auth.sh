#!/usr/bin/env bash
# bench/forward-auth.sh — GET /v1/forward-auth throughput against GET /healthz of the same
# ward server in the same run (issue 13: target >= 0.8 x healthz req/s at 64 connections).
#
#   bench/forward-auth.sh                      # 100 k tokens, 16 and 64 connections, 10 s each
#   TOKENS=100000 SAMPLE=10000 CONNS="16 64" DUR=10s bench/forward-auth.sh
#
# The server runs examples/ops.toml; the store is seeded with $TOKENS pipeline tokens holding
# container:read (bench/seed.py); wrk cycles through $SAMPLE of them, each request a different
# token asking about GET /containers (list_containers: allow), as nginx's auth_request would.
# Every request is an authorize decision with its audit event. Prints one line per case, the
# ratios, and TARGET lines (bench/run-all.sh collects them). Loopback only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
TOKENS=${TOKENS:-100000}
SAMPLE=${SAMPLE:-10000}
CONNS=${CONNS:-"16 64"}

dir=$WORK/data
ops=(--config "$REPO/examples/ops.toml")
log "forward-auth: seeding $TOKENS tokens; $(audit_note)"
ward_start S "$dir" "${ops[@]}"
ward_stop S
python3 "$BENCH_DIR/seed.py" "$dir/ward.db" "$TOKENS" --scopes '["container:read"]' \
  --sample "$WORK/tokens" --sample-size "$SAMPLE"
ward_start S "$dir" "${ops[@]}"
t=$(head -1 "$WORK/tokens")
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t" -H 'X-Original-Method: GET' \
  -H 'X-Original-URI: /containers' "$URL_S/v1/forward-auth")
[[ $code == 200 ]] || { echo "a seeded token answers $code, not 200: seeding is broken" >&2; exit 1; }
export TOKENS_FILE=$WORK/tokens

log "forward-auth: warming up (not measured)"
DUR=3s wrk_run warmup 64 "$LUA/forward-auth.lua" "$URL_S" TOKENS="$TOKENS_FILE" >/dev/null
DUR=2s wrk_run warmup 64 "$LUA/healthz.lua" "$URL_S" >/dev/null
settle S

declare -A R
for c in $CONNS; do
  log "forward-auth: healthz and forward-auth at c=$c for $DUR each"
  R[healthz_$c]=$(wrk_server S "ward healthz" "$c" "$LUA/healthz.lua" "$URL_S")
  echo "${R[healthz_$c]}"
  R[forward_$c]=$(wrk_server S "ward forward-auth" "$c" "$LUA/forward-auth.lua" "$URL_S" TOKENS="$TOKENS_FILE")
  echo "${R[forward_$c]}"
done
echo "ward server after the runs: $(rss S)"
ward_stop S

echo
printf '%-6s %12s %11s %11s %16s %16s %13s\n' conns forward_rps sustained healthz_rps forward/healthz \
  sustained/hlthz p99_f/p99_h
for c in $CONNS; do
  f=${R[forward_$c]} h=${R[healthz_$c]}
  rf=$(field rps "$f") sf=$(field sustained_rps "$f") rh=$(field rps "$h")
  rr=$(ratio "$rf" "$rh") sr=$(ratio "$sf" "$rh") pr=$(ratio "$(field p99_ms "$f")" "$(field p99_ms "$h")")
  printf '%-6s %12s %11s %11s %16s %16s %13s\n' "$c" "$rf" "$sf" "$rh" "$rr" "$sr" "$pr"
  echo "RATIO forward-auth c=$c forward/healthz_rps=$rr sustained/healthz_rps=$sr forward/healthz_p99=$pr"
  for k in forward healthz; do
    [[ $(field errors "${R[${k}_$c]}") == 0 ]] || echo "WARNING: $k at c=$c had errors: ${R[${k}_$c]}" >&2
  done
  if [[ $c == 64 ]]; then
    target "forward-auth req/s / healthz req/s (c=64)" "$rr" ">=" 0.8 "$rf vs $rh req/s"
    target "… sustained, audit backlog drained (c=64)" "$sr" ">=" 0.8 "$sf vs $rh req/s"
  fi
done
