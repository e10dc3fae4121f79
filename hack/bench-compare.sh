#!/usr/bin/env bash
# Side-by-side scrape benchmark on this machine, all on loopback: the same synthetic
# targets scraped at the same interval, remote-written to the same victoria-metrics, by
#   shardwise-scraper, vmagent, and Prometheus in agent mode (and Prometheus server, TSDB
#   only, no remote write),
# one scraper at a time. For each: CPU seconds (user+sys of the scraper process) per 1M
# samples over the measured window, RSS bytes per active series at the end, and whether
# every series arrived. Ratios against vmagent are computed within this one run.
#
#   TARGETS=100 SERIES=1000 INTERVAL=10 WINDOW=120 bash hack/bench-compare.sh [out.md]
#
# SHAPE=counters (default: one counter family, 4 labels + job/instance) or exporter
# (49 families, 3-6 labels, a third histograms; hack/bench/synth_targets.cc).
# RETENTIONS="5m 2h" runs shardwise once per head retention (default: 2h, its default).
# PERF=file records a perf profile of the first shardwise run's window and writes the
# hottest symbols to `file`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGETS=${TARGETS:-100}
SERIES=${SERIES:-1000}
INTERVAL=${INTERVAL:-10}
WINDOW=${WINDOW:-120}
WARMUP=${WARMUP:-$((INTERVAL * 3))}
SHAPE=${SHAPE:-counters}
RETENTIONS=${RETENTIONS:-2h}
PERF=${PERF:-}
OUT=${1:-}

bash hack/install-deps.sh >/dev/null
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$BUILD_DIR" shardwise-scraper synth-targets >/dev/null

BENCH_NAME=bench
source hack/lib/bench.sh
bench_start_targets "$SERIES" --shape="$SHAPE"
# The exporter shape rounds --series to whole families and histograms.
SERIES=$(awk '/^series_per_target/ {print $2}' "$WORK/targets-$SERIES.log")
bench_start_vm -search.latencyOffset=0s -search.maxUniqueTimeseries=10000000

arrived() {  # bench label → series count in VM; "?" when VM would not answer
  local n
  for _ in 1 2 3; do
    # A query can be refused (422) while VM is still busy ingesting; ask again.
    if n=$(curl -fsS "http://127.0.0.1:$VM_PORT/api/v1/query" \
      --data-urlencode "query=count({__name__=~\"synth.*\",bench=\"$1\"})" 2>/dev/null |
      python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)' \
        2>/dev/null); then
      echo "$n"
      return
    fi
    sleep 5
  done
  echo "?"
}

RESULTS=()
# run NAME RW CONFIG_RW COMMAND...: RW=1 checks that every series arrived in victoria-metrics;
# CONFIG_RW=1 puts remote_write into the config file (vmagent takes it as flags instead).
run() {
  local name=$1 rw=$2 config_rw=$3
  shift 3
  bench_write_config "$name" "$config_rw" >"$WORK/$name.yaml"
  "$@" >"$WORK/$name.log" 2>&1 &
  local pid=$!
  PIDS+=($pid)
  local perf_data="" measured cpu rss
  if [[ -n "$PERF" && "$name" == shardwise* && ! -s "$PERF" ]]; then perf_data="$WORK/perf.data"; fi
  if ! measured=$(PERF_DATA=$perf_data bench_measure "$pid" "$WORK/$name.log"); then
    echo "FAILED"
    return
  fi
  read -r cpu rss <<<"$measured"
  local got="-"
  if [[ "$rw" == 1 ]]; then sleep $((INTERVAL + 5)); got=$(arrived "$name"); fi
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  if [[ -n "$PERF" && -s "$WORK/perf.data" && ! -s "$PERF" ]]; then
    perf report -i "$WORK/perf.data" --stdio --no-children --percent-limit 1.5 --sort symbol \
      -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40 >"$PERF" || true
  fi
  python3 - "$name" "$cpu" "$rss" "$got" <<EOF
import sys
name, cpu, rss, got = sys.argv[1:]
cpu = float(cpu)
samples = $TARGETS * $SERIES * ($WINDOW / $INTERVAL)
series = $TARGETS * $SERIES
print(f"{name} {cpu / samples * 1e6:.3f} {int(rss) / series:.0f} {got}")
EOF
}

echo "bench: $TARGETS targets x $SERIES series ($SHAPE) every ${INTERVAL}s; ${WINDOW}s measured after ${WARMUP}s warm-up" >&2
for ret in $RETENTIONS; do
  RESULTS+=("$(run "shardwise-$ret" 1 1 "$ROOT/$BUILD_DIR/scraper/shardwise-scraper" \
    --config.file="$WORK/shardwise-$ret.yaml" --storage.tsdb.path="$WORK/sw-data-$ret" \
    --storage.tsdb.retention.time="$ret" \
    --web.listen-address="127.0.0.1:$(free_port)" --log.level=warn)")
done
RESULTS+=("$(run vmagent 1 0 vmagent -promscrape.config="$WORK/vmagent.yaml" \
  -remoteWrite.url="http://127.0.0.1:$VM_PORT/api/v1/write" -remoteWrite.tmpDataPath="$WORK/vmagent-data" \
  -remoteWrite.label=bench=vmagent \
  -httpListenAddr="127.0.0.1:$(free_port)" -loggerLevel=ERROR)")
RESULTS+=("$(run prometheus-agent 1 1 prometheus --enable-feature=agent --config.file="$WORK/prometheus-agent.yaml" \
  --storage.agent.path="$WORK/prom-agent" --web.listen-address="127.0.0.1:$(free_port)" --log.level=warn)")
RESULTS+=("$(run prometheus-server 0 0 prometheus --config.file="$WORK/prometheus-server.yaml" \
  --storage.tsdb.path="$WORK/prom-server" --web.listen-address="127.0.0.1:$(free_port)" --log.level=warn)")

for r in "${RESULTS[@]}"; do
  [[ "$r" == FAILED ]] && { echo "bench: a scraper failed; no figures" >&2; exit 1; }
done
python3 - "$OUT" "$TARGETS" "$SERIES" "$INTERVAL" "$WINDOW" "$SHAPE" "${RESULTS[@]}" <<'EOF'
import sys, datetime
out, targets, series, interval, window, shape, *rows = sys.argv[1:]
data = {}
for r in rows:
    name, cpu, rss, got = r.split()
    data[name] = (float(cpu), float(rss), got)
vm_cpu, vm_rss, _ = data["vmagent"]
lines = [f"Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC: {targets} targets x {series} series ({shape} shape) every {interval}s, "
         f"{window}s measured; expected series at the receiver: {int(targets) * int(series)}.", "",
         "| scraper | CPU s per 1M samples | vs vmagent | RSS bytes per active series | vs vmagent | series arrived |",
         "|---|---|---|---|---|---|"]
for name, (cpu, rss, got) in data.items():
    lines.append(f"| {name} | {cpu:.3f} | {cpu / vm_cpu:.2f}x | {rss:.0f} | {rss / vm_rss:.2f}x | {got} |")
text = "\n".join(lines) + "\n"
print(text)
if out:
    with open(out, "a") as f:
        f.write(text + "\n")
EOF
