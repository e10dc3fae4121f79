#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang in build-fuzz/ and fuzzes each for a
# bounded time. Exits non-zero when a fuzzer finds a crash, a sanitizer report or a broken
# invariant; the reproducer lands in build-fuzz/artifacts/<target>-crash-*. Reproduce one
# with build-fuzz/fuzz/<target> <file>.
#
#   FUZZ_SECONDS=84 (default)   total fuzzing time, split evenly among the targets run
#   FUZZ_TARGETS="a b"          only these targets (names without _fuzz); default all
#   FUZZ_JOBS=1                 parallel fuzzing processes per target (2 cores shared)
#   Usage: hack/fuzz.sh [extra libFuzzer flags]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
ALL_TARGETS="parser relabel plan wal_record chunk remote_read patch scrape_config query_api discovery reports custom_metrics"
TARGETS="${FUZZ_TARGETS:-$ALL_TARGETS}"
read -r -a TARGET_LIST <<<"$TARGETS"
TOTAL_SECONDS="${FUZZ_SECONDS:-84}"
PER_TARGET=$((TOTAL_SECONDS / ${#TARGET_LIST[@]}))
((PER_TARGET >= 1)) || PER_TARGET=1
JOBS="${FUZZ_JOBS:-1}"

source "$ROOT/hack/lib/build.sh"
cmake -S "$ROOT" -B "$BUILD" -G Ninja "${CCACHE_LAUNCHER[@]}" \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHARDWISE_FUZZ=ON -DSHARDWISE_BENCHMARKS=OFF >/dev/null
NINJA_TARGETS=()
for t in "${TARGET_LIST[@]}"; do NINJA_TARGETS+=("${t}_fuzz"); done
ninja -C "$BUILD" -j2 "${NINJA_TARGETS[@]}"

# Seeds: the committed corpus (fuzz/corpus/<target>/) and, for the exposition parser, the
# recorded expositions, each prefixed with the format byte that target reads first
# (0: Prometheus text, 1: OpenMetrics).
mkdir -p "$BUILD/seeds/parser" "$BUILD/artifacts"
for f in "$ROOT"/scraper/testdata/*.prom; do
  { printf '\0'; cat "$f"; } >"$BUILD/seeds/parser/$(basename "$f")"
done
for f in "$ROOT"/scraper/testdata/*.om.txt; do
  { printf '\1'; cat "$f"; } >"$BUILD/seeds/parser/$(basename "$f")"
done

dict_for() {
  case "$1" in
    plan | patch | reports) echo "-dict=$ROOT/fuzz/dicts/json.dict" ;;
    relabel | scrape_config) echo "-dict=$ROOT/fuzz/dicts/yaml.dict" ;;
  esac
}

export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
PARALLEL=()
if ((JOBS > 1)); then PARALLEL=(-jobs="$JOBS" -workers="$JOBS"); fi
FAILED=()
for t in "${TARGET_LIST[@]}"; do
  corpus="$BUILD/corpus/$t"  # grows across runs; seeds stay read-only
  seeds=()
  [[ -d "$ROOT/fuzz/corpus/$t" ]] && seeds+=("$ROOT/fuzz/corpus/$t")
  [[ -d "$BUILD/seeds/$t" ]] && seeds+=("$BUILD/seeds/$t")
  mkdir -p "$corpus"
  dict=()
  [[ -n "$(dict_for "$t")" ]] && dict=("$(dict_for "$t")")
  echo "=== ${t}_fuzz for ${PER_TARGET}s"
  if ! "$BUILD/fuzz/${t}_fuzz" -max_total_time="$PER_TARGET" "${PARALLEL[@]}" "${dict[@]}" \
    -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$BUILD/artifacts/${t}-" "$@" "$corpus" "${seeds[@]}"; then
    FAILED+=("$t")
  fi
done
if ((${#FAILED[@]})); then
  echo "fuzz.sh: findings in: ${FAILED[*]} (reproducers in $BUILD/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: no findings in ${TARGET_LIST[*]}"
