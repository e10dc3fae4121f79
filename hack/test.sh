#!/usr/bin/env bash
# The test command: installs prerequisites, configures, builds (warnings are errors) and
# runs every test with ctest, then the sanitizer stage (hack/sanitize.sh) and a bounded
# fuzz run of the parsers.
#   hack/test.sh                 # everything
#   hack/test.sh -L integration  # extra arguments go to ctest (and skip both later stages)
#   SANITIZE=0 hack/test.sh      # without the sanitizer stage; SKIP_FUZZ=1 without fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."

bash hack/install-deps.sh

# Formatting is part of the build: every C++ file must match .clang-format.
unformatted=$(git ls-files '*.cc' '*.h' | xargs clang-format --dry-run -Werror 2>&1 | grep -c 'error:' || true)
if [[ "$unformatted" != 0 ]]; then
  git ls-files '*.cc' '*.h' | xargs clang-format --dry-run -Werror 2>&1 | grep 'error:' | head -20
  echo "test.sh: $unformatted formatting differences; run: git ls-files '*.cc' '*.h' | xargs clang-format -i" >&2
  exit 1
fi

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
# ccache makes the three builds below (plain, sanitizers, fuzz) and repeated runs cheap.
source hack/lib/build.sh
echo "test.sh: configuring and building in $BUILD_DIR (ninja shows progress)"
configure_build "$BUILD_DIR" >/dev/null
ninja -C "$BUILD_DIR" -j "$JOBS"

# Tests that start servers pick free loopback ports, so they can run in parallel.
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" --timeout 600 "$@"

# The sanitizer stage: ASan+UBSan over the unit and integration tests, TSan over the
# concurrency tests, each in its own build directory with only those tests built
# (hack/sanitize.sh). Part of every full run, as CI's; SANITIZE=0 skips it locally.
if [[ $# -eq 0 && "${SANITIZE:-1}" != 0 ]]; then
  JOBS="$JOBS" bash hack/sanitize.sh
fi

if [[ $# -eq 0 && -x hack/fuzz.sh && "${SKIP_FUZZ:-0}" != 1 ]]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-60} bash hack/fuzz.sh
fi
