#!/usr/bin/env bash
# RADIUS latency while a backup is taken (issue 13's measurement): a real
# `netkeep serve` on SQLite with N PSKs and one endpoint each (default
# 100,000), MAC-authentication load at a fixed rate from the Go load
# generator, and:
#   1. unloaded: the load alone for SECS seconds, ROUNDS times;
#   2. during backups: the same load for SECS seconds while backups are
#      taken back to back through POST /api/v1/backups for the whole
#      window (so every request of the window falls during a backup),
#      ROUNDS times, alternating with the unloaded rounds.
# The goal: RADIUS p99 during backups within 2x of the unloaded p99 (the
# medians of the rounds are compared). Everything listens on 127.0.0.1 and
# the server is stopped at exit. Needs: go, curl, python3.
#
#   bench/radius/backup.sh [stations] [seconds] [rounds] [rate]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-100000}
SECS=${2:-10}
ROUNDS=${3:-3}
RATE=${4:-5000}
SECRET=bench-secret
WORK=$(mktemp -d /tmp/netkeep-backup-bench.XXXXXX)
NK_HTTP=127.0.0.1:18490 NK_AUTH=127.0.0.1:18492
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "building netkeep and the load generator"
go build -o "$WORK/netkeep" ./cmd/netkeep
go build -o "$WORK/loadgen" ./bench/radius/loadgen

export NETKEEP_DATA_DIR=$WORK/nk NETKEEP_LOG_LEVEL=warn
mkdir -p "$NETKEEP_DATA_DIR"
echo "bench-password-123" | "$WORK/netkeep" admin create --username bench >/dev/null
# Scheduled backups off and no pruning: the benchmark takes its own.
"$WORK/netkeep" serve --listen $NK_HTTP --radius-listen $NK_AUTH --radius-acct-listen "" --max-body-bytes 1000000000 \
  --backup-interval 0 --backup-keep 2 --mesh-interfaces=false --docker-host "" 2>>"$WORK/nk.log" &
NK_PID=$!; pids+=($NK_PID)
for _ in $(seq 1 100); do curl -sf "http://$NK_HTTP/readyz" >/dev/null && break; sleep 0.1; done
TOKEN=$(curl -sf "http://$NK_HTTP/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"username":"bench","password":"bench-password-123"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
auth=(-H "Authorization: Bearer $TOKEN")
curl -sf "${auth[@]}" "http://$NK_HTTP/api/v1/radius/clients" -H 'Content-Type: application/json' \
  -d "{\"name\":\"bench\",\"address\":\"127.0.0.1\",\"secret\":\"$SECRET\",\"vendor\":\"hostapd\"}" >/dev/null

python3 - "$N" "$WORK" <<'PY'
import sys
n, work = int(sys.argv[1]), sys.argv[2]
with open(f"{work}/psks.csv", "w") as csv:
    csv.write("psk_id,psk_value,vlan_id,expires,description,mac_address\n")
    for i in range(n):
        mac = "0200%08x" % i
        colon = ":".join(mac[j:j+2] for j in range(0, 12, 2))
        csv.write(f"st-{i},passphrase-{i:08d},{100 + i % 100},,,{colon}\n")
PY
echo "loading $N PSKs and endpoints (CSV import)"
curl -sS --fail-with-body "${auth[@]}" -X POST "http://$NK_HTTP/api/v1/psks/import" -H 'Content-Type: text/csv' \
  --data-binary "@$WORK/psks.csv" >/dev/null
for _ in $(seq 1 600); do
  n=$(curl -sf "http://$NK_HTTP/metrics" | awk '/^netkeep_radius_endpoints / {print $2}')
  [ "${n%.*}" = "$N" ] && break; sleep 0.2
done
echo "  the RADIUS directory holds ${n:-?} endpoints; database $(du -sh "$NETKEEP_DATA_DIR" | cut -f1)"

gen() { "$WORK/loadgen" -addr $NK_AUTH -secret $SECRET -stations "$N" -duration "${SECS}s" -sockets 16 -window 64 -rate "$RATE" "$@"; }
# p99 LINE: the load generator's p99 in milliseconds.
p99() { python3 -c '
import re, sys
m = re.search(r"p99=([0-9.]+)(ns|µs|us|ms|s)\b", sys.argv[1])
print("%.3f" % (float(m.group(1)) * {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]))' "$1"; }

# backups_until FILE: takes backups back to back until FILE exists;
# prints how many and how long each took.
backups_until() {
  local n=0 t0 t1 times=()
  while [ ! -e "$1" ]; do
    t0=$(date +%s.%N)
    curl -sf "${auth[@]}" -X POST "http://$NK_HTTP/api/v1/backups" -H 'Content-Type: application/json' \
      -d '{"description":"benchmark"}' >/dev/null || { echo "backup failed" >&2; return 1; }
    t1=$(date +%s.%N)
    times+=("$(python3 -c "print(round($t1-$t0,2))")"); n=$((n + 1))
  done
  echo "backups=$n seconds-each=${times[*]}"
}

echo
echo "== ${RATE} requests/s for ${SECS}s, $ROUNDS rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)"
quiet=() busy=()
for r in $(seq 1 "$ROUNDS"); do
  out=$(gen -label "unloaded #$r"); echo "$out"
  echo "$out" | grep -q ' lost=0 ' || echo "  (requests lost)"
  quiet+=("$(p99 "$out")")
  rm -f "$WORK/done"
  backups_until "$WORK/done" >"$WORK/backups.txt" &
  bpid=$!
  out=$(gen -label "backups  #$r"); touch "$WORK/done"; wait $bpid
  echo "$out $(cat "$WORK/backups.txt")"
  busy+=("$(p99 "$out")")
done
python3 - "${quiet[*]}" "${busy[*]}" <<'PY'
import statistics, sys
q = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
mq, mb = statistics.median(q), statistics.median(b)
ratio = mb / mq if mq else float("inf")
print(f"p99 unloaded: median {mq:.3f} ms of {q}")
print(f"p99 during backups: median {mb:.3f} ms of {b}")
print(f"ratio {ratio:.2f}x (goal: at most 2x) -> {'PASS' if ratio <= 2 else 'FAIL'}")
PY
