#include "operator/assign/target_id.h"

#define XXH_STATIC_LINKING_ONLY  // for a stack-allocated XXH3_state_t
#include <xxhash.h>

#include <algorithm>

namespace shardwise::assign {
namespace {

// Each field is prefixed by its length so ("ab","c") and ("a","bc") hash differently.
void Field(XXH3_state_t* state, std::string_view field) {
  const uint64_t size = field.size();
  unsigned char prefix[8];
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<unsigned char>(size >> (8 * i));
  XXH3_64bits_update(state, prefix, sizeof(prefix));
  XXH3_64bits_update(state, field.data(), field.size());
}

}  // namespace

uint64_t TargetId(std::string_view job, std::string_view address, std::string_view path,
                  const Params& params) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  Field(&state, "target/v1");
  Field(&state, job);
  Field(&state, address);
  Field(&state, path);
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(params.size());
  for (const auto& p : params) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return *a < *b; });
  for (const auto* p : sorted) {
    Field(&state, p->first);
    Field(&state, p->second);
  }
  return XXH3_64bits_digest(&state);
}

uint64_t JobKey(std::string_view job) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  Field(&state, "job/v1");
  Field(&state, job);
  return XXH3_64bits_digest(&state);
}

}  // namespace shardwise::assign
