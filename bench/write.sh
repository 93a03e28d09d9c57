#!/usr/bin/env bash
# bench/write.sh — durable token creation and revocation through the API, against OpenBao's
# create and revoke (../shared/bench/openbao.sh, durable raft storage) in the same run.
#
#   bench/write.sh                          # 16 and 64 connections, 10 s each
#   CONNS="16 64" DUR=10s POOL=200000 bench/write.sh
#   PG=postgres://postgres@127.0.0.1:5432 SKIP_OPENBAO=1 bench/write.sh   # on PostgreSQL
#   PG=... PG_PARAMS=sslmode=disable bench/write.sh   # without TLS (ward's default is sslmode=prefer)
#
# create: wrk POST /v1/tokens (pipeline, ward:introspect) with the admin's session token.
# revoke: wrk POST /v1/tokens/{id}/revoke, each id once, from a pool of $POOL tokens per
# connection count seeded straight into the store (bench/seed.py) before the server starts.
# ward answers only after its store committed (SQLite WAL, synchronous=FULL). Compared at the
# best connection count of each system (peak throughput). With PG set, the store is a fresh
# PostgreSQL database (dropped at the end) instead of SQLite. Loopback only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CONNS=${CONNS:-"16 64"}
POOL=${POOL:-$(( ${DUR%s} * 15000 ))}
SKIP_OPENBAO=${SKIP_OPENBAO:-0}
PG=${PG:-}
PG_PARAMS=${PG_PARAMS:-}

dir=$WORK/data
store=$dir/ward.db
db_args=()
if [[ -n $PG ]]; then
  command -v psql >/dev/null || { echo "psql not found (apt-get install -y postgresql-client)" >&2; exit 2; }
  psql "$PG/postgres" -Atqc 'select 1' >/dev/null || { echo "PostgreSQL does not answer at $PG" >&2; exit 2; }
  db=ward_bench_write_$$_$RANDOM
  psql "$PG/postgres" -qc "CREATE DATABASE $db" >/dev/null
  EXIT_HOOKS+=("psql '$PG/postgres' -qc 'DROP DATABASE IF EXISTS $db WITH (FORCE)' >/dev/null")
  store=$PG/$db${PG_PARAMS:+?$PG_PARAMS}
  DB_CPU=" $db " # the backends' command lines: "postgres: USER DB 127.0.0.1(PORT) STATE"
  db_args=(--database-url "$store")
fi
log "write: seeding $POOL revocable tokens per connection count into ${PG:+PostgreSQL }$store; $(audit_note)"
ward_start S "$dir" "${db_args[@]}"
login "$URL_S" >/dev/null
ward_stop S
n=0
for c in $CONNS; do n=$((n + 1)); done
python3 "$BENCH_DIR/seed.py" "$store" $((POOL * n)) --ids "$WORK/ids"
ward_start S "$dir" "${db_args[@]}"
ADMIN=$(login "$URL_S")
export BEARER=$ADMIN

# one-off checks that both calls work before measuring
read -r _ id < <(create_token "$URL_S" "$ADMIN" write-check)
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $ADMIN" "$URL_S/v1/tokens/$id/revoke" ||
  { echo "revoke through the API failed" >&2; exit 1; }

declare -A R
i=0
for c in $CONNS; do
  log "write: create and revoke at c=$c for $DUR each"
  R[create_$c]=$(wrk_server S "ward create" "$c" "$LUA/create.lua" "$URL_S")
  echo "${R[create_$c]}"
  sed -n "$((i * POOL + 1)),$(((i + 1) * POOL))p" "$WORK/ids" >"$WORK/ids.$c"
  R[revoke_$c]=$(wrk_server S "ward revoke" "$c" "$LUA/revoke.lua" "$URL_S" IDS="$WORK/ids.$c")
  echo "${R[revoke_$c]}"
  i=$((i + 1))
done
echo "ward server after the runs: $(rss S)"
ward_stop S
count_sql="SELECT count(*) FROM tokens WHERE revoked_at IS NOT NULL"
if [[ -n $PG ]]; then
  revoked=$(psql "$store" -Atqc "$count_sql")
else
  revoked=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' \
    "$store" "$count_sql")
fi
acked=1
for c in $CONNS; do acked=$((acked + $(field rps "${R[revoke_$c]}") * ${DUR%s})); done
echo "revoked tokens in the store after the server stopped: $revoked (acknowledged: about $acked)"

if ((SKIP_OPENBAO)); then
  log "write: OpenBao skipped (SKIP_OPENBAO=1)"
else
  log "write: OpenBao create and revoke (openbao.sh) at $CONNS"
  while read -r line; do
    echo "$line"
    case $line in "openbao create c="* | "openbao revoke c="*) ;; *) continue ;; esac
    read -r _ kind cc _ <<<"$line"
    R[bao_${kind}_${cc#c=}]=$line
  done < <(openbao "create revoke" "$CONNS")
fi

best() { # best KEYPREFIX -> "rps c"
  local c b=0 bc=- r
  for c in $CONNS; do
    r=$(field rps "${R[$1_$c]:-}"); r=${r:-0}
    if ((r > b)); then b=$r; bc=$c; fi
  done
  echo "$b $bc"
}
echo
for kind in create revoke; do
  for c in $CONNS; do
    e=$(field errors "${R[${kind}_$c]}")
    [[ $e == 0 ]] || echo "WARNING: ward $kind at c=$c had $e errors (pool exhausted? raise POOL)" >&2
  done
  read -r w wc < <(best "$kind")
  read -r o oc < <(best "bao_$kind")
  r=$(ratio "$w" "$o") sw=$(field sustained_rps "${R[${kind}_$wc]:-}")
  echo "RATIO $kind ward=$w/s (c=$wc, sustained $sw/s) openbao=$o/s (c=$oc) ward/openbao=$r"
  ((SKIP_OPENBAO)) || target "durable $kind/s / OpenBao's (best c)" "$r" ">=" 5 "$w vs $o per s; ward sustained $sw"
done
