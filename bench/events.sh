#!/usr/bin/env bash
# bench/events.sh — idle subscribers of GET /v1/events on one ward node (issue 15: >= 1,000
# idle subscribers per node, <= 50 KB of server memory each).
#
#   bench/events.sh                      # 1,000 and 4,000 subscribers, 8 s idle each
#   SUBSCRIBERS="1000 4000" HOLD=8 bench/events.sh
#
# Per case: a fresh server (SQLite; restarted after the login that made the tokens, so that no
# argon2 memory sits in the baseline) whose config lifts the connection bounds and
# [events] max_subscribers above the count; bench/events.py opens the subscribers from one
# asyncio process, reads the server's VmRSS before and after (and after HOLD seconds of idle
# streams, heartbeats included, every subscriber still open), then times one revocation
# reaching every subscriber. The baseline is the same server's RSS, in the same run, just
# before the subscribers open. Prints the figures and TARGET lines (bench/run-all.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SUBSCRIBERS=${SUBSCRIBERS:-"1000 4000"}
HOLD=${HOLD:-8}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

declare -A R
for n in $SUBSCRIBERS; do
  cap=$((n + 64))
  config=$WORK/events-$n.toml
  printf '[server]\nmax_connections = %d\nmax_connections_per_address = %d\n[events]\nmax_subscribers = %d\n' \
    "$cap" "$cap" "$cap" >"$config"
  ward_start S "$WORK/data-$n" --config "$config"
  admin=$(login "$URL_S")
  read -r watcher _ < <(create_token "$URL_S" "$admin" "watcher-$n")
  # A fresh process for the measurement: the login's argon2 buffers, which the allocator keeps
  # resident and would hand to the subscribers, are not in its baseline.
  ward_stop S
  ward_start S "$WORK/data-$n" --config "$config"
  log "events: $n idle subscribers, held ${HOLD}s"
  R[$n]=$(python3 "$BENCH_DIR/events.py" "$URL_S" "$PID_S" "$watcher" "$admin" "$n" "$HOLD")
  echo "${R[$n]}"
  ward_stop S
done

echo
printf '%-12s %8s %14s %14s %14s %10s %14s\n' subscribers alive rss_before_mb rss_after_mb kb_per_sub target fanout_all_ms
for n in $SUBSCRIBERS; do
  r=${R[$n]}
  printf '%-12s %8s %14.1f %14.1f %14s %10s %14s\n' "$n" "$(field alive_after_hold "$r")" \
    "$(awk -v k="$(field rss_before_kb "$r")" 'BEGIN { print k / 1024 }')" \
    "$(awk -v k="$(field rss_after_hold_kb "$r")" 'BEGIN { print k / 1024 }')" \
    "$(field kb_per_subscriber "$r")" "<= 50" "$(field fanout_all_ms "$r")"
  [[ $(field alive_after_hold "$r") == "$n" ]] || echo "WARNING: only $(field alive_after_hold "$r") of $n subscribers stayed open" >&2
  target "events: server KB per idle subscriber ($n subscribers)" "$(field kb_per_subscriber "$r")" "<=" 50 \
    "RSS after minus RSS before, same server, same run"
  target "events: idle subscribers held open on one node" "$(field alive_after_hold "$r")" ">=" 1000
done
