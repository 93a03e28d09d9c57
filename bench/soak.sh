#!/usr/bin/env bash
# bench/soak.sh — memory over a long steady verify load (issue 12, "RSS under load").
#
# One `ward server` on SQLite (audit trail on, as in every bench): 32 connections verify
# 1,000 distinct tokens round robin for DUR, while a trickle creates a token and revokes
# the one created before it every TRICKLE seconds. Every 10 s it prints the server's RSS;
# at the end, the ratio of the final RSS to the RSS at minute 2 (the warm-up is over by
# then: cache full, pools open) and a TARGET line (final / minute-2 <= 1.10).
#
#   bench/soak.sh                              # 10 minutes
#   DUR=300s CONNS=32 TOKENS=1000 TRICKLE=1 bench/soak.sh
#   WARD=target/profiling/ward bench/soak.sh   # any build; heaptrack: see docs/PERFORMANCE.md
#
# DUR must be at least 130s (the reference point is t=120s).
set -euo pipefail
DUR=${DUR:-600s}
source "$(dirname "$0")/lib.sh"
CONNS=${CONNS:-32}
TOKENS=${TOKENS:-1000}
TRICKLE=${TRICKLE:-1}
EVERY=10
secs=${DUR%s}
((secs >= 130)) || { echo "DUR=$DUR: the soak needs at least 130s (RSS is compared with t=120s)" >&2; exit 2; }

dir=$WORK/data
log "soak: seeding $TOKENS tokens; $(audit_note)"
seeded_start S "$dir" "$TOKENS" "$TOKENS" soak-caller
admin=$(login "$URL_S")
export BEARER=$CALLER

# The trickle: create one token, revoke the previous one, every $TRICKLE s, until told to stop.
trickle() {
  local prev="" tok id n=0 failed=0
  while [[ ! -e $WORK/stop ]]; do
    if read -r tok id < <(create_token "$URL_S" "$admin" "soak-$n" 2>/dev/null) && [[ -n $id ]]; then
      if [[ -n $prev ]]; then
        curl -sf -o /dev/null -X POST -H "Authorization: Bearer $admin" "$URL_S/v1/tokens/$prev/revoke" ||
          failed=$((failed + 1))
      fi
      prev=$id n=$((n + 1))
    else
      failed=$((failed + 1))
    fi
    sleep "$TRICKLE"
  done
  echo "trickle: created=$n revoked=$((n > 0 ? n - 1 : 0)) failed=$failed" >"$WORK/trickle.out"
}

kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

log "soak: c=$CONNS verifying $TOKENS tokens for $DUR, a create+revoke every ${TRICKLE}s"
trickle &
TRICKLE_PID=$!
PIDS+=("$TRICKLE_PID")
wrk_run "soak verify" "$CONNS" "$LUA/verify.lua" "$URL_S" TOKENS="$WORK/tokens" >"$WORK/wrk.out" &
WRK_PID=$!
PIDS+=("$WRK_PID")

start=$(date +%s)
ref="" last=""
printf '%6s %9s %9s\n' t_s rss_mb hwm_mb
for ((t = EVERY; t <= secs; t += EVERY)); do
  wait_s=$((start + t - $(date +%s)))
  ((wait_s > 0)) && sleep "$wait_s"
  last=$(kb "$PID_S" VmRSS)
  printf '%6d %9s %9s\n' "$t" "$(mb "$last")" "$(mb "$(kb "$PID_S" VmHWM)")"
  ((t == 120)) && ref=$last
  echo "$t $last" >>"$WORK/rss.samples"
done
wait "$WRK_PID" || true
touch "$WORK/stop"
wait "$TRICKLE_PID" || true
cat "$WORK/wrk.out" "$WORK/trickle.out"
settle S
idle=$(kb "$PID_S" VmRSS)
ratio=$(awk -v a="$last" -v b="$ref" 'BEGIN { printf "%.3f", a / b }')
echo "RSS minute 2: $(mb "$ref") MB; final: $(mb "$last") MB; after the load, idle: $(mb "$idle") MB;" \
  "final/minute-2 = $ratio"
# Single samples swing by a few MB (allocator pages come and go): also the means of minute 2
# (t = 70..120 s) and of the last minute, and the least-squares slope from t = 120 s on.
awk -v end="$secs" '
  { t[NR] = $1; r[NR] = $2 / 1024 }
  $1 > 60 && $1 <= 120 { a += $2 / 1024; na++ }
  $1 > end - 60 { b += $2 / 1024; nb++ }
  $1 >= 120 { n++; sx += $1 / 60; sy += $2 / 1024; sxx += ($1 / 60) ^ 2; sxy += ($1 / 60) * $2 / 1024 }
  END {
    slope = (n > 1) ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0
    printf "RSS mean of minute 2: %.1f MB; mean of the last minute: %.1f MB; ratio %.3f; slope from minute 2: %+.2f MB/min\n",
      a / na, b / nb, (b / nb) / (a / na), slope
  }' "$WORK/rss.samples"
[[ $(field errors "$(cat "$WORK/wrk.out")") == 0 ]] || echo "WARNING: wrk had errors: $(cat "$WORK/wrk.out")" >&2
target "soak RSS final / minute 2 (c=$CONNS, $TOKENS tokens, $DUR)" "$ratio" "<=" 1.10 \
  "$(mb "$ref") -> $(mb "$last") MB"
ward_stop S
