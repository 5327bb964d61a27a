#!/usr/bin/env bash
# RADIUS at a million identities: one netkeep server, N PSKs each with its
# station's endpoint (default 1,000,000), loaded by one CSV import through
# the API, measured on SQLite and on PostgreSQL, each beside a BASE-entry
# run (default 100,000) in the same invocation:
#   - the CSV import's time (POST /api/v1/psks/import, until it answers),
#   - the first Access-Accept from an imported station after the import
#     answered (polled with radclient, the last station of the file),
#   - when the RADIUS directory holds every endpoint,
#   - RSS (VmRSS of the whole server) after loading, after the load, after
#     a restart,
#   - restart: the time from starting `netkeep serve` on the loaded
#     database until it answers /readyz and until the directory holds every
#     endpoint,
#   - MAC-authentication accepts/s at maximum load (bench/radius/loadgen,
#     64 sockets x 16 in flight, random stations), and its ratio to the
#     BASE run's.
# Needs: go, curl, python3, radclient (freeradius-utils), and for
# PostgreSQL psql with a server at PGURL (each run gets its own database,
# PGDB_PREFIX_<N>, dropped at exit). Listens on 127.0.0.1 only (NK_HTTP,
# NK_AUTH: the addresses, so that two runs can go side by side). On
# PostgreSQL each import and reload figure also gives the CPU time of the
# database's server processes for this database (those alive when it is
# read: a connection closed meanwhile takes its share with it).
#
#   bench/radius/scale.sh [N] [BASE] [seconds] [backends]
#   e.g. bench/radius/scale.sh 1000000 100000 10 "sqlite postgres"
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
BASE=${2:-100000}
SECS=${3:-10}
BACKENDS=${4:-sqlite postgres}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
SECRET=bench-secret
WORK=$(mktemp -d /tmp/netkeep-radius-scale.XXXXXX)
PGDB_PREFIX=${PGDB_PREFIX:-nkscale_$$}
NK_HTTP=${NK_HTTP:-127.0.0.1:18580} NK_AUTH=${NK_AUTH:-127.0.0.1:18512}
pids=() dbs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for d in "${dbs[@]}"; do psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "building netkeep and the load generator"
go build -o "$WORK/netkeep" ./cmd/netkeep
go build -o "$WORK/loadgen" ./bench/radius/loadgen
now() { date +%s.%N; }
since() { python3 -c "print(f'{$(now)-$1:.2f}')"; }
rss() { awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$1/status"; }
# cpu PID: CPU seconds (user + system) the process used so far; on a shared
# machine the wall clock measures the queue for the CPU too.
TICK=$(getconf CLK_TCK)
cpu() { awk -v hz="$TICK" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat"; }
# pgcpu DB: CPU seconds of the PostgreSQL backends now connected to DB (0
# on SQLite).
pgcpu() {
  [ -n "$1" ] || { echo 0; return; }
  local p t=0
  for p in $(pgrep -f "^postgres: .* $1 " || true); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  python3 -c "print(f'{$t/$TICK:.1f}')"
}
# minus A B: A-B with one decimal.
minus() { python3 -c "print(f'{$1-$2:.1f}')"; }

# The CSV of n stations: station 02:00:xx:xx:xx:xx, its own passphrase,
# VLAN 100 + i%100 (the entries bench/radius/run.sh uses).
csv() {
  python3 - "$1" "$WORK/psks-$1.csv" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("psk_id,psk_value,vlan_id,expires,description,mac_address\n")
    for i in range(n):
        mac = "0200%08x" % i
        f.write(f"st-{i},passphrase-{i:08d},{100 + i % 100},,,{':'.join(mac[j:j+2] for j in range(0, 12, 2))}\n")
PY
}

start_netkeep() {
  echo "--- start" >>"$WORK/nk.log"
  "$WORK/netkeep" serve --listen $NK_HTTP --radius-listen $NK_AUTH --radius-acct-listen "" 2>>"$WORK/nk.log" &
  NK_PID=$!; pids+=($NK_PID)
}
wait_ready() {
  for _ in $(seq 1 3000); do curl -sf "http://$NK_HTTP/readyz" >/dev/null && return; sleep 0.02; done
  echo "netkeep did not become ready" >&2; tail -20 "$WORK/nk.log" >&2; exit 1
}
endpoints() { curl -sf "http://$NK_HTTP/metrics" | awk '/^netkeep_radius_endpoints / {printf "%d", $2}'; }
wait_endpoints() {
  for _ in $(seq 1 6000); do [ "$(endpoints)" = "$1" ] && return; sleep 0.05; done
  echo "the directory never held $1 endpoints (holds $(endpoints))" >&2; exit 1
}
# accepted MAC: one MAC authentication with radclient; true on Access-Accept.
accepted() {
  local m=$1 u
  u=$(echo "$m" | tr -d :)
  printf 'User-Name="%s",User-Password="%s",Calling-Station-Id="%s",Called-Station-Id="02-00-00-00-00-01:bench",Message-Authenticator=0x00\n' "$u" "$u" "${m//:/-}" \
    | radclient -r 1 -t 0.5 -x "$NK_AUTH" auth $SECRET 2>/dev/null | grep -q 'Access-Accept'
}

# run BACKEND N: one measurement; prints a summary line and the accepts/s.
run() {
  local backend=$1 n=$2 db=""
  export NETKEEP_DATA_DIR=$WORK/nk-$backend-$n NETKEEP_LOG_LEVEL=warn
  mkdir -p "$NETKEEP_DATA_DIR"
  if [ "$backend" = postgres ]; then
    db=${PGDB_PREFIX}_$n; dbs+=("$db")
    psql -q "$PGURL/postgres" -c "CREATE DATABASE $db" >/dev/null
    export NETKEEP_DATABASE_URL="$PGURL/$db?sslmode=disable"
  else
    unset NETKEEP_DATABASE_URL
  fi
  [ -f "$WORK/psks-$n.csv" ] || csv "$n"
  echo "bench-password-123" | "$WORK/netkeep" admin create --username bench >/dev/null
  start_netkeep; wait_ready
  local token
  token=$(curl -sf "http://$NK_HTTP/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"username":"bench","password":"bench-password-123"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
  curl -sf -H "Authorization: Bearer $token" "http://$NK_HTTP/api/v1/radius/clients" -H 'Content-Type: application/json' \
    -d "{\"name\":\"bench\",\"address\":\"127.0.0.1\",\"secret\":\"$SECRET\",\"vendor\":\"hostapd\"}" >/dev/null
  local last
  last=$(python3 -c "m='0200%08x' % ($n-1); print(':'.join(m[j:j+2] for j in range(0,12,2)))")
  echo "[$backend $n] importing"
  local t0 t_import t_first t_loaded c0 c_import c_loaded p0 p_import p_loaded
  t0=$(now); c0=$(cpu $NK_PID); p0=$(pgcpu "$db")
  curl -sS --fail-with-body -H "Authorization: Bearer $token" -X POST "http://$NK_HTTP/api/v1/psks/import" \
    -H 'Content-Type: text/csv' --data-binary "@$WORK/psks-$n.csv" >/dev/null \
    || { echo "the import failed" >&2; tail -20 "$WORK/nk.log" >&2; exit 1; }
  t_import=$(since "$t0"); c_import=$(minus "$(cpu $NK_PID)" "$c0"); p_import=$(minus "$(pgcpu "$db")" "$p0")
  t0=$(now); c0=$(cpu $NK_PID); p0=$(pgcpu "$db")
  for _ in $(seq 1 6000); do accepted "$last" && break; sleep 0.05; done
  accepted "$last" || { echo "no Access-Accept for $last" >&2; exit 1; }
  t_first=$(since "$t0")
  wait_endpoints "$n"
  t_loaded=$(since "$t0"); c_loaded=$(minus "$(cpu $NK_PID)" "$c0"); p_loaded=$(minus "$(pgcpu "$db")" "$p0")
  local rss_loaded out rate rss_after
  rss_loaded=$(rss $NK_PID)
  local c_load
  c0=$(cpu $NK_PID)
  out=$("$WORK/loadgen" -addr $NK_AUTH -secret $SECRET -stations "$n" -duration "${SECS}s" -sockets 64 -window 16 -label "[$backend $n]")
  rate=$(echo "$out" | sed -n 's/.*accepts\/s=\([0-9]*\).*/\1/p')
  c_load=$(python3 -c "a=int('$(echo "$out" | sed -n 's/.* accepts=\([0-9]*\).*/\1/p')' or 0); print(f'{($(cpu $NK_PID)-$c0)/max(a,1)*1e6:.1f}')")
  rss_after=$(rss $NK_PID)
  kill $NK_PID; wait $NK_PID 2>/dev/null || true
  t0=$(now)
  start_netkeep; wait_ready
  local t_ready t_reload rss_restart c_reload p_reload
  t_ready=$(since "$t0")
  wait_endpoints "$n"
  t_reload=$(since "$t0"); c_reload=$(cpu $NK_PID); p_reload=$(pgcpu "$db")
  rss_restart=$(rss $NK_PID)
  kill $NK_PID; wait $NK_PID 2>/dev/null || true
  echo "$out"
  echo "[$backend $n] import ${t_import}s (server CPU ${c_import}s, database CPU ${p_import}s); first accept ${t_first}s after it answered, all loaded ${t_loaded}s after (server CPU ${c_loaded}s, database CPU ${p_loaded}s); RSS loaded $rss_loaded, after the load $rss_after; restart: ready ${t_ready}s, directory loaded ${t_reload}s (server CPU ${c_reload}s, database CPU ${p_reload}s), RSS $rss_restart; accepts/s $rate, server CPU per accept ${c_load} µs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  RATE=$rate
}

echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
for backend in $BACKENDS; do
  run "$backend" "$BASE"; base_rate=$RATE
  run "$backend" "$N"; big_rate=$RATE
  echo "[$backend] accepts/s at $N vs $BASE: $(python3 -c "print(f'{$big_rate/max($base_rate,1):.2f}')")"
  echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
done
