// The two placements Shardwise is measured against (assign_bench, docs/benchmarks-assign.md).
// Neither is used to run a pool; both are stateless functions of the shard set.
//
// Hashmod — the Prometheus Operator's sharding: each shard keeps the targets whose
// `hashmod` of __address__ equals its ordinal. Prometheus' hashmod takes the MD5 of the value
// and reads its last 8 bytes as a big-endian integer, modulo the shard count. Changing the
// shard count moves about N/(N+1) of all targets.
//
// PartitionRing — the OpenTelemetry Target Allocator's "consistent-hashing" strategy
// (github.com/buraksezer/consistent with 1061 partitions, 5 ring points per collector and a
// load factor of 1.1, hashed with XXH64): a target's key hashes to a partition; partitions
// are laid out on the ring in id order, each taking the first member clockwise whose
// partition count is below ceil(partitions / members × load). It balances partitions, hence
// target counts, never series.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shardwise::assign {

// Prometheus `hashmod` of `value` modulo `modulus` (modulus > 0).
uint64_t PrometheusHashmod(std::string_view value, uint64_t modulus);

class PartitionRing {
 public:
  struct Options {
    uint32_t partitions = 1061;
    uint32_t points_per_member = 5;
    double load = 1.1;
  };
  // Members are named e.g. "collector-3"; their names place them on the ring.
  PartitionRing(const std::vector<std::string>& members, Options options);
  explicit PartitionRing(const std::vector<std::string>& members)
      : PartitionRing(members, Options{}) {}

  // Index into `members` of the member owning `key` (the target URL in the Target Allocator).
  uint32_t Locate(std::string_view key) const;

 private:
  std::vector<uint32_t> partition_owner_;
};

}  // namespace shardwise::assign
