#!/usr/bin/env bash
# Offboarding on the wire: runs test/e2e's TestOffboardEverywhere (a person
# with a mesh node under a real `netkeep agent`, an OpenVPN session through
# a gateway whose agent speaks GateKey's /ws/agent, a paired device's
# WebSocket, an API key, a web session and a RADIUS accounting session
# whose NAS is a real FreeRADIUS) RUNS times (default 5) and prints, per
# run, the time from the offboarding call to each enforcement seen on the
# wire and to the last one, then the median and the worst of the last.
# Needs root, /dev/net/tun and the peers the test names (iproute2,
# iputils-ping, wireguard-tools, openvpn, freeradius, freeradius-utils).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/go/bin
RUNS=${RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go test -c -o "$work/e2e.test" ./test/e2e
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
lasts=()
for i in $(seq "$RUNS"); do
  /usr/bin/time -f "cpu: %U s user, %S s system, %e s wall (whole test)" \
    env NETKEEP_REQUIRE_PEERS=1 "$work/e2e.test" -test.run '^TestOffboardEverywhere$' -test.count=1 -test.v \
    >"$work/run.log" 2>&1 || { cat "$work/run.log"; exit 1; }
  echo "run $i:"
  sed -n '/enforced on the wire:/,/OFFBOARD-LAST-ENFORCEMENT-MS/p' "$work/run.log" | sed 's/^ *offboard_test.go:[0-9]*: /  /'
  grep '^cpu:' "$work/run.log"
  lasts+=("$(sed -n 's/.*OFFBOARD-LAST-ENFORCEMENT-MS \([0-9]*\).*/\1/p' "$work/run.log")")
done
sorted=$(printf '%s\n' "${lasts[@]}" | sort -n)
echo "last enforcement over $RUNS runs (ms): $(echo $sorted) — median $(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p"), worst $(echo "$sorted" | tail -1)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
