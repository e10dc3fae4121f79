#!/usr/bin/env bash
# Re-records scraper/testdata/: real /metrics bodies from the Debian packages of
# prometheus, prometheus-node-exporter, victoria-metrics and prometheus-pushgateway,
# each started on 127.0.0.1, fetched once with "Accept: text/plain" (-> <name>.prom) and
# once with the OpenMetrics Accept header Prometheus sends (-> <name>.om.txt) when the
# server answers with application/openmetrics-text; otherwise <name>.om.txt is derived
# from the text body (see to_openmetrics). openmetrics_features.om.txt is hand-written
# and not touched here.
#
# Usage: hack/record-testdata.sh [output-dir]   (default: scraper/testdata)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/scraper/testdata}"
WORK="$(mktemp -d /tmp/shardwise-record.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# Same as parser.h's kScrapeAcceptHeader.
OM_ACCEPT='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_ready() {  # url
  local deadline=$((SECONDS + 30))
  until curl -fsS -o /dev/null "$1"; do
    if ((SECONDS > deadline)); then echo "timed out waiting for $1" >&2; exit 1; fi
    sleep 0.2
  done
}

# None of the Debian binaries above answers with OpenMetrics (client_golang only does when
# the program opts in), so the .om.txt variants are derived from the text recording the way
# client_golang renders OpenMetrics: counter families lose their "_total" suffix in
# HELP/TYPE while their samples carry it, "untyped" becomes "unknown", other comments and
# blank lines go, help text escapes '"', and the body ends with "# EOF".
to_openmetrics() {  # in.prom out.om.txt
  python3 - "$1" "$2" <<'PY'
import re
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
counters = {}  # text name -> OpenMetrics family
for line in lines:
    parts = line.split()
    if len(parts) >= 4 and parts[:2] == ["#", "TYPE"] and parts[3] == "counter":
        name = parts[2]
        counters[name] = name[:-len("_total")] if name.endswith("_total") else name
out = []
for line in lines:
    if not line.strip():
        continue
    if line.startswith("#"):
        parts = line.split(" ", 3)
        if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
            continue
        name = counters.get(parts[2], parts[2])
        rest = parts[3] if len(parts) > 3 else ""
        if parts[1] == "TYPE" and rest == "untyped":
            rest = "unknown"
        if parts[1] == "HELP":
            rest = rest.replace('"', '\\"')
        out.append(f"# {parts[1]} {name} {rest}")
        continue
    end = min([i for i in (line.find("{"), line.find(" ")) if i >= 0])
    name = line[:end]
    if name in counters:
        name = counters[name] + "_total"
    rest = line[end:]
    if rest.startswith("{"):
        # OpenMetrics allows no blanks inside the label set (victoria-metrics writes ", ").
        close = rest.rindex("}")
        pairs = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"', rest[:close])
        rest = "{" + ",".join(f'{n}="{v}"' for n, v in pairs) + rest[close:]
    out.append(name + rest)
out.append("# EOF")
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(out) + "\n")
PY
}

record() {  # name url
  local name="$1" url="$2" ctype
  curl -fsS -H 'Accept: text/plain' -o "$OUT/$name.prom" "$url"
  ctype="$(curl -fsS -H "Accept: $OM_ACCEPT" -o "$WORK/$name.om" -w '%{content_type}' "$url")"
  if [[ "$ctype" == application/openmetrics-text* ]]; then
    mv "$WORK/$name.om" "$OUT/$name.om.txt"
  else
    to_openmetrics "$OUT/$name.prom" "$OUT/$name.om.txt"
    echo "$name: server has no OpenMetrics (Content-Type: $ctype); derived $name.om.txt" >&2
  fi
  echo "$name: $(wc -c <"$OUT/$name.prom") bytes text, content-type for OM accept: $ctype"
}

mkdir -p "$OUT"

# node exporter: a fixed collector set keeps the body modest and stable in shape.
NE_PORT="$(free_port)"
prometheus-node-exporter --web.listen-address="127.0.0.1:$NE_PORT" \
  --collector.disable-defaults --collector.cpu --collector.meminfo --collector.loadavg \
  --collector.filesystem --collector.netdev --collector.diskstats --collector.stat \
  --collector.uname --collector.time --collector.vmstat >"$WORK/ne.log" 2>&1 &
PIDS+=($!)

PROM_PORT="$(free_port)"
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ["127.0.0.1:$PROM_PORT"]
EOF
prometheus --config.file="$WORK/prometheus.yml" --web.listen-address="127.0.0.1:$PROM_PORT" \
  --storage.tsdb.path="$WORK/prom-data" >"$WORK/prom.log" 2>&1 &
PIDS+=($!)

VM_PORT="$(free_port)"
victoria-metrics -httpListenAddr="127.0.0.1:$VM_PORT" -storageDataPath="$WORK/vm-data" \
  >"$WORK/vm.log" 2>&1 &
PIDS+=($!)

PG_PORT="$(free_port)"
prometheus-pushgateway --web.listen-address="127.0.0.1:$PG_PORT" \
  --persistence.file="$WORK/pg.store" >"$WORK/pg.log" 2>&1 &
PIDS+=($!)

wait_ready "http://127.0.0.1:$NE_PORT/metrics"
wait_ready "http://127.0.0.1:$PROM_PORT/-/ready"
wait_ready "http://127.0.0.1:$VM_PORT/metrics"
wait_ready "http://127.0.0.1:$PG_PORT/-/ready"

# User metrics for the pushgateway: a counter, a gauge with an escaped label value, a
# histogram and a summary.
cat <<'EOF' | curl -fsS --data-binary @- "http://127.0.0.1:$PG_PORT/metrics/job/batch/instance/node-1"
# TYPE batch_jobs_processed_total counter
# HELP batch_jobs_processed_total Jobs processed by the nightly batch.
batch_jobs_processed_total{queue="default"} 1027
batch_jobs_processed_total{queue="priority"} 33
# TYPE batch_last_path gauge
batch_last_path{path="C:\\tmp\\x",note="say \"hi\"\nbye"} 1
# TYPE batch_duration_seconds histogram
batch_duration_seconds_bucket{le="0.5"} 3
batch_duration_seconds_bucket{le="1"} 7
batch_duration_seconds_bucket{le="+Inf"} 9
batch_duration_seconds_sum 8.25
batch_duration_seconds_count 9
# TYPE batch_latency_seconds summary
batch_latency_seconds{quantile="0.5"} 0.12
batch_latency_seconds{quantile="0.99"} 0.98
batch_latency_seconds_sum 14.5
batch_latency_seconds_count 100
EOF
cat <<'EOF' | curl -fsS --data-binary @- "http://127.0.0.1:$PG_PORT/metrics/job/cron"
# TYPE cron_last_success_timestamp_seconds gauge
cron_last_success_timestamp_seconds 1.7e+09
EOF

# Let Prometheus scrape itself a few times so its own histograms have observations.
sleep 5

record node_exporter "http://127.0.0.1:$NE_PORT/metrics"
record prometheus "http://127.0.0.1:$PROM_PORT/metrics"
record victoria_metrics "http://127.0.0.1:$VM_PORT/metrics"
record pushgateway "http://127.0.0.1:$PG_PORT/metrics"
