# Sourced by the RADIUS benchmarks (run.sh, backup.sh): the netkeep side of
# their setup. The caller sets WORK (a temporary directory, removed at
# exit), NK_HTTP, NK_AUTH and SECRET, and declares `pids=()`; what is
# started here is added to pids and stopped at exit.

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# nk_build: builds netkeep and the load generator into WORK, and creates
# the admin in a fresh data directory.
nk_build() {
  echo "building netkeep and the load generator"
  go build -o "$WORK/netkeep" ./cmd/netkeep
  go build -o "$WORK/loadgen" ./bench/radius/loadgen
  export NETKEEP_DATA_DIR=$WORK/nk NETKEEP_LOG_LEVEL=warn
  mkdir -p "$NETKEEP_DATA_DIR"
  echo "bench-password-123" | "$WORK/netkeep" admin create --username bench >/dev/null
}

# nk_start [serve flags...]: starts `netkeep serve` (HTTP on NK_HTTP,
# RADIUS authentication on NK_AUTH, no accounting) and waits until it is
# ready; NK_PID is its process. max-body-bytes: the CSV import is bounded
# by the server-wide body limit.
nk_start() {
  "$WORK/netkeep" serve --listen "$NK_HTTP" --radius-listen "$NK_AUTH" --radius-acct-listen "" \
    --max-body-bytes 1000000000 "$@" 2>>"$WORK/nk.log" &
  NK_PID=$!; pids+=($NK_PID)
  for _ in $(seq 1 100); do curl -sf "http://$NK_HTTP/readyz" >/dev/null && break; sleep 0.1; done
}

# nk_login: logs in as the admin (sets the curl arguments in auth) and
# registers 127.0.0.1 as a RADIUS client with SECRET.
nk_login() {
  local token
  token=$(curl -sf "http://$NK_HTTP/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"username":"bench","password":"bench-password-123"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
  auth=(-H "Authorization: Bearer $token")
  curl -sf "${auth[@]}" "http://$NK_HTTP/api/v1/radius/clients" -H 'Content-Type: application/json' \
    -d "{\"name\":\"bench\",\"address\":\"127.0.0.1\",\"secret\":\"$SECRET\",\"vendor\":\"hostapd\"}" >/dev/null
}

# nk_import N: imports WORK/psks.csv through the CSV API, prints how long
# it took, and waits until the RADIUS directory holds N endpoints.
nk_import() {
  echo "loading $1 PSKs and endpoints into netkeep (CSV import)"
  local t0; t0=$(date +%s.%N)
  curl -sS --fail-with-body "${auth[@]}" -X POST "http://$NK_HTTP/api/v1/psks/import" -H 'Content-Type: text/csv' \
    --data-binary "@$WORK/psks.csv" >/dev/null
  echo "  import took $(python3 -c "print(round($(date +%s.%N)-$t0,1))") s"
  nk_wait_loaded "$1"
}

# nk_wait_loaded N: waits until the RADIUS directory holds N endpoints.
nk_wait_loaded() {
  local n
  for _ in $(seq 1 600); do
    n=$(curl -sf "http://$NK_HTTP/metrics" | awk '/^netkeep_radius_endpoints / {print $2}')
    [ "${n%.*}" = "$1" ] && break; sleep 0.2
  done
  echo "  netkeep RADIUS directory holds ${n:-?} endpoints; RSS $(rss "$NK_PID"); data directory $(du -sh "$NETKEEP_DATA_DIR" | cut -f1)"
}

rss() { awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$1/status"; }
TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; } # user system
