#!/usr/bin/env bash
# Dynamic PSK at 100,000 keys: the go test benchmarks behind bench/README.md's
# "Handshake identification at 100,000 PSKs" section, in the order the
# figures are listed there.
#   1. the cost per candidate of each way of checking a handshake
#      (internal/radius/wpa BenchmarkMatch: crypto/hmac per candidate, the
#      precomputed states through wpa's own compression one at a time, two
#      at a time, each with and without the SHA extensions, multi-buffer
#      SHA-1 over 16 AVX-512 lanes and 8 AVX2 lanes where the CPU has them,
#      and the way Find chose by timing them) and of one PMK (BenchmarkPMK:
#      two chains side by side, eight PMKs at once in the AVX-512 lanes,
#      crypto/pbkdf2),
#   2. first contact, foreign PSK and a second device (recent matches
#      first) among 100,000 PSKs on one SSID, the search on one goroutine
#      and split across the cores (BenchmarkHandshake),
#   3. 16 stations at once over UDP against the real server
#      (BenchmarkHandshakeBurst),
#   4. deriving the PMKs of 100,000 new PSKs while MAC authentication is
#      answered and timed (BenchmarkPMKDerivation).
#
#   bench/radius/dpsk.sh [rounds]    (rounds: samples of the search benchmarks; default 30)
set -euo pipefail
cd "$(dirname "$0")/../.."
R=${1:-30}
echo "load average $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
go test -run '^$' -bench 'BenchmarkMatch|BenchmarkPMK$' -benchmem -benchtime 1s ./internal/radius/wpa/
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
go test -run '^$' -bench 'BenchmarkHandshake$|BenchmarkHandshakeBurst' -benchtime "${R}x" ./internal/radius/
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
go test -run '^$' -bench 'BenchmarkPMKDerivation' -benchtime 1x -timeout 30m ./internal/radius/
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
