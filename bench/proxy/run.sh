#!/usr/bin/env bash
# Proxy throughput side by side: the same upstream (./upstream) reached
# directly and through netkeep, nginx and Caddy as reverse proxies, each
# loaded by the same wrk run (keep-alive), for 1 KiB and 100 KiB answers.
# Then WebSocket echo round trips, direct and through netkeep (./wsecho).
# Needs: apt-get install wrk nginx-light caddy. Prints one table row per
# proxy and size, with the CPU time (user+system) the proxy's processes
# spent per request (for direct: the upstream's), the figure other load on
# the machine moves least. DURATION (default 10s), CONNECTIONS (default 64).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/go/bin
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
for port in 18001 18002 18003 18004; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use" >&2; exit 1; fi
done
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT INT TERM PIPE

go build -o "$work/upstream" ./bench/proxy/upstream
go build -o "$work/netkeep" ./cmd/netkeep
go build -o "$work/wsecho" ./bench/proxy/wsecho
"$work/upstream" -listen 127.0.0.1:18001 & pids+=($!); upstream_pid=$!

cat >"$work/apps.yaml" <<YAML
routes:
  - appId: bench
    to: http://127.0.0.1:18001
    auth: public
    websocket: true
YAML
NETKEEP_SECRET_KEY=$(head -c 48 /dev/urandom | base64) "$work/netkeep" serve --listen 127.0.0.1:18002 \
  --data-dir "$work" --log-level error --radius-listen= --radius-acct-listen= --mesh-interfaces=false \
  --docker-host= --apps-file "$work/apps.yaml" >"$work/netkeep.log" 2>&1 & pids+=($!); netkeep_pid=$!

cat >"$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  upstream app { server 127.0.0.1:18001; keepalive 128; }
  server {
    listen 127.0.0.1:18003;
    location /apps/bench/ {
      proxy_pass http://app/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
NGINX
nginx -c "$work/nginx.conf" -g 'daemon off;' & pids+=($!); nginx_pid=$!

cat >"$work/Caddyfile" <<CADDY
{
  admin off
  auto_https off
}
http://127.0.0.1:18004 {
  handle_path /apps/bench/* {
    reverse_proxy 127.0.0.1:18001
  }
}
CADDY
HOME=$work caddy run --config "$work/Caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 & pids+=($!); caddy_pid=$!

for port in 18001 18003 18004; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
for _ in $(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:18002/readyz && break; sleep 0.1; done
curl -sf -o /dev/null http://127.0.0.1:18002/apps/bench/1k || { cat "$work/netkeep.log"; exit 1; }

# ticks is the CPU time, in clock ticks, of a process and its children
# (nginx's workers).
ticks() {
  local sum=0 p
  for p in "$1" $(pgrep -P "$1" || true); do sum=$((sum + $(awk '{print $14+$15}' "/proc/$p/stat"))); done
  echo "$sum"
}
hz=$(getconf CLK_TCK)

echo "| target | size | req/s | p50 | p99 | CPU per request |"
echo "|---|---|---|---|---|---|"
for size in 1k 100k; do
  for t in direct:18001:/$size:$upstream_pid netkeep:18002:/apps/bench/$size:$netkeep_pid \
    nginx:18003:/apps/bench/$size:$nginx_pid caddy:18004:/apps/bench/$size:$caddy_pid; do
    IFS=: read -r name port path pid <<<"$t"
    t0=$(ticks "$pid")
    out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$port$path")
    t1=$(ticks "$pid")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    n=$(awk '/requests in/ {print $1}' <<<"$out")
    cpu=$(awk -v a="$t0" -v b="$t1" -v n="$n" -v hz="$hz" 'BEGIN {printf "%.1fµs", (b-a)*1e6/hz/n}')
    echo "| $name | $size | $rps | $p50 | $p99 | $cpu |"
  done
done

echo
echo "| WebSocket echo (32 connections) | messages/s | p50 | p99 |"
echo "|---|---|---|---|"
for t in direct:ws://127.0.0.1:18001/ws netkeep:ws://127.0.0.1:18002/apps/bench/ws; do
  name=${t%%:*}
  read -r rate p50 p99 < <("$work/wsecho" -url "${t#*:}" -conns 32 -d "$DURATION")
  echo "| $name | $rate | $p50 | $p99 |"
done
