// Helpers shared by the libFuzzer targets. A broken invariant aborts, so that the fuzzer
// records the input as a crash just as it does for a sanitizer report.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace shardwise::fuzz {

inline void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace shardwise::fuzz
