#!/usr/bin/env bash
# RADIUS latency while a backup is taken (issue 13's measurement): a real
# `netkeep serve` on SQLite with N PSKs and one endpoint each (default
# 100,000), MAC-authentication load at a fixed rate from the Go load
# generator, and:
#   1. unloaded: the load alone for SECS seconds, ROUNDS times;
#   2. during backups: the same load for SECS seconds while backups are
#      taken back to back through POST /api/v1/backups for the whole
#      window (so every request of the window falls during a backup),
#      ROUNDS times, alternating with the unloaded rounds. The server
#      takes each backup in a child process (`netkeep backup copy`):
#      server-cpu is the server's own, backup-children-cpu the copies'.
# The goal: RADIUS p99 during backups within 2x of the unloaded p99 (the
# medians of the rounds are compared). Everything listens on 127.0.0.1 and
# the server is stopped at exit. Needs: go, curl, python3.
#
# Probe mode: with BACKUP_PROBE set to a shell command, the busy windows
# run that command back to back at the idle scheduling and I/O classes
# (chrt -i 0, ionice -c3) instead of taking backups; in it, $SRC is the
# server's database file and $DST a scratch file. It tells what any copy of
# a file of that size costs RADIUS on this machine, e.g.
#   BACKUP_PROBE='dd if=$SRC of=$DST bs=1M conv=fsync status=none && sha256sum $DST >/dev/null'
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
. bench/radius/netkeep.sh

nk_build
# Scheduled backups off and no pruning: the benchmark takes its own.
nk_start --backup-interval 0 --backup-keep 2 --mesh-interfaces=false --docker-host ""
nk_login
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
nk_import "$N"

gen() { "$WORK/loadgen" -addr $NK_AUTH -secret $SECRET -stations "$N" -duration "${SECS}s" -sockets 16 -window 64 -rate "$RATE" "$@"; }
# p99 LINE: the load generator's p99 in milliseconds.
p99() { python3 -c '
import re, sys
m = re.search(r"p99=([0-9.]+)(ns|µs|us|ms|s)\b", sys.argv[1])
print("%.3f" % (float(m.group(1)) * {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]))' "$1"; }

# backups_until FILE: takes backups back to back until FILE exists;
# prints how many and how long each took (in probe mode also the probes'
# CPU: the children of this subshell).
backups_until() {
  local n=0 t0 times=()
  while [ ! -e "$1" ]; do
    t0=$(date +%s.%N)
    if [ -n "${BACKUP_PROBE:-}" ]; then
      SRC=$NETKEEP_DATA_DIR/netkeep.db DST=$WORK/probe.db chrt -i 0 ionice -c3 sh -c "$BACKUP_PROBE" ||
        { echo "probe failed" >&2; return 1; }
      rm -f "$WORK/probe.db"
    else
      curl -sf "${auth[@]}" -X POST "http://$NK_HTTP/api/v1/backups" -H 'Content-Type: application/json' \
        -d '{"description":"benchmark"}' >/dev/null || { echo "backup failed" >&2; return 1; }
    fi
    times+=("$t0" "$(date +%s.%N)"); n=$((n + 1))
  done
  local probe="" me=$BASHPID
  [ -z "${BACKUP_PROBE:-}" ] || probe=$(awk -v hz="$TICK" '{printf " probe-cpu=%.2fs", ($16 + $17) / hz}' "/proc/$me/stat")
  echo "backups=$n seconds-each=$(awk 'BEGIN { for (i = 1; i < ARGC; i += 2) printf "%s%.2f", (i > 1 ? " " : ""), ARGV[i+1] - ARGV[i] }' "${times[@]}")$probe"
}

# cpu_used TICKS: the server's CPU time since TICKS (from cpu_ticks) and
# its share of one core over the window: what the backups add shows
# whatever else runs on the machine.
cpu_used() {
  awk -v t0="$1" -v t1="$(cpu_ticks $NK_PID)" -v hz="$TICK" -v secs="$SECS" 'BEGIN {
    split(t0, a, " "); split(t1, b, " "); c = (b[1] - a[1] + b[2] - a[2]) / hz
    printf "server-cpu=%.2fs (%.0f%% of a core)", c, c / secs * 100 }'
}

# child_cpu TICKS: the CPU time of the server's children (the backup
# child, `netkeep backup copy`, which lives from backup to backup: its own
# while it runs, the server's count of them once it has exited) since
# TICKS (from child_ticks).
child_ticks() {
  awk 'FNR == 1 && FILENAME ~ /^\/proc\/[0-9]+\/stat$/ {
         if (FILENAME == parent) { u += $16; s += $17 } else { u += $14; s += $15 } }
       END { print u + 0, s + 0 }' parent="/proc/$1/stat" "/proc/$1/stat" \
    $(for c in $(pgrep -P "$1"); do echo "/proc/$c/stat"; done) 2>/dev/null
}
child_cpu() {
  awk -v t0="$1" -v t1="$(child_ticks $NK_PID)" -v hz="$TICK" 'BEGIN {
    split(t0, a, " "); split(t1, b, " "); printf "backup-children-cpu=%.2fs", (b[1] - a[1] + b[2] - a[2]) / hz }'
}

echo
echo "== ${RATE} requests/s for ${SECS}s, $ROUNDS rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ -z "${BACKUP_PROBE:-}" ] || echo "== probe instead of backups: $BACKUP_PROBE"
quiet=() busy=()
for r in $(seq 1 "$ROUNDS"); do
  c0=$(cpu_ticks $NK_PID)
  out=$(gen -label "unloaded #$r"); echo "$out $(cpu_used "$c0")"
  echo "$out" | grep -q ' lost=0 ' || echo "  (requests lost)"
  quiet+=("$(p99 "$out")")
  rm -f "$WORK/done"
  backups_until "$WORK/done" >"$WORK/backups.txt" &
  bpid=$!
  c0=$(cpu_ticks $NK_PID) k0=$(child_ticks $NK_PID)
  out=$(gen -label "backups  #$r"); c1=$(cpu_used "$c0"); touch "$WORK/done"; wait $bpid
  echo "$out $c1 $(child_cpu "$k0") $(cat "$WORK/backups.txt")"
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
