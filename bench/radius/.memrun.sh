#!/usr/bin/env bash
# Side-by-side RADIUS MAC-authentication benchmark: netkeep and FreeRADIUS 3.2
# on loopback with the same N station entries (default 100,000) and the same
# reply attributes (Tunnel-Password, VLAN as Tunnel-Type / Medium-Type /
# Private-Group-Id), measured in one run by the Go load generator:
#   1. maximum accepts/s (many sockets, a window of requests in flight each),
#      ROUNDS times, alternating the servers, with each server's CPU time
#      per accept (from /proc/PID/stat) beside it: on a shared machine the
#      CPU cost is steadier than the rate,
#   2. latency at a fixed 10,000 requests/s,
#   3. resident memory (VmRSS) after loading and after the load.
# Everything listens on 127.0.0.1, every load stops by itself, and both
# servers are stopped at exit. Needs: go, curl, freeradius (Debian package
# freeradius), python3.
#
#   bench/radius/run.sh [stations] [seconds] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-100000}
SECS=${2:-10}
ROUNDS=${3:-3}
SECRET=bench-secret
WORK=$(mktemp -d /tmp/netkeep-radius-bench.XXXXXX)
NK_HTTP=127.0.0.1:18480 NK_AUTH=127.0.0.1:18412 FR_AUTH=18422
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  :
}
trap cleanup EXIT

command -v freeradius >/dev/null || { echo "freeradius missing: apt-get install -y freeradius" >&2; exit 1; }
echo "building netkeep and the load generator"
go build -o "$WORK/netkeep" ./cmd/netkeep
go build -o "$WORK/loadgen" ./bench/radius/loadgen

rss() { awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$1/status"; }
TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# --- netkeep: a real `netkeep serve` on SQLite, loaded through its API.
export NETKEEP_DATA_DIR=$WORK/nk NETKEEP_LOG_LEVEL=warn GODEBUG=gctrace=1
mkdir -p "$NETKEEP_DATA_DIR"
echo "bench-password-123" | "$WORK/netkeep" admin create --username bench >/dev/null
start_netkeep() {
  # max-body-bytes: the CSV import is bounded by the server-wide body limit.
  "$WORK/netkeep" serve --listen $NK_HTTP --radius-listen $NK_AUTH --radius-acct-listen "" --max-body-bytes 1000000000 2>>"$WORK/nk.log" &
  NK_PID=$!; pids+=($NK_PID)
  for _ in $(seq 1 100); do curl -sf "http://$NK_HTTP/readyz" >/dev/null && break; sleep 0.1; done
}
start_netkeep
echo "idle netkeep (no entries) RSS $(rss $NK_PID)"
TOKEN=$(curl -sf "http://$NK_HTTP/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"username":"bench","password":"bench-password-123"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
auth=(-H "Authorization: Bearer $TOKEN")
curl -sf "${auth[@]}" "http://$NK_HTTP/api/v1/radius/clients" -H 'Content-Type: application/json' \
  -d "{\"name\":\"bench\",\"address\":\"127.0.0.1\",\"secret\":\"$SECRET\",\"vendor\":\"hostapd\"}" >/dev/null

# The same entries for both: station 02:00:xx:xx:xx:xx, its own passphrase, VLAN 100 + i%100.
python3 - "$N" "$WORK" <<'PY'
import sys
n, work = int(sys.argv[1]), sys.argv[2]
with open(f"{work}/psks.csv", "w") as csv, open(f"{work}/users", "w") as users:
    csv.write("psk_id,psk_value,vlan_id,expires,description,mac_address\n")
    for i in range(n):
        mac = "0200%08x" % i
        colon = ":".join(mac[j:j+2] for j in range(0, 12, 2))
        pw, vlan = "passphrase-%08d" % i, 100 + i % 100
        csv.write(f"st-{i},{pw},{vlan},,,{colon}\n")
        users.write(f'{mac} Auth-Type := Accept\n\tTunnel-Password = "{pw}", Tunnel-Type = VLAN, '
                    f'Tunnel-Medium-Type = IEEE-802, Tunnel-Private-Group-Id = "{vlan}"\n\n')
PY
echo "loading $N PSKs and endpoints into netkeep (CSV import)"
t0=$(date +%s.%N)
curl -sS --fail-with-body "${auth[@]}" -X POST "http://$NK_HTTP/api/v1/psks/import" -H 'Content-Type: text/csv' \
  --data-binary "@$WORK/psks.csv" >/dev/null
echo "  import took $(python3 -c "print(round($(date +%s.%N)-$t0,1))") s"
wait_loaded() {
  for _ in $(seq 1 600); do
    n=$(curl -sf "http://$NK_HTTP/metrics" | awk '/^netkeep_radius_endpoints / {print $2}')
    [ "${n%.*}" = "$N" ] && break; sleep 0.2
  done
  echo "  netkeep RADIUS directory holds ${n:-?} endpoints; RSS $(rss $NK_PID)"
}
wait_loaded
# Measure the server as it runs after a start with the entries in its
# database, not carrying the import's garbage: restart it.
kill $NK_PID; wait $NK_PID 2>/dev/null || true
start_netkeep
wait_loaded

gen() { "$WORK/loadgen" -secret $SECRET -stations "$N" -duration "${SECS}s" "$@"; }
# measure PID LOADGEN-ARGS...: one load, with the server's CPU time.
measure() {
  local pid=$1; shift
  local t0 out t1
  t0=$(cpu_ticks "$pid")
  out=$(gen "$@")
  t1=$(cpu_ticks "$pid")
  awk -v out="$out" -v ticks=$((t1 - t0)) -v hz="$TICK" 'BEGIN {
    match(out, /accepts=[0-9]+/); a = substr(out, RSTART + 8, RLENGTH - 8)
    printf "%s server-cpu=%.2fs cpu/accept=%.1fµs\n", out, ticks / hz, (a > 0 ? ticks / hz / a * 1e6 : 0) }'
}
echo "WORK=$WORK"
measure $NK_PID -addr $NK_AUTH -label "netkeep" -sockets 64 -window 16
echo "netkeep RSS after load $(rss $NK_PID)"
sleep 12
echo "netkeep RSS 12s later $(rss $NK_PID)"
grep -E "Rss|Pss|Anon|File" /proc/$NK_PID/smaps_rollup
awk '/^[0-9a-f]+-[0-9a-f]+ / {name=$6; range=$1} /^Rss:/ {if ($2 > 1000) print $2, "kB", range, name}' /proc/$NK_PID/smaps | sort -rn | head -20
