#!/usr/bin/env bash
# bench/scale.sh — does the size of the store matter? Verify throughput and server memory
# with 10 k and with 1 M tokens, measured in the same run.
#
#   bench/scale.sh                          # 10 k vs 1 M tokens, c=64, 2 alternating rounds
#   SMALL=10000 LARGE=1000000 SAMPLE=10000 CONNS=64 ROUNDS=2 DUR=10s bench/scale.sh
#
# Two servers, each on its own SQLite store seeded by bench/seed.py; both run during the whole
# measurement but only one is loaded at a time, rounds alternate (small, large, small, …) so
# that drift on this shared machine hits both. wrk cycles through the same number ($SAMPLE)
# of distinct tokens on each. Memory: VmRSS after the runs and VmHWM (peak) from
# /proc/PID/status. Loopback only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SMALL=${SMALL:-10000}
LARGE=${LARGE:-1000000}
SAMPLE=${SAMPLE:-10000}
CONNS=${CONNS:-64}
ROUNDS=${ROUNDS:-2}

log "scale: $SMALL vs $LARGE tokens; $(audit_note)"
declare -A CALLERS
for size in small large; do
  n=$SMALL; [[ $size == large ]] && n=$LARGE
  ward_start "$size" "$WORK/$size"
  admin=$(login "$(eval echo "\$URL_$size")")
  read -r CALLERS[$size] _ < <(create_token "$(eval echo "\$URL_$size")" "$admin" bench-caller)
  ward_stop "$size"
  log "scale: seeding $n tokens ($size)"
  python3 "$BENCH_DIR/seed.py" "$WORK/$size/ward.db" "$n" --sample "$WORK/tokens.$size" --sample-size "$SAMPLE"
  echo "$size store: $n tokens, $(du -m "$WORK/$size/ward.db" | cut -f1) MB on disk"
done
for size in small large; do
  ward_start "$size" "$WORK/$size"
  url=URL_$size
  expect_valid "${!url}" "${CALLERS[$size]}" "$WORK/tokens.$size"
  echo "$size server at start: $(rss "$size")"
done

declare -A SUM SUS
for c in $CONNS; do
  for size in small large; do
    url=URL_$size
    BEARER=${CALLERS[$size]} DUR=3s wrk_run warmup "$c" "$LUA/verify.lua" "${!url}" TOKENS="$WORK/tokens.$size" >/dev/null
    settle "$size"
  done
  for round in $(seq 1 "$ROUNDS"); do
    for size in small large; do
      url=URL_$size
      log "scale: round $round, $size, c=$c"
      line=$(BEARER=${CALLERS[$size]} wrk_server "$size" "ward verify $size" "$c" "$LUA/verify.lua" "${!url}" TOKENS="$WORK/tokens.$size")
      echo "$line round=$round"
      [[ $(field errors "$line") == 0 ]] || echo "WARNING: errors in: $line" >&2
      SUM[${size}_$c]=$(( ${SUM[${size}_$c]:-0} + $(field rps "$line") ))
      SUS[${size}_$c]=$(( ${SUS[${size}_$c]:-0} + $(field sustained_rps "$line") ))
    done
  done
done

echo
declare -A MEM
for size in small large; do
  MEM[$size]=$(rss "$size")
  echo "ward server, $size store, after the runs: ${MEM[$size]}"
done
for c in $CONNS; do
  s=$(( ${SUM[small_$c]} / ROUNDS )) l=$(( ${SUM[large_$c]} / ROUNDS ))
  r=$(ratio "$l" "$s") ss=$(( ${SUS[small_$c]} / ROUNDS )) sl=$(( ${SUS[large_$c]} / ROUNDS ))
  echo "RATIO scale c=$c verify_rps small=$s large=$l large/small=$r;" \
    "sustained (audit drained) small=$ss large=$sl large/small=$(ratio "$sl" "$ss")"
  target "verify req/s with $LARGE tokens / with $SMALL (c=$c)" "$r" ">=" 0.9 "$l vs $s req/s"
done
hwm=$(field hwm_mb "${MEM[large]}")
target "server peak RSS with $LARGE tokens (MB)" "$hwm" "<=" 500 "VmHWM; ${SMALL}: $(field hwm_mb "${MEM[small]}") MB"
