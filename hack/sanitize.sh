#!/usr/bin/env bash
# The sanitizer stage of hack/test.sh: the tests again, in two more build directories.
#   build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer (leaks included): every unit
#                and integration test except the e2e ones on the local cluster.
#   build-tsan/  ThreadSanitizer: the operator's and the scraper's concurrency tests
#                (informers, work queue, discovery endpoint, plan client and reporter, scrape
#                loops and manager, remote-write queues).
# Built at -O1 with line tables only, benchmarks off, through ccache when present, so the
# stage fits CI's budget; each test is bounded by ctest's timeout.
#   SANITIZERS="asan tsan" (default)   which builds to run
#   extra arguments go to both ctest runs
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-$(nproc)}
SANITIZERS=${SANITIZERS:-asan tsan}
TSAN_TESTS=${TSAN_TESTS:-kube_test endpoint_test pool_test opclient_unit_test \
opclient_integration_test scrape_unit_test scrape_loop_test scrape_manager_test \
remotewrite_queue_test remotewrite_writer_test}

configure() {  # dir sanitizers
  local launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=None "-DCMAKE_CXX_FLAGS=-O1 -g1" \
    "-DCMAKE_C_FLAGS=-O1 -g1" -DSHARDWISE_SANITIZE="$2" -DSHARDWISE_BENCHMARKS=OFF \
    -DSHARDWISE_WERROR=ON -DSHARDWISE_STRICT_SOURCES=ON "${launcher[@]}" >/dev/null
}

# Findings fail the test that triggered them; sanitizer output lands in its ctest log.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/hack/tsan.supp}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/hack/lsan.supp}

for s in $SANITIZERS; do
  case "$s" in
    asan)
      configure build-asan address,undefined
      ninja -C build-asan -j "$JOBS"
      ctest --test-dir build-asan --output-on-failure -j "$JOBS" --timeout 600 -LE 'e2e|slow' "$@"
      ;;
    tsan)
      configure build-tsan thread
      read -r -a targets <<<"$TSAN_TESTS"
      ninja -C build-tsan -j "$JOBS" "${targets[@]}"
      regex="^($(IFS='|'; echo "${targets[*]}"))\$"
      ctest --test-dir build-tsan --output-on-failure -j "$JOBS" --timeout 600 -R "$regex" "$@"
      ;;
    *)
      echo "sanitize.sh: unknown sanitizer build \"$s\" (asan, tsan)" >&2
      exit 2
      ;;
  esac
done
