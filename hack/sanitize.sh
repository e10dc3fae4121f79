#!/usr/bin/env bash
# The sanitizer stage of hack/test.sh (CI runs it; SANITIZE=0 bash hack/test.sh skips it):
# the tests again, in two more build directories, each building only the tests it runs.
#   build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer (leaks included): the unit and
#                integration tests of common/ and scraper/ (parsing, scraping, TSDB,
#                remote write, plan files) and of the operator's pure parts (assignment,
#                PromQL, adapter rules), plus the sample app (ASAN_TESTS). The operator's
#                Kubernetes-facing tests run under TSan below; the suites under tests/ run in
#                the plain build only. The API simulator's own unit tests (kubesim_test,
#                kubelet_test, kubesim_auth_test) join with SANITIZE_KUBESIM=1: the simulator
#                is test equipment and the largest build (about 14 CPU-minutes cold under
#                ASan, ~7 min on 2 cores, tests ~35 s), more than CI's 60-minute budget holds.
#   build-tsan/  ThreadSanitizer: the operator's and the scraper's concurrency tests
#                (informers, work queue, discovery endpoint, pool reconcile, plan client and
#                reporter, scrape loops and manager, remote-write queues, the label pairs the
#                head and remote write share; TSAN_TESTS).
# Built at -O1 with line tables only, benchmarks off, through ccache when present, so the
# stage fits CI's budget on 2 cores; each test is bounded by its ctest timeout (tripled for
# sanitized builds, cmake/Shardwise.cmake) and each run by SANITIZE_TIMEOUT seconds.
#   SANITIZERS="asan tsan" (default)   which builds to run
#   ASAN_TESTS=/TSAN_TESTS="a b"        other test lists (ctest names = target names)
#   SANITIZE_KUBESIM=1                  ASan+UBSan over kube-sim's unit tests too
#   extra arguments go to both ctest runs
# Findings fail the test that triggered them; the report is in its ctest output. Our code has
# no suppressions: hack/tsan.supp and hack/lsan.supp name system libraries only.
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-$(nproc)}
SANITIZERS=${SANITIZERS:-asan tsan}
SANITIZE_TIMEOUT=${SANITIZE_TIMEOUT:-1200}
ASAN_TESTS=${ASAN_TESTS:-common_test relabel_test http_test http_client_config_test \
metrics_test log_test flags_test plan_test parse_test parse_testdata_test scrape_unit_test \
scrape_loop_test scrape_manager_test sd_test tsdb_wal_test tsdb_record_test tsdb_chunk_test \
tsdb_head_test tsdb_db_test tsdb_wal_cap_test tsdb_bounds_test tsdb_crash_test \
tsdb_api_test tsdb_prometheus_integration_test remotewrite_encoder_test \
remotewrite_config_test remotewrite_retry_test remotewrite_queue_test \
remotewrite_metadata_test remotewrite_writer_test remotewrite_http_test \
remotewrite_tsdb_test remotewrite_integration_test remotewrite_disk_full_test \
opclient_unit_test assign_test assign_handoff_test assign_unit_test promql_test \
promql_prometheus_differential_test promql_remote_read_test adapter_rules_test \
sample_app_test storage_label_pair_table_test}
if [[ "${SANITIZE_KUBESIM:-0}" == 1 ]]; then
  ASAN_TESTS+=" kubesim_test kubelet_test kubesim_auth_test"
fi
TSAN_TESTS=${TSAN_TESTS:-kube_test endpoint_test pool_test opclient_unit_test \
opclient_integration_test scrape_unit_test scrape_loop_test scrape_manager_test \
remotewrite_queue_test remotewrite_writer_test storage_label_pair_table_test remotewrite_tsdb_test}

source hack/lib/build.sh
configure() {  # dir sanitizers
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=None "-DCMAKE_CXX_FLAGS=-O1 -g1" \
    "-DCMAKE_C_FLAGS=-O1 -g1" -DSHARDWISE_SANITIZE="$2" -DSHARDWISE_BENCHMARKS=OFF \
    -DSHARDWISE_WERROR=ON -DSHARDWISE_STRICT_SOURCES=ON "${CCACHE_LAUNCHER[@]}" >/dev/null
}

# Builds and runs exactly the tests named in $3 in build dir $1 with sanitizers $2.
run() {
  local dir=$1 sanitizers=$2 start=$SECONDS
  local -a targets
  read -r -a targets <<<"$3"
  shift 3
  echo "sanitize.sh: $dir (-fsanitize=$sanitizers): building ${#targets[@]} tests"
  configure "$dir" "$sanitizers"
  ninja -C "$dir" -j "$JOBS" "${targets[@]}"
  local built=$SECONDS
  local regex
  regex="^($(IFS='|'; echo "${targets[*]}"))\$"
  timeout --signal=TERM --kill-after=30 "$SANITIZE_TIMEOUT" \
    ctest --test-dir "$dir" --output-on-failure -j "$JOBS" --timeout 600 -R "$regex" "$@"
  echo "sanitize.sh: $dir: build $((built - start)) s, tests $((SECONDS - built)) s"
}

# Findings are fatal and land in the failing test's output.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/hack/tsan.supp}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/hack/lsan.supp}

for s in $SANITIZERS; do
  case "$s" in
    asan) run build-asan address,undefined "$ASAN_TESTS" "$@" ;;
    tsan) run build-tsan thread "$TSAN_TESTS" "$@" ;;
    *)
      echo "sanitize.sh: unknown sanitizer build \"$s\" (asan, tsan)" >&2
      exit 2
      ;;
  esac
done
