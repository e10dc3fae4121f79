#!/usr/bin/env bash
# The main job: the whole system on a local simulated cluster, on loopback only.
#
#   Kubernetes API simulator (hack/kube-sim)  ◄── real kubectl applies CRDs, a ScrapePool,
#                                                  a Service + Endpoints/EndpointSlice + ServiceMonitor
#   shardwise-operator                        ◄── watches them, assigns targets to 3 shards,
#                                                  serves plans, writes ScrapeShard status
#   3 × shardwise-scraper (pods shardwise-main-0-{0,1,2}, run as local processes)
#        scrape N node-exporters on 127.0.1.x:9100 into their TSDBs and remote-write
#   victoria-metrics                          ◄── receives everything
#
# Then it scales the pool to 4 shards with `kubectl scale` and shows what moved.
# Usage: bash hack/demo.sh [--keep]   (--keep leaves everything running until Ctrl-C)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

TARGETS=${TARGETS:-8}
KEEP=0
[[ "${1:-}" == "--keep" ]] && KEEP=1

bash hack/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
if [[ ! -x "$BUILD_DIR/scraper/shardwise-scraper" || ! -x "$BUILD_DIR/operator/shardwise-operator" ||
      ! -x "$BUILD_DIR/hack/kube-sim/shardwise-kube-sim" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$BUILD_DIR" shardwise-scraper shardwise-operator shardwise-kube-sim >/dev/null
SIM=$ROOT/$BUILD_DIR/hack/kube-sim/shardwise-kube-sim
OPERATOR=$ROOT/$BUILD_DIR/operator/shardwise-operator
SCRAPER=$ROOT/$BUILD_DIR/scraper/shardwise-scraper

WORK=$(mktemp -d /tmp/shardwise-demo.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo: logs and data were in $WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {  # url, seconds
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || { echo "demo: $1 did not come up" >&2; return 1; }
    sleep 0.2
  done
}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Starting the Kubernetes API simulator"
SIM_PORT=$(free_port)
"$SIM" --listen="127.0.0.1:$SIM_PORT" --kubeconfig-out="$WORK/kubeconfig" >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$SIM_PORT/version" 20
export KUBECONFIG=$WORK/kubeconfig
export KUBECACHEDIR=$WORK/kubecache
kubectl version 2>/dev/null | head -2 || true

step "Installing the CRDs with kubectl"
kubectl apply -f crds/monitoring.coreos.com/ -f crds/shardwise.io/
kubectl wait --for=condition=Established --timeout=30s \
  crd/servicemonitors.monitoring.coreos.com crd/podmonitors.monitoring.coreos.com \
  crd/scrapepools.shardwise.io crd/scrapeshards.shardwise.io

step "Starting $TARGETS node-exporters (127.0.1.1-$TARGETS:9100) and victoria-metrics"
for i in $(seq 1 "$TARGETS"); do
  prometheus-node-exporter --web.listen-address="127.0.1.$i:9100" \
    --collector.disable-defaults --collector.cpu --collector.meminfo --collector.loadavg \
    --collector.filesystem --collector.netdev >"$WORK/node-$i.log" 2>&1 &
  PIDS+=($!)
done
VM_PORT=$(free_port)
victoria-metrics -httpListenAddr="127.0.0.1:$VM_PORT" -storageDataPath="$WORK/vm" \
  -search.latencyOffset=0s -loggerLevel=ERROR >"$WORK/vm.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$VM_PORT/health" 20
for i in $(seq 1 "$TARGETS"); do wait_http "http://127.0.1.$i:9100/metrics" 10; done

step "Declaring what to scrape: a Service, its Endpoints and EndpointSlice, a ServiceMonitor and a ScrapePool"
{
  cat <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: monitoring}
---
apiVersion: v1
kind: Service
metadata: {name: node-exporter, namespace: monitoring, labels: {app: node-exporter}}
spec:
  # No pod selector: the targets are loopback node exporters listed by hand in the
  # Endpoints and EndpointSlice below, which the cluster's controllers leave alone.
  ports: [{name: metrics, port: 9100, targetPort: 9100}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: node-exporter-1
  namespace: monitoring
  labels: {kubernetes.io/service-name: node-exporter, app: node-exporter}
addressType: IPv4
ports: [{name: metrics, port: 9100, protocol: TCP}]
endpoints:
EOF
  for i in $(seq 1 "$TARGETS"); do
    echo "  - {addresses: [\"127.0.1.$i\"], conditions: {ready: true}, nodeName: node-$i}"
  done
  # The Endpoints object a cluster keeps beside the slice; the pool's default
  # serviceDiscoveryRole (Endpoints, as the Prometheus Operator's) reads this one.
  cat <<EOF
---
apiVersion: v1
kind: Endpoints
metadata: {name: node-exporter, namespace: monitoring, labels: {app: node-exporter}}
subsets:
- ports: [{name: metrics, port: 9100, protocol: TCP}]
  addresses:
EOF
  for i in $(seq 1 "$TARGETS"); do
    echo "  - {ip: \"127.0.1.$i\", nodeName: node-$i}"
  done
  cat <<EOF
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: node-exporter, namespace: monitoring, labels: {shardwise.io/pool: main}}
spec:
  selector: {matchLabels: {app: node-exporter}}
  endpoints: [{port: metrics, interval: 5s}]
---
apiVersion: shardwise.io/v1alpha1
kind: ScrapePool
metadata: {name: main, namespace: monitoring}
spec:
  shards: 3
  serviceMonitorSelector: {matchLabels: {shardwise.io/pool: main}}
  scrapeDefaults: {interval: 5s, timeout: 4s}
  externalLabels: {cluster: demo}
  remoteWrite: [{url: "http://127.0.0.1:$VM_PORT/api/v1/write"}]
EOF
} >"$WORK/objects.yaml"
kubectl apply -f "$WORK/objects.yaml"

step "Starting the operator"
OP_PORT=$(free_port)
"$OPERATOR" --kubeconfig="$KUBECONFIG" --web.listen-address="127.0.0.1:$OP_PORT" \
  --operator-url="http://127.0.0.1:$OP_PORT" --leader-election.namespace=monitoring \
  --resync=3s --heartbeat-timeout=20s \
  --discovery.authentication=none >"$WORK/operator.log" 2>&1 &  # scrapers here are processes, without pod tokens
PIDS+=($!)
wait_http "http://127.0.0.1:$OP_PORT/readyz" 30

start_scraper() {  # shard
  local shard=$1 port dir
  port=$(free_port)
  dir=$WORK/scraper-$shard
  mkdir -p "$dir"
  # The scraper config the operator rendered into the pool's ConfigMap (remote_write etc.).
  kubectl get configmap shardwise-main-config -n monitoring -o jsonpath='{.data.scraper\.yaml}' >"$dir/scraper.yaml"
  # Each scraper also scrapes itself (its shardwise_* metrics), next to its plan's targets.
  cat >>"$dir/scraper.yaml" <<EOF
scrape_configs:
  - job_name: shardwise-scraper
    scrape_interval: 5s
    static_configs: [{targets: ["127.0.0.1:$port"], labels: {pod: shardwise-main-0-$shard}}]
EOF
  POD_NAME=shardwise-main-0-$shard POD_NAMESPACE=monitoring "$SCRAPER" \
    --web.listen-address="127.0.0.1:$port" --operator-url="http://127.0.0.1:$OP_PORT" \
    --config.file="$dir/scraper.yaml" --storage.tsdb.path="$dir/data" \
    --operator.report-interval=2s >"$dir/scraper.log" 2>&1 &
  PIDS+=($!)
  echo "shard $shard: pod shardwise-main-0-$shard on 127.0.0.1:$port (log $dir/scraper.log)"
}

step "Waiting for the operator to create the fleet's objects"
deadline=$((SECONDS + 30))
until kubectl get configmap shardwise-main-config -n monitoring >/dev/null 2>&1; do
  ((SECONDS < deadline)) || { echo "operator did not create the pool's objects"; tail -20 "$WORK/operator.log"; exit 1; }
  sleep 0.5
done
kubectl get statefulsets,services,poddisruptionbudgets,configmaps -n monitoring

step "Starting the scraper 'pods' (local processes with POD_NAME set)"
for s in 0 1 2; do start_scraper "$s"; done

step "Waiting until every target is scraped by exactly one shard"
deadline=$((SECONDS + 60))
while :; do
  total=$(curl -fsS "http://127.0.0.1:$VM_PORT/api/v1/query" --data-urlencode 'query=count(up{job="node-exporter"} == 1)' |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')
  [[ "$total" == "$TARGETS" ]] && break
  ((SECONDS < deadline)) || { echo "only $total of $TARGETS targets arrived"; break; }
  sleep 1
done
kubectl get scrapepools,scrapeshards -n monitoring

step "What VictoriaMetrics received"
vm_query() {  # PromQL → one line per result: labels, value
  curl -fsS "http://127.0.0.1:$VM_PORT/api/v1/query" --data-urlencode "query=$1" |
    python3 -c "$(cat <<'PY'
import json, sys
for r in json.load(sys.stdin)["data"]["result"]:
    labels = ", ".join(f"{k}={v}" for k, v in sorted(r["metric"].items()))
    print(f"  {{{labels}}}  {r['value'][1]}")
PY
)"
}
echo "series per job:"
vm_query 'count by (job, cluster) ({job=~"node-exporter|shardwise-scraper"})'
echo "samples each scraper pod scraped so far (from its own metrics, scraped by itself):"
vm_query 'sum by (pod) (shardwise_scrape_samples_scraped_total{job="shardwise-scraper"})'

step "Scaling to 4 shards with kubectl scale (scale subresource)"
kubectl scale scrapepool main -n monitoring --replicas=4
start_scraper 3
deadline=$((SECONDS + 60))
until [[ "$(kubectl get scrapeshard main-3 -n monitoring -o jsonpath='{.status.activeSeries}' 2>/dev/null)" =~ ^[1-9] ]]; do
  ((SECONDS < deadline)) || break
  sleep 1
done
sleep 3  # one more report round, so every shard's figures are after the move
kubectl get scrapeshards -n monitoring
kubectl describe scrapepool main -n monitoring | tail -15

if ((KEEP)); then
  step "Running; Ctrl-C to stop. KUBECONFIG=$KUBECONFIG"
  wait
fi
