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
#   3. correctness: wrong User-Passwords and stations not loaded mixed in;
#      every reply to every request must be right (FreeRADIUS checks the
#      User-Password with pap, as netkeep does),
#   4. resident memory (VmRSS) after loading and after the load.
# Everything listens on 127.0.0.1, every load stops by itself, and both
# servers are stopped at exit. Needs: go, curl, freeradius (Debian package
# freeradius), python3.
#
#   bench/radius/run.sh [stations] [seconds] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-100000}
SECS=${2:-10}
ROUNDS=${3:-5}
SECRET=bench-secret
WORK=$(mktemp -d /tmp/netkeep-radius-bench.XXXXXX)
NK_HTTP=127.0.0.1:18480 NK_AUTH=127.0.0.1:18412 FR_AUTH=18422
pids=()
. bench/radius/netkeep.sh

command -v freeradius >/dev/null || { echo "freeradius missing: apt-get install -y freeradius" >&2; exit 1; }
nk_build
# --- netkeep: a real `netkeep serve` on SQLite, loaded through its API.
nk_start
nk_login

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
        # The AP sends the MAC as User-Password; FreeRADIUS checks it with
        # pap as netkeep does (no Auth-Type := Accept).
        users.write(f'{mac} Cleartext-Password := "{mac}"\n\tTunnel-Password = "{pw}", Tunnel-Type = VLAN, '
                    f'Tunnel-Medium-Type = IEEE-802, Tunnel-Private-Group-Id = "{vlan}"\n\n')
PY
nk_import "$N"
# Measure the server as it runs after a start with the entries in its
# database, not carrying the import's garbage: restart it.
kill $NK_PID; wait $NK_PID 2>/dev/null || true
nk_start
nk_wait_loaded "$N"

# --- FreeRADIUS 3.2: a minimal server with the files module.
FR=$WORK/fr
mkdir -p "$FR/log" "$FR/run"
mv "$WORK/users" "$FR/users"
cat > "$FR/radiusd.conf" <<CONF
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = $FR/log
raddbdir = $FR
radacctdir = $FR/log
name = freeradius
confdir = $FR
modconfdir = $FR
run_dir = $FR/run
db_dir = $FR
libdir = /usr/lib/freeradius
pidfile = $FR/run/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1048576
hostname_lookups = no
log {
	destination = stderr
	auth = no
}
security {
	max_attributes = 200
	reject_delay = 0
	status_server = no
	allow_vulnerable_openssl = yes
}
thread pool {
	start_servers = 8
	max_servers = 32
	min_spare_servers = 4
	max_spare_servers = 16
	max_requests_per_server = 0
}
client bench {
	ipaddr = 127.0.0.1
	secret = $SECRET
	require_message_authenticator = yes
}
modules {
	files {
		filename = $FR/users
	}
	pap {
		normalise = no
	}
}
server default {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = $FR_AUTH
	}
	authorize {
		files
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
	}
	post-auth {
		Post-Auth-Type REJECT {
			# Never send the reply items of a matched entry in a reject.
			update reply {
				Tunnel-Password !* ANY
				Tunnel-Type !* ANY
				Tunnel-Medium-Type !* ANY
				Tunnel-Private-Group-Id !* ANY
			}
		}
	}
}
CONF
echo "starting FreeRADIUS with $N files entries"
freeradius -f -d "$FR" -n radiusd 2>"$WORK/fr.log" &
pids+=($!); FR_PID=$!
for _ in $(seq 1 600); do
  "$WORK/loadgen" -addr 127.0.0.1:$FR_AUTH -secret $SECRET -sockets 1 -window 1 -duration 200ms -stations 1 -timeout 300ms 2>/dev/null | grep -q 'accepts=[1-9]' && break
  kill -0 $FR_PID 2>/dev/null || { cat "$WORK/fr.log" >&2; exit 1; }
done
echo "  FreeRADIUS ready; RSS $(rss $FR_PID)"

gen() { "$WORK/loadgen" -secret $SECRET -stations "$N" -duration "${SECS}s" "$@"; }
# measure PID LOADGEN-ARGS...: one load, with the server's CPU time.
measure() {
  local pid=$1; shift
  local t0 out t1
  t0=$(cpu_ticks "$pid")
  out=$(gen "$@")
  t1=$(cpu_ticks "$pid")
  awk -v out="$out" -v t0="$t0" -v t1="$t1" -v hz="$TICK" 'BEGIN {
    split(t0, a0, " "); split(t1, a1, " "); u = (a1[1] - a0[1]) / hz; s = (a1[2] - a0[2]) / hz
    match(out, /accepts=[0-9]+/); a = substr(out, RSTART + 8, RLENGTH - 8)
    printf "%s server-cpu=%.2fs (user %.2f, sys %.2f) cpu/accept=%.1fµs\n", out, u + s, u, s, (a > 0 ? (u + s) / a * 1e6 : 0) }'
}
echo
echo "== maximum throughput (${SECS}s each, 64 sockets x 16 in flight, $ROUNDS rounds); load average $(cut -d' ' -f1-3 /proc/loadavg)"
ratios=()
for r in $(seq 1 "$ROUNDS"); do
  nk=$(measure $NK_PID -addr $NK_AUTH -label "netkeep    #$r" -sockets 64 -window 16)
  fr=$(measure $FR_PID -addr 127.0.0.1:$FR_AUTH -label "freeradius #$r" -sockets 64 -window 16)
  echo "$nk"; echo "$fr"
  ratio=$(awk -v a="$nk" -v b="$fr" 'BEGIN {
    match(a, /accepts\/s=[0-9]+/); x = substr(a, RSTART + 10, RLENGTH - 10)
    match(b, /accepts\/s=[0-9]+/); y = substr(b, RSTART + 10, RLENGTH - 10)
    match(a, /cpu\/accept=[0-9.]+/); p = substr(a, RSTART + 11, RLENGTH - 11)
    match(b, /cpu\/accept=[0-9.]+/); q = substr(b, RSTART + 11, RLENGTH - 11)
    printf "%.2f %.2f", (y > 0 ? x / y : 0), (p > 0 ? q / p : 0) }')
  ratios+=("$ratio")
  echo "round #$r: netkeep/freeradius accepts/s ${ratio% *}x; freeradius/netkeep CPU per accept ${ratio#* }x"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ r[NR] = $1 } END { printf "accepts/s ratio over %d rounds: min %.2fx, median %.2fx, max %.2fx\n", NR, r[1], r[int((NR + 1) / 2)], r[NR] }'
printf '%s\n' "${ratios[@]}" | awk '{ print $2 }' | sort -n | awk '{ r[NR] = $1 } END { printf "CPU-per-accept ratio over %d rounds: min %.2fx, median %.2fx, max %.2fx\n", NR, r[1], r[int((NR + 1) / 2)], r[NR] }'
echo
echo "== fixed 10,000 requests/s (${SECS}s each)"
measure $NK_PID -addr $NK_AUTH -label "netkeep   " -sockets 64 -window 64 -rate 10000
measure $FR_PID -addr 127.0.0.1:$FR_AUTH -label "freeradius" -sockets 64 -window 64 -rate 10000
echo
echo "== correctness: every 10th request with a wrong User-Password, every 7th for a station not loaded (${SECS}s each); every reply must be right"
for target in "netkeep    $NK_AUTH" "freeradius 127.0.0.1:$FR_AUTH"; do
  out=$(gen -addr "${target##* }" -label "${target% *}" -sockets 16 -window 16 -wrong-password-every 10 -unknown-every 7)
  echo "$out"
  echo "$out" | grep -q ' wrong-replies=0 ' || { echo "${target% *} answered a request wrongly" >&2; exit 1; }
done
echo "netkeep_radius_rejects_total: $(curl -sf "http://$NK_HTTP/metrics" | grep '^netkeep_radius_rejects_total{reason="\(wrong_password\|unknown_station\)"}' | tr '\n' ' ')"
echo
echo "== resident memory after the load"
echo "netkeep    $(rss $NK_PID)  (whole server: HTTP API, SQLite, RADIUS, $N PSKs + endpoints)"
echo "freeradius $(rss $FR_PID)"
