#!/usr/bin/env bash
# bench/verify.sh — HTTP verify throughput and latency against two baselines from the same run:
# GET /healthz of the same ward server (this machine's HTTP limit) and OpenBao's token lookup
# (../shared/bench/openbao.sh, durable raft storage).
#
#   bench/verify.sh                       # 100 k tokens, 16 and 64 connections, 10 s each
#   TOKENS=100000 SAMPLE=10000 CONNS="16 64" DUR=10s bench/verify.sh
#
# The store is seeded with $TOKENS tokens (bench/seed.py); wrk cycles through $SAMPLE of them,
# each request a different token, with a caller token holding ward:introspect. Prints one line
# per case, the ratios, and TARGET lines (collected by bench/run-all.sh). Loopback only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
TOKENS=${TOKENS:-100000}
SAMPLE=${SAMPLE:-10000}
CONNS=${CONNS:-"16 64"}
SKIP_OPENBAO=${SKIP_OPENBAO:-0}

dir=$WORK/data
log "verify: seeding $TOKENS tokens; $(audit_note)"
seeded_start S "$dir" "$TOKENS" "$SAMPLE" bench-caller
export BEARER=$CALLER TOKENS_FILE=$WORK/tokens

log "verify: warming up (not measured)"
DUR=3s wrk_run warmup 64 "$LUA/verify.lua" "$URL_S" TOKENS="$TOKENS_FILE" >/dev/null
DUR=2s wrk_run warmup 64 "$LUA/healthz.lua" "$URL_S" >/dev/null
settle S

declare -A R
for c in $CONNS; do
  log "verify: healthz and verify at c=$c for $DUR each"
  R[healthz_$c]=$(wrk_server S "ward healthz" "$c" "$LUA/healthz.lua" "$URL_S")
  echo "${R[healthz_$c]}"
  R[verify_$c]=$(wrk_server S "ward verify" "$c" "$LUA/verify.lua" "$URL_S" TOKENS="$TOKENS_FILE")
  echo "${R[verify_$c]}"
done
echo "ward server after the runs: $(rss S)"
audit_events=$(python3 - "$dir/ward.db" <<'PY'
import sqlite3, sys
try:
    print(sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True).execute("SELECT count(*) FROM audit_events").fetchone()[0])
except Exception as e:
    print(f"n/a ({e})")
PY
)
echo "audit events in the store: $audit_events; $(audit_note)"
ward_stop S

if ((SKIP_OPENBAO)); then
  log "verify: OpenBao skipped (SKIP_OPENBAO=1)"
else
  log "verify: OpenBao lookup (openbao.sh) at $CONNS"
  while read -r line; do
    echo "$line"
    [[ $line == "openbao lookup c="* ]] || continue
    c=$(sed -n 's/.* c=\([0-9]*\) .*/\1/p' <<<"$line")
    R[openbao_$c]=$line
  done < <(openbao lookup "$CONNS")
fi

echo
# sustained = requests / time until the server was idle again (it still writes the audit
# events of a run after wrk stops); OpenBao has no audit device enabled, so its rate is its rate
printf '%-6s %11s %11s %11s %11s %15s %15s %12s %15s\n' conns verify_rps sustained healthz_rps openbao_rps \
  verify/healthz sustained/hlthz p99_v/p99_h verify/openbao
for c in $CONNS; do
  v=${R[verify_$c]} h=${R[healthz_$c]} o=${R[openbao_$c]:-}
  rv=$(field rps "$v") sv=$(field sustained_rps "$v") rh=$(field rps "$h") ro=$(field rps "$o")
  rr=$(ratio "$rv" "$rh") sr=$(ratio "$sv" "$rh") orr=$(ratio "$rv" "${ro:-0}") sor=$(ratio "$sv" "${ro:-0}")
  pr=$(ratio "$(field p99_ms "$v")" "$(field p99_ms "$h")")
  printf '%-6s %11s %11s %11s %11s %15s %15s %12s %15s\n' "$c" "$rv" "$sv" "$rh" "${ro:-n/a}" "$rr" "$sr" "$pr" "$orr"
  echo "RATIO verify c=$c verify/healthz_rps=$rr sustained/healthz_rps=$sr verify/healthz_p99=$pr" \
    "verify/openbao_rps=$orr sustained/openbao_rps=$sor"
  for k in verify healthz; do
    [[ $(field errors "${R[${k}_$c]}") == 0 ]] || echo "WARNING: $k at c=$c had errors: ${R[${k}_$c]}" >&2
  done
  if [[ $c == 64 ]]; then
    target "verify req/s / healthz req/s (c=64)" "$rr" ">=" 0.8 "$rv vs $rh req/s"
    target "… sustained, audit backlog drained (c=64)" "$sr" ">=" 0.8 "$sv vs $rh req/s"
  fi
  target "verify p99 / healthz p99 (c=$c)" "$pr" "<=" 1.5 "$(field p99_ms "$v") vs $(field p99_ms "$h") ms"
  if [[ -n $o ]]; then
    target "verify req/s / OpenBao lookup req/s (c=$c)" "$orr" ">=" 10 "$rv vs $ro req/s; sustained $sor"
  fi
done
