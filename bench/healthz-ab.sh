#!/usr/bin/env bash
# bench/healthz-ab.sh — GET /healthz of several ward binaries on the same machine in one run,
# one after the other (A B A B with ROUNDS=2), each a fresh server: req/s and the server's CPU
# time per request. WITH_NGINX=1 adds nginx (1 worker, `return 200`) as a control: what a minimal
# HTTP server costs on this machine. Used to bisect the HTTP layer's own cost.
#
#   bench/healthz-ab.sh /tmp/ward-717290f target/profiling/ward      # C=64 DUR=10s ROUNDS=1
#   WITH_NGINX=1 ROUNDS=2 DUR=8s bench/healthz-ab.sh A B
set -euo pipefail
export WARD=$1 # lib.sh builds target/release/ward when WARD is unset: never here
source "$(dirname "$0")/lib.sh"
C=${C:-64}; ROUNDS=${ROUNDS:-1}
bins=("$@")
for r in $(seq 1 "$ROUNDS"); do
  for b in "${bins[@]}"; do
    WARD=$b
    AUDIT_FLAG=0; "$WARD" server --help 2>/dev/null | grep -q -- '--audit-log' && AUDIT_FLAG=1
    name=S$r$RANDOM
    ward_start "$name" "$WORK/d-$name"
    var=URL_$name
    DUR=2s wrk_run warmup "$C" "$LUA/healthz.lua" "${!var}" >/dev/null
    settle "$name"
    echo "round $r $(basename "$b") load=$(cut -d' ' -f1 /proc/loadavg) $(wrk_server "$name" "healthz" "$C" "$LUA/healthz.lua" "${!var}")"
    ward_stop "$name"
  done
  if [[ ${WITH_NGINX:-0} == 1 ]]; then
    p=$(free_port)
    mkdir -p "$WORK/ngx"
    cat >"$WORK/ngx/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/ngx/nginx.pid; error_log $WORK/ngx/error.log;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$p;
  location /healthz { default_type application/json; return 200 '{"status":"ok"}'; } } }
CONF
    nginx -c "$WORK/ngx/nginx.conf" -p "$WORK/ngx" & m=$!; PIDS+=("$m"); sleep 0.5
    PID_N=$(pgrep -P $m)
    DUR=2s wrk_run warmup "$C" "$LUA/healthz.lua" "http://127.0.0.1:$p" >/dev/null
    echo "round $r nginx load=$(cut -d' ' -f1 /proc/loadavg) $(wrk_server N "healthz" "$C" "$LUA/healthz.lua" "http://127.0.0.1:$p")"
    kill $m; wait $m 2>/dev/null || true
  fi
done
