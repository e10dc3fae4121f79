// How scraper pods are named, so a pod's name alone identifies its pool, shard and replica.
// Each replica set of a pool is one StatefulSet `shardwise-<pool>-<replica>` whose pod
// ordinal is the shard index: pod `shardwise-<pool>-<replica>-<shard>`. Parsing goes from
// the right, so pool names containing dashes and digits stay unambiguous.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace shardwise::endpoint {

struct ShardKey {
  std::string ns;
  std::string pool;
  int shard = 0;
  int replica = 0;
  auto operator<=>(const ShardKey&) const = default;
  std::string ToString() const;
};

std::string StatefulSetName(std::string_view pool, int replica);
// The ServiceAccount every scraper pod of the pool runs as, `shardwise-<pool>-scraper`: the
// identity the discovery endpoint checks scraper tokens against.
std::string ScraperServiceAccountName(std::string_view pool);
std::string PodName(std::string_view pool, int shard, int replica);
std::optional<ShardKey> ParsePodName(std::string_view ns, std::string_view pod);

}  // namespace shardwise::endpoint
