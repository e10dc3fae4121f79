#include "operator/endpoint/naming.h"

#include <charconv>

namespace shardwise::endpoint {
namespace {

constexpr std::string_view kPrefix = "shardwise-";

std::optional<int> TakeNumberFromRight(std::string_view& s) {
  size_t dash = s.rfind('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::string_view num = s.substr(dash + 1);
  int v = 0;
  auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (num.empty() || ec != std::errc() || p != num.data() + num.size() || v < 0)
    return std::nullopt;
  s = s.substr(0, dash);
  return v;
}

}  // namespace

std::string ShardKey::ToString() const {
  return ns + "/" + pool + "/shard-" + std::to_string(shard) + "/replica-" +
         std::to_string(replica);
}

std::string ScraperServiceAccountName(std::string_view pool) {
  return std::string(kPrefix) + std::string(pool) + "-scraper";
}

std::string StatefulSetName(std::string_view pool, int replica) {
  return std::string(kPrefix) + std::string(pool) + "-" + std::to_string(replica);
}

std::string PodName(std::string_view pool, int shard, int replica) {
  return StatefulSetName(pool, replica) + "-" + std::to_string(shard);
}

std::optional<ShardKey> ParsePodName(std::string_view ns, std::string_view pod) {
  if (pod.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = pod.substr(kPrefix.size());
  auto shard = TakeNumberFromRight(rest);
  if (!shard) return std::nullopt;
  auto replica = TakeNumberFromRight(rest);
  if (!replica || rest.empty()) return std::nullopt;
  return ShardKey{std::string(ns), std::string(rest), *shard, *replica};
}

}  // namespace shardwise::endpoint
