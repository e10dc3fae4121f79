#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ and fuzzes the exposition parser
# for a bounded time. Exits non-zero when the fuzzer finds a crash, a sanitizer report or
# a broken invariant; the reproducer lands in build-fuzz/artifacts/.
#
#   FUZZ_SECONDS=60 (default)   how long to fuzz
#   FUZZ_JOBS=1                 parallel fuzzing processes (the machine has 2 cores)
#   Usage: hack/fuzz.sh [extra libFuzzer flags]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
SECONDS_TO_RUN="${FUZZ_SECONDS:-60}"
JOBS="${FUZZ_JOBS:-1}"

cmake -S "$ROOT" -B "$BUILD" -G Ninja \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHARDWISE_FUZZ=ON -DSHARDWISE_BENCHMARKS=OFF >/dev/null
ninja -C "$BUILD" -j2 parser_fuzz

# Seed corpus: the recorded expositions, each prefixed with the format byte the target
# reads first (0: Prometheus text, 1: OpenMetrics).
CORPUS="$BUILD/corpus/parser"
SEEDS="$BUILD/seeds/parser"
mkdir -p "$CORPUS" "$SEEDS" "$BUILD/artifacts"
for f in "$ROOT"/scraper/testdata/*.prom; do
  { printf '\0'; cat "$f"; } >"$SEEDS/$(basename "$f")"
done
for f in "$ROOT"/scraper/testdata/*.om.txt; do
  { printf '\1'; cat "$f"; } >"$SEEDS/$(basename "$f")"
done

export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
PARALLEL=()
if ((JOBS > 1)); then PARALLEL=(-jobs="$JOBS" -workers="$JOBS"); fi
"$BUILD/fuzz/parser_fuzz" -max_total_time="$SECONDS_TO_RUN" "${PARALLEL[@]}" \
  -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$BUILD/artifacts/" "$@" "$CORPUS" "$SEEDS"
