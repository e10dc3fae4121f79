# Sourced by the loopback benchmarks (hack/bench-compare.sh, hack/sizing.sh): one way to
# start the synthetic targets and victoria-metrics, write a scrape config for them, and
# measure a scraper process over a window. Every process started here is killed, and the
# work directory removed, when the sourcing script exits.
#
#   BENCH_NAME=sizing; source hack/lib/bench.sh     # messages start with "sizing:"
#   bench_start_vm [extra victoria-metrics flags]    # sets VM_PORT
#   bench_start_targets SERIES [extra synth flags]   # sets TPORT and TARGETS_PID
#   bench_write_config NAME WITH_RW >file.yaml       # TARGETS at TPORT, every INTERVAL s
#   bench_measure PID LOG                            # prints "cpu_seconds rss_bytes"
# Callers set TARGETS, INTERVAL, WARMUP, WINDOW and BUILD_DIR first.

WORK=$(mktemp -d "/tmp/shardwise-$BENCH_NAME.XXXXXX")
PIDS=()
bench_cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap bench_cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {  # URL SECONDS
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || { echo "$BENCH_NAME: $1 did not come up" >&2; return 1; }
    sleep 0.2
  done
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_bytes() { awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$1/status"; }

bench_start_vm() {
  VM_PORT=$(free_port)
  victoria-metrics -httpListenAddr="127.0.0.1:$VM_PORT" -storageDataPath="$WORK/vm" \
    -loggerLevel=ERROR "$@" >"$WORK/vm.log" 2>&1 &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$VM_PORT/health" 30
}

# Targets 127.0.3.1 ... 127.0.3.TARGETS on one port, each with SERIES series.
bench_start_targets() {
  local series=$1
  shift
  TPORT=$(free_port)
  "$BUILD_DIR/hack/bench/synth-targets" --targets="$TARGETS" --series="$series" --port="$TPORT" \
    --web.listen-address="127.0.0.1:$(free_port)" "$@" >"$WORK/targets-$series.log" 2>&1 &
  TARGETS_PID=$!
  PIDS+=($TARGETS_PID)
  wait_http "http://127.0.3.1:$TPORT/metrics" 30
  # The first target answers before the last one listens and the count is printed.
  local deadline=$((SECONDS + 30))
  until grep -q '^series_per_target' "$WORK/targets-$series.log"; do
    ((SECONDS < deadline)) || { echo "$BENCH_NAME: synth-targets printed no count" >&2; return 1; }
    sleep 0.2
  done
}

# A Prometheus-style config: the targets as one static job, external label bench=NAME, and
# remote write to victoria-metrics when WITH_RW is 1.
bench_write_config() {
  local list=""
  for i in $(seq 1 "$TARGETS"); do list+="\"127.0.3.$i:$TPORT\","; done
  cat <<EOF
global:
  scrape_interval: ${INTERVAL}s
  scrape_timeout: $((INTERVAL - 1))s
  external_labels: {bench: "$1"}
scrape_configs:
  - job_name: synthetic
    static_configs: [{targets: [${list%,}]}]
EOF
  if [[ "$2" == 1 ]]; then
    cat <<EOF
remote_write:
  - url: http://127.0.0.1:$VM_PORT/api/v1/write
EOF
  fi
}

# After WARMUP s, the process's user+sys CPU seconds over the next WINDOW s and its RSS at the
# end. Fails (printing the tail of LOG) when the process exited during the warm-up. With
# PERF_DATA set, the window is recorded by `perf record` into that file.
bench_measure() {
  local pid=$1 log=$2 c0 c1 rss
  sleep "$WARMUP"
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "$BENCH_NAME: $(basename "$log" .log) exited early; its log:" >&2
    tail -20 "$log" >&2
    return 1
  fi
  c0=$(cpu_ticks "$pid")
  if [[ -n "${PERF_DATA:-}" ]]; then
    perf record -F 99 -g -o "$PERF_DATA" -p "$pid" -- sleep "$WINDOW" >/dev/null 2>&1 || sleep "$WINDOW"
  else
    sleep "$WINDOW"
  fi
  c1=$(cpu_ticks "$pid")
  rss=$(rss_bytes "$pid")
  echo "$(python3 -c "print(($c1 - $c0) / $(getconf CLK_TCK))") $rss"
}
