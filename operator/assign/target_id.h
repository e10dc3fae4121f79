// Target identity for assignment: a stable 64-bit id per scrape target and a key per job.
//
// TargetId hashes job + address + metrics path + URL params with xxHash3 over a
// length-prefixed encoding, so no two distinct inputs share an encoding and the id is the
// same in every process and release (it is persisted in assignments and plans). Params
// are order-independent: they are sorted by name, then value, before hashing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shardwise::assign {

using Params = std::vector<std::pair<std::string, std::string>>;

uint64_t TargetId(std::string_view job, std::string_view address, std::string_view path,
                  const Params& params = {});

// Groups targets of one job so unmeasured targets can borrow the job's mean weight.
uint64_t JobKey(std::string_view job);

}  // namespace shardwise::assign
