#!/usr/bin/env bash
# What one scraper costs per series, to choose the autoscaler's targets per shard
# (docs/autoscaling.md, "Choosing the targets per shard"). On loopback: synthetic targets,
# one shardwise-scraper remote-writing to victoria-metrics, measured at two sizes so the
# fixed part (binary, buffers, threads) drops out:
#   memory per series = (RSS at HIGH - RSS at LOW) / (series at HIGH - series at LOW)
#   CPU per 1M samples = user+sys CPU seconds over the window / samples scraped (at HIGH)
# then the targets per shard those give for a memory limit (MEMORY_LIMIT_MIB, steady state at
# 70 % of it) and a CPU limit (CPU_LIMIT cores, 60 % busy).
#
#   TARGETS=100 LOW=200 HIGH=1000 INTERVAL=10 WINDOW=60 bash hack/sizing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=${TARGETS:-100}
LOW=${LOW:-200}
HIGH=${HIGH:-1000}
INTERVAL=${INTERVAL:-10}
WINDOW=${WINDOW:-60}
MEMORY_LIMIT_MIB=${MEMORY_LIMIT_MIB:-2048}
CPU_LIMIT=${CPU_LIMIT:-1}
WARMUP=$((INTERVAL * 3))
BUILD_DIR=${BUILD_DIR:-build}
[[ -x "$BUILD_DIR/scraper/shardwise-scraper" && -x "$BUILD_DIR/hack/bench/synth-targets" ]] ||
  ninja -C "$BUILD_DIR" shardwise-scraper synth-targets >/dev/null

WORK=$(mktemp -d /tmp/shardwise-sizing.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || { echo "sizing: $1 did not come up" >&2; return 1; }
    sleep 0.2
  done
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_bytes() { awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$1/status"; }

VM_PORT=$(free_port)
victoria-metrics -httpListenAddr="127.0.0.1:$VM_PORT" -storageDataPath="$WORK/vm" \
  -loggerLevel=ERROR >"$WORK/vm.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$VM_PORT/health" 30

# measure SERIES_PER_TARGET: prints "rss_bytes cpu_seconds" after the window.
measure() {
  local series=$1 tport
  tport=$(free_port)
  "$BUILD_DIR/hack/bench/synth-targets" --targets="$TARGETS" --series="$series" --port="$tport" \
    --web.listen-address="127.0.0.1:$(free_port)" >"$WORK/targets-$series.log" 2>&1 &
  local targets_pid=$!
  PIDS+=($targets_pid)
  wait_http "http://127.0.3.1:$tport/metrics" 30
  local list=""
  for i in $(seq 1 "$TARGETS"); do list+="\"127.0.3.$i:$tport\","; done
  cat >"$WORK/config-$series.yaml" <<EOF
global: {scrape_interval: ${INTERVAL}s, scrape_timeout: $((INTERVAL - 1))s}
scrape_configs:
  - job_name: synthetic
    static_configs: [{targets: [${list%,}]}]
remote_write:
  - url: http://127.0.0.1:$VM_PORT/api/v1/write
EOF
  "$BUILD_DIR/scraper/shardwise-scraper" --config.file="$WORK/config-$series.yaml" \
    --storage.tsdb.path="$WORK/data-$series" --storage.tsdb.retention.time=10m \
    --web.listen-address="127.0.0.1:$(free_port)" --log.level=warn >"$WORK/scraper-$series.log" 2>&1 &
  local pid=$!
  PIDS+=($pid)
  sleep "$WARMUP"
  kill -0 "$pid" 2>/dev/null || { echo "sizing: the scraper exited:" >&2; tail "$WORK/scraper-$series.log" >&2; exit 1; }
  local c0 c1 rss
  c0=$(cpu_ticks "$pid")
  sleep "$WINDOW"
  c1=$(cpu_ticks "$pid")
  rss=$(rss_bytes "$pid")
  kill "$pid" "$targets_pid"
  wait "$pid" "$targets_pid" 2>/dev/null || true
  echo "$rss $(python3 -c "print(($c1 - $c0) / $(getconf CLK_TCK))")"
}

echo "sizing: $TARGETS targets every ${INTERVAL}s, $LOW then $HIGH series each; ${WINDOW}s measured after ${WARMUP}s" >&2
read -r rss_low _ < <(measure "$LOW")
read -r rss_high cpu_high < <(measure "$HIGH")
python3 - "$rss_low" "$rss_high" "$cpu_high" <<EOF
import sys
rss_low, rss_high, cpu = map(float, sys.argv[1:])
low, high = $TARGETS * $LOW, $TARGETS * $HIGH
per_series = (rss_high - rss_low) / (high - low)
fixed = rss_low - per_series * low
samples = high * $WINDOW / $INTERVAL
cpu_per_m = cpu / samples * 1e6
limit = $MEMORY_LIMIT_MIB * 2**20
print(f"RSS: {rss_low / 2**20:.0f} MiB at {low} series, {rss_high / 2**20:.0f} MiB at {high}")
print(f"memory per active series: {per_series:.0f} bytes (fixed part {fixed / 2**20:.0f} MiB)")
print(f"CPU per 1M samples scraped and remote-written: {cpu_per_m:.2f} s ({cpu:.2f} s for {samples:.0f})")
print(f"targetSeriesPerShard for a {$MEMORY_LIMIT_MIB} MiB limit (70 %): {(0.7 * limit - fixed) / per_series:,.0f}")
print(f"targetSamplesPerSecondPerShard for {$CPU_LIMIT} core(s) (60 %): {0.6 * $CPU_LIMIT / cpu_per_m * 1e6:,.0f}")
EOF
