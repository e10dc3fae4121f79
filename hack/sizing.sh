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

BENCH_NAME=sizing
source hack/lib/bench.sh
bench_start_vm

# measure SERIES_PER_TARGET: prints "rss_bytes cpu_seconds" after the window.
measure() {
  local series=$1 measured cpu rss
  bench_start_targets "$series"
  bench_write_config sizing 1 >"$WORK/config-$series.yaml"
  "$BUILD_DIR/scraper/shardwise-scraper" --config.file="$WORK/config-$series.yaml" \
    --storage.tsdb.path="$WORK/data-$series" --storage.tsdb.retention.time=10m \
    --web.listen-address="127.0.0.1:$(free_port)" --log.level=warn >"$WORK/scraper-$series.log" 2>&1 &
  local pid=$!
  PIDS+=($pid)
  measured=$(bench_measure "$pid" "$WORK/scraper-$series.log") || exit 1
  read -r cpu rss <<<"$measured"
  kill "$pid" "$TARGETS_PID"
  wait "$pid" "$TARGETS_PID" 2>/dev/null || true
  echo "$rss $cpu"
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
