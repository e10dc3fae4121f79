#include "operator/custommetrics/plan_directory.h"

#include <map>
#include <tuple>

#include "operator/endpoint/naming.h"

namespace shardwise::custommetrics {
namespace {

using nlohmann::json;

bool PodReady(const json& pod) {
  const json& conds = pod.value("status", json::object()).value("conditions", json::array());
  if (!conds.is_array()) return false;
  for (const auto& c : conds) {
    if (c.is_object() && c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

}  // namespace

PlanShardDirectory::PlanShardDirectory(const endpoint::PlanStore* plans, const kube::Store* pods,
                                       int scraper_port)
    : plans_(plans), pods_(pods), port_(scraper_port) {}

std::vector<ShardInfo> PlanShardDirectory::Shards() const {
  struct Replica {
    bool ready = false;
    std::string url;
  };
  std::map<std::tuple<std::string, std::string, int>, ShardInfo> shards;
  std::map<std::tuple<std::string, std::string, int>, std::vector<Replica>> replicas;
  for (const auto& key : plans_->Keys()) {
    auto plan = plans_->Get(key);
    if (!plan) continue;
    auto id = std::make_tuple(key.ns, key.pool, key.shard);
    ShardInfo& info = shards[id];
    info.name = key.ns + "/" + key.pool + "/" + std::to_string(key.shard);
    for (const auto& t : plan->targets) {
      // honor_labels or metric relabelings may give the series other values for the
      // target's labels: such a target may hold anything.
      bool rewrites =
          t.honor_labels || (t.metric_relabelings.is_array() && !t.metric_relabelings.empty());
      info.targets.push_back(rewrites ? Labels{} : t.labels);
    }
    auto pod = pods_->Get(key.ns + "/" + endpoint::PodName(key.pool, key.shard, key.replica));
    if (!pod) continue;
    const json& status = pod->value("status", json::object());
    std::string ip = status.is_object() ? status.value("podIP", "") : "";
    if (ip.empty() || pod->value("metadata", json::object()).contains("deletionTimestamp")) {
      continue;
    }
    std::string host = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
    replicas[id].push_back({PodReady(*pod), "http://" + host + ":" + std::to_string(port_)});
  }
  std::vector<ShardInfo> out;
  for (auto& [id, info] : shards) {
    auto& rs = replicas[id];
    std::stable_sort(rs.begin(), rs.end(),
                     [](const Replica& a, const Replica& b) { return a.ready > b.ready; });
    for (const auto& r : rs) info.urls.push_back(r.url);
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace shardwise::custommetrics
