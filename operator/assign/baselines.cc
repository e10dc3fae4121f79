#include "operator/assign/baselines.h"

#include <openssl/evp.h>
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace shardwise::assign {

uint64_t PrometheusHashmod(std::string_view value, uint64_t modulus) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(value.data(), value.size(), digest, &size, EVP_md5(), nullptr);
  uint64_t sum = 0;
  for (unsigned int i = 8; i < 16; ++i) sum = (sum << 8) | digest[i];
  return sum % modulus;
}

PartitionRing::PartitionRing(const std::vector<std::string>& members, Options options)
    : partition_owner_(options.partitions, 0) {
  if (members.empty()) return;
  std::vector<std::pair<uint64_t, uint32_t>> ring;  // (point, member)
  for (uint32_t m = 0; m < members.size(); ++m) {
    for (uint32_t i = 0; i < options.points_per_member; ++i) {
      const std::string key = members[m] + std::to_string(i);
      ring.emplace_back(XXH64(key.data(), key.size(), 0), m);
    }
  }
  std::sort(ring.begin(), ring.end());
  const auto max_load =
      static_cast<uint32_t>(std::ceil(static_cast<double>(options.partitions) /
                                      static_cast<double>(members.size()) * options.load));
  std::vector<uint32_t> load(members.size(), 0);
  for (uint32_t p = 0; p < options.partitions; ++p) {
    unsigned char key[8];
    for (int b = 0; b < 8; ++b) key[b] = static_cast<unsigned char>(uint64_t{p} >> (8 * b));
    const uint64_t h = XXH64(key, sizeof(key), 0);
    size_t at =
        std::lower_bound(ring.begin(), ring.end(), std::make_pair(h, uint32_t{0})) - ring.begin();
    // Capacity sums to at least the partition count, so the walk always ends.
    for (size_t step = 0; step < ring.size(); ++step, ++at) {
      const uint32_t m = ring[at % ring.size()].second;
      if (load[m] + 1 <= max_load) {
        ++load[m];
        partition_owner_[p] = m;
        break;
      }
    }
  }
}

uint32_t PartitionRing::Locate(std::string_view key) const {
  const uint64_t h = XXH64(key.data(), key.size(), 0);
  return partition_owner_[h % partition_owner_.size()];
}

}  // namespace shardwise::assign
