# Sourced by every script that builds (hack/test.sh, sanitize.sh, fuzz.sh, demo.sh): use
# ccache when it is installed (hack/install-deps.sh installs it), with paths hashed relative
# to this checkout so that a fresh clone in another folder, or a second build directory,
# still hits the cache. Pass "${CCACHE_LAUNCHER[@]}" to cmake.
SHARDWISE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CCACHE_LAUNCHER=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$SHARDWISE_ROOT" CCACHE_NOHASHDIR=1 \
    CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  CCACHE_LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

# configure_build DIR: the one configuration of the main build directory, whoever makes it
# first (the tests or the demo). The same compiler flags give the same cache keys, so a
# demo after a test run, or in a fresh clone, compiles nothing the tests compiled.
configure_build() {
  cmake -S "$SHARDWISE_ROOT" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSHARDWISE_WERROR=ON -DSHARDWISE_STRICT_SOURCES=ON "${CCACHE_LAUNCHER[@]}"
}
