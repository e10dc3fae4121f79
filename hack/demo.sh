#!/usr/bin/env bash
# The main job: Shardwise deployed as a user would, on the local simulated cluster
# (hack/kube-sim with 3 Nodes and a kubelet that runs every pod as a real process; loopback
# only; see docs/local-cluster.md).
#
#   kubectl apply -f crds/...        the CRDs (waits for Established)
#   kubectl apply -k manifests/      the operator: its Deployment's pods, its ServiceAccount
#   kubectl apply -k manifests/examples/
#       node-exporter    DaemonSet + Service + ServiceMonitor   (namespace monitoring)
#       sample-app       Deployment + Service + PodMonitor      (namespace default)
#       victoria-metrics Deployment + Service: the remote-write receiver
#       ScrapePool main  3 shards: the operator's StatefulSet, whose pods the kubelet runs
#
# Then it shows the pods, pools and shards, the series that arrived in VictoriaMetrics,
# `kubectl scale scrapepool main --replicas=4` and the shards following, and a scraper pod
# deleted and recreated (same name, Running again, its PVC data kept). Each step prints
# PASS or FAIL.
#
# Usage: bash hack/demo.sh [--exit] [--no-build]
#   (default)   keeps running until Ctrl-C, printing the KUBECONFIG line and URLs to open
#   --exit      runs the scenario and exits; non-zero when any step failed (CI: ctest demo)
#   --no-build  reuse the binaries in $BUILD_DIR (default build/) without running ninja
# Everything it started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

EXIT=0
BUILD=1
for arg in "$@"; do
  case "$arg" in
    --exit) EXIT=1 ;;
    --no-build) BUILD=0 ;;
    -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done
BUILD_DIR=${BUILD_DIR:-build}
[[ "$BUILD_DIR" = /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
TARGETS=(shardwise-kube-sim shardwise-operator shardwise-scraper shardwise-sample-app)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
FAILED=0
pass() { printf '\033[32mPASS\033[0m %s\n' "$*"; }
fail() { printf '\033[31mFAIL\033[0m %s\n' "$*"; FAILED=$((FAILED + 1)); }
# With --exit the whole scenario has a budget (ctest's TIMEOUT would kill the script before
# its trap could stop the simulator): no wait runs past it. It starts once the binaries are
# built (below), so a first run's package install and build do not use it up.
BUDGET=${DEMO_BUDGET_SECONDS:-240}
# wait_until SECONDS COMMAND...: polls COMMAND (quietly) until it succeeds or the deadline.
wait_until() {
  local deadline=$((SECONDS + $1))
  ((EXIT == 0 || deadline < BUDGET)) || deadline=$BUDGET
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}
# expect DESCRIPTION SECONDS COMMAND...: one PASS/FAIL step that waits for COMMAND.
expect() {
  local what=$1 secs=$2
  shift 2
  if wait_until "$secs" "$@"; then pass "$what"; else fail "$what (not within ${secs}s)"; fi
}

step "Prerequisites (hack/install-deps.sh)"
bash hack/install-deps.sh

if ((BUILD)); then
  step "Building ${TARGETS[*]} in $BUILD_DIR"
  source hack/lib/build.sh
  [[ -f "$BUILD_DIR/build.ninja" ]] || configure_build "$BUILD_DIR"
  # ninja's own [n/total] progress, one line per step: no silent minutes.
  NINJA_STATUS='[%f/%t %es] ' ninja -C "$BUILD_DIR" -j"${JOBS:-$(nproc)}" "${TARGETS[@]}" | cat
fi
SIM=$BUILD_DIR/hack/kube-sim/shardwise-kube-sim
for b in "$SIM" "$BUILD_DIR/operator/shardwise-operator" "$BUILD_DIR/scraper/shardwise-scraper" \
  "$BUILD_DIR/hack/sample-app/shardwise-sample-app"; do
  [[ -x "$b" ]] || { echo "demo: $b is missing (build it, or drop --no-build)" >&2; exit 1; }
done
((EUID == 0)) || echo "demo: warning: the simulated kubelet needs root (mount namespaces)" >&2

BUDGET=$((SECONDS + BUDGET))
WORK=$(mktemp -d /tmp/shardwise-demo.XXXXXX)
SIM_PID=
cleanup() {
  local rc=$?
  if [[ -n "$SIM_PID" ]]; then
    # SIGTERM: the simulator stops every pod within its grace period, then exits.
    kill -TERM "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
  fi
  echo "demo: stopped; logs and data are in $WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "Starting the local cluster: 3 Nodes, kubelet with the image map"
cat >"$WORK/images.yaml" <<EOF
# image -> program (docs/local-cluster.md)
images:
  shardwise/operator:
    command: ["$BUILD_DIR/operator/shardwise-operator"]
  shardwise/scraper:
    command: ["$BUILD_DIR/scraper/shardwise-scraper"]
  shardwise/sample-app:
    command: ["$BUILD_DIR/hack/sample-app/shardwise-sample-app"]
  quay.io/prometheus/node-exporter:
    command: ["$(command -v prometheus-node-exporter)"]
  victoriametrics/victoria-metrics:
    command: ["$(command -v victoria-metrics)"]
EOF
# kubectl uses the plain-HTTP listener (admin, no credentials); pods reach the HTTPS one
# with their ServiceAccount token (KUBERNETES_SERVICE_HOST/PORT and the mounted ca.crt).
"$SIM" --listen=127.0.0.1:0 --tls-listen=127.0.0.1:0 --cert-dir="$WORK/certs" \
  --kubeconfig-out="$WORK/kubeconfig" --nodes=3 --image-map="$WORK/images.yaml" \
  --data-dir="$WORK/cluster" --restart-backoff-scale=0.1 >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
export KUBECONFIG=$WORK/kubeconfig
export KUBECACHEDIR=$WORK/kubecache
wait_until 30 kubectl get --raw /healthz || { echo "demo: simulator did not start"; tail -20 "$WORK/sim.log"; exit 1; }
expect "nodes Ready" 30 kubectl wait --for=condition=Ready node --all --timeout=5s
kubectl get nodes -o wide

step "kubectl apply -f crds/"
kubectl apply -f crds/monitoring.coreos.com/ -f crds/shardwise.io/
expect "CRDs Established" 30 kubectl wait --for=condition=Established --timeout=5s \
  crd/servicemonitors.monitoring.coreos.com crd/podmonitors.monitoring.coreos.com \
  crd/scrapepools.shardwise.io crd/scrapeshards.shardwise.io
explains() { kubectl explain scrapepool.spec | grep -q '^FIELDS:'; }
expect "kubectl explain scrapepool.spec answers (its FIELDS)" 10 explains
kubectl explain scrapepool.spec | sed -n '1,25p'

step "kubectl apply -k manifests/ (the operator)"
kubectl apply -k manifests/
# Both replicas are Ready once their caches synced; the leader labels its own pod
# shardwise.io/leader=true and the Service selects that label.
expect "kubectl rollout status deploy/shardwise-operator (both replicas Ready)" 90 \
  kubectl rollout status deploy/shardwise-operator -n shardwise-system --timeout=5s
leader() {  # the pod holding the Lease, when exactly that pod carries the leader label
  local holder labelled
  holder=$(kubectl get lease shardwise-operator -n shardwise-system -o jsonpath='{.spec.holderIdentity}')
  labelled=$(kubectl get pods -n shardwise-system -l shardwise.io/leader=true -o jsonpath='{.items[*].metadata.name}')
  [[ -n "$holder" && "$labelled" == "$holder" ]] && echo "$holder"
}
service_routes_to_leader() {  # the Service's EndpointSlice lists exactly the leader's pod
  local l
  l=$(leader) && [[ "$(kubectl get endpointslices -n shardwise-system -l kubernetes.io/service-name=shardwise-operator \
    -o jsonpath='{.items[*].endpoints[*].targetRef.name}')" == "$l" ]]
}
expect "the Lease holder's pod is labelled shardwise.io/leader=true, the Service's endpoints are exactly it" 60 \
  service_routes_to_leader
kubectl get pods -n shardwise-system -L shardwise.io/leader
leader_ip() { kubectl get pod "$(leader)" -n shardwise-system -o jsonpath='{.status.podIP}'; }
sa=$(kubectl get pod -n shardwise-system -l app.kubernetes.io/name=shardwise-operator -o jsonpath='{.items[0].spec.serviceAccountName}')
[[ "$sa" == shardwise-operator ]] && pass "operator pods run as ServiceAccount shardwise-operator" ||
  fail "operator pods run as ServiceAccount '$sa'"

step "kubectl apply -k manifests/examples/ (node-exporter, sample-app, victoria-metrics, ScrapePool)"
kubectl apply -k manifests/examples/
expect "node-exporter DaemonSet rolled out" 90 kubectl rollout status ds/node-exporter -n monitoring --timeout=5s
expect "sample-app Deployment rolled out" 90 kubectl rollout status deploy/sample-app -n default --timeout=5s
expect "victoria-metrics Deployment rolled out" 90 kubectl rollout status deploy/victoria-metrics -n monitoring --timeout=5s
expect "scraper StatefulSet created by the operator" 60 kubectl get sts shardwise-main-0 -n shardwise-system
expect "scraper StatefulSet rolled out (3 pods)" 120 kubectl rollout status sts/shardwise-main-0 -n shardwise-system --timeout=5s
VM_IP=$(kubectl get svc victoria-metrics -n monitoring -o jsonpath='{.spec.clusterIP}')
VM=http://$VM_IP:8428

# vm_value QUERY: the first result's value (0 when none).
vm_value() {
  curl -fsS "$VM/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)'
}
vm_table() {  # PromQL -> one line per result: labels, value
  curl -fsS "$VM/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
for r in json.load(sys.stdin)["data"]["result"]:
    labels = ", ".join("%s=%s" % kv for kv in sorted(r["metric"].items()))
    print("  {%s}  %s" % (labels, r["value"][1]))' || echo "  (query failed)"
}
all_up() {  # every target of the 3 node-exporters and the 2 sample-app pods is up in VM
  local n
  n=$(vm_value 'count(up == 1)') && ((${n%.*} >= $1))
}
shards_ready() {  # N: N ScrapeShards, each reporting active series
  local got
  got=$(kubectl get scrapeshards -n shardwise-system -o jsonpath='{range .items[*]}{.status.activeSeries}{"\n"}{end}')
  [[ $(grep -c '^[1-9]' <<<"$got") -eq $1 ]]
}
pods_all_ready() {  # every pod Running and Ready (the standby operator replica too)
  kubectl get pods -A -o json | python3 -c '
import json, sys
bad = []
for p in json.load(sys.stdin)["items"]:
    name = p["metadata"]["namespace"] + "/" + p["metadata"]["name"]
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
    if p["status"].get("phase") != "Running" or not ready:
        bad.append(name)
if bad:
    print("not Running and Ready: " + " ".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)'
}

step "Waiting until every target is scraped and every shard reports"
expect "5 targets up in VictoriaMetrics (3 node-exporters, 2 sample-app pods)" 90 all_up 5
expect "3 ScrapeShards report active series" 60 shards_ready 3
expect "kubectl get pods -A: every pod Running and Ready" 30 pods_all_ready
pods_all_ready || true  # names the pods that are not, if any
kubectl get pods -A -o wide
kubectl get scrapepools,scrapeshards -A
ui_shard_map() {  # the operator's web UI (HTTPS, its own CA) shows all 3 shards with load
  local svc=shardwise-operator.shardwise-system.svc
  kubectl get cm shardwise-ca -n shardwise-system -o jsonpath='{.data.ca\.crt}' >"$WORK/operator-ca.crt" &&
    curl -fsS --cacert "$WORK/operator-ca.crt" --resolve "$svc:8080:$(leader_ip)" \
      "https://$svc:8080/api/v1/ui/pools/shardwise-system/main" | python3 -c '
import json, sys
shards = json.load(sys.stdin)["shardList"]
sys.exit(0 if len(shards) == 3 and all("series" in s for s in shards) else 1)'
}
expect "operator web UI at / shows the shard map (3 shards with load)" 30 ui_shard_map

step "What VictoriaMetrics received (HTTP API at $VM)"
echo "series per job:"
vm_table 'count by (job) ({job!=""})'
echo "targets up per job:"
vm_table 'sum by (job) (up)'

step "kubectl scale scrapepool main --replicas=4"
kubectl scale scrapepool main -n shardwise-system --replicas=4
expect "StatefulSet at 4 replicas, shardwise-main-0-3 Ready" 90 kubectl wait --for=condition=Ready \
  pod/shardwise-main-0-3 -n shardwise-system --timeout=5s
expect "4 ScrapeShards report active series" 90 shards_ready 4
expect "every target still up" 60 all_up 5
kubectl get scrapeshards -n shardwise-system

step "Deleting scraper pod shardwise-main-0-1: recreated under its name, its PVC data kept"
old_uid=$(kubectl get pod shardwise-main-0-1 -n shardwise-system -o jsonpath='{.metadata.uid}')
claim_uid=$(kubectl get pvc data-shardwise-main-0-1 -n shardwise-system -o jsonpath='{.metadata.uid}')
claim_dir=$(find "$WORK/cluster/pvc" -maxdepth 1 -name "*$claim_uid*" | head -1)
before=$(cd "$claim_dir" 2>/dev/null && find . -type f | sort | head -5)
echo "PVC data-shardwise-main-0-1 ($claim_dir) holds: ${before:-nothing}"
kubectl delete pod shardwise-main-0-1 -n shardwise-system --wait=false
new_pod() {
  local uid
  uid=$(kubectl get pod shardwise-main-0-1 -n shardwise-system -o jsonpath='{.metadata.uid}') &&
    [[ -n "$uid" && "$uid" != "$old_uid" ]] &&
    kubectl wait --for=condition=Ready pod/shardwise-main-0-1 -n shardwise-system --timeout=2s
}
expect "shardwise-main-0-1 recreated (new uid) and Ready again" 90 new_pod
data_kept() {
  local f
  [[ -n "$before" ]] || return 1
  [[ "$(kubectl get pvc data-shardwise-main-0-1 -n shardwise-system -o jsonpath='{.metadata.uid}')" == "$claim_uid" ]] || return 1
  for f in $before; do [[ -e "$claim_dir/$f" ]] || return 1; done
}
expect "same PVC, the WAL files written before the deletion are still there" 5 data_kept
expect "every target still up after the restart" 60 all_up 5
expect "kubectl get pods -A: every pod Running and Ready after the scale-up and the restart" 60 pods_all_ready
pods_all_ready || true
kubectl get pods -A

OP_IP=$(leader_ip)
SC_IP=$(kubectl get pod shardwise-main-0-0 -n shardwise-system -o jsonpath='{.status.podIP}' 2>/dev/null || true)
step "Summary: $FAILED step(s) failed"
cat <<EOF

  export KUBECONFIG=$KUBECONFIG
  kubectl get pods,scrapepools,scrapeshards -A
  kubectl explain scrapepool.spec

  operator status (leader):  https://${OP_IP:-<no leader>}:8080/  (curl --cacert: kubectl get cm shardwise-ca -n shardwise-system)
  scraper pages (shard 0):   http://${SC_IP:-<none>}:9091/targets   http://${SC_IP:-<none>}:9091/tsdb-status
  VictoriaMetrics:           $VM/vmui/   (query API: $VM/api/v1/query?query=up)
  logs and data:             $WORK
EOF

if ((EXIT)); then
  ((FAILED == 0))
  exit
fi
step "Running; Ctrl-C stops everything"
wait "$SIM_PID"
