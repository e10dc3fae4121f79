#include "operator/custommetrics/shard_fanout.h"

#include <algorithm>
#include <future>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "common/http/message.h"
#include "common/metrics/registry.h"
#include "operator/promql/remote_read_source.h"

namespace shardwise::custommetrics {
namespace {

using Clock = std::chrono::steady_clock;

metrics::CounterFamily& ShardRequests() {
  static auto& f = metrics::Registry::Default().AddCounterFamily(
      "shardwise_custom_metrics_shard_requests_total",
      "Requests to scraper shards for custom metrics (remote read, series), by result.",
      {"result"});
  return f;
}

std::string Seconds(int64_t ms) {
  return std::to_string(ms / 1000) + "." + std::to_string(1000 + ms % 1000).substr(1);
}

void MergeInto(std::map<Labels, promql::Series>& into, std::vector<promql::Series> from) {
  for (auto& s : from) {
    auto [it, inserted] = into.try_emplace(s.labels, std::move(s));
    if (inserted) continue;
    auto& pts = it->second.points;
    pts.insert(pts.end(), s.points.begin(), s.points.end());
    std::stable_sort(pts.begin(), pts.end(),
                     [](const promql::Point& a, const promql::Point& b) { return a.t < b.t; });
    pts.erase(
        std::unique(pts.begin(), pts.end(),
                    [](const promql::Point& a, const promql::Point& b) { return a.t == b.t; }),
        pts.end());
  }
}

}  // namespace

bool TargetMayMatch(const Labels& target, const std::vector<promql::Matcher>& matchers) {
  for (const auto& m : matchers) {
    if (!target.Has(m.name)) continue;
    if (!m.Matches(target.Get(m.name))) return false;
  }
  return true;
}

bool ShardMayHold(const ShardInfo& shard, const std::vector<promql::Matcher>& matchers) {
  return std::any_of(shard.targets.begin(), shard.targets.end(),
                     [&](const Labels& t) { return TargetMayMatch(t, matchers); });
}

ShardFanout::ShardFanout(const ShardDirectory* directory, http::Client* client, Options options)
    : directory_(directory), client_(client), options_(options) {}

template <typename T>
Result<std::vector<T>> ShardFanout::Gather(
    const std::vector<promql::Matcher>& matchers, size_t* shards_asked, Status* partial_error,
    const std::function<Result<std::vector<T>>(const std::string& url,
                                               std::chrono::milliseconds timeout)>& one) const {
  const auto deadline = Clock::now() + options_.deadline;
  std::vector<ShardInfo> shards;
  for (auto& s : directory_->Shards()) {
    if (ShardMayHold(s, matchers)) shards.push_back(std::move(s));
  }
  if (shards_asked) *shards_asked = shards.size();
  // One thread per shard asked: each is bounded by the deadline through the client's timeout.
  std::vector<std::future<Result<std::vector<T>>>> answers;
  for (const auto& shard : shards) {
    answers.push_back(std::async(std::launch::async, [&, shard]() -> Result<std::vector<T>> {
      if (shard.urls.empty()) {
        return Status::Unavailable("shard " + shard.name + " has no running scraper");
      }
      Status last;
      for (const auto& url : shard.urls) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) break;
        ++shard_requests_;
        auto r = one(url, left);
        ShardRequests().With({r.ok() ? "ok" : "error"}).Inc();
        if (r.ok()) return r;
        last = r.status();
      }
      if (last.ok()) {
        last = Status::DeadlineExceeded("no answer within " +
                                        std::to_string(options_.deadline.count()) + "ms");
      }
      return last.WithContext("shard " + shard.name);
    }));
  }
  std::vector<T> out;
  Status first_error;
  for (auto& a : answers) {
    auto r = a.get();
    if (!r.ok()) {
      if (first_error.ok()) first_error = r.status();
      continue;
    }
    for (auto& item : *r) out.push_back(std::move(item));
  }
  if (!first_error.ok()) {
    if (!partial_error) return first_error;
    *partial_error = first_error;
  }
  return out;
}

Result<std::vector<promql::Series>> ShardFanout::Select(
    const std::vector<promql::Matcher>& matchers, int64_t mint, int64_t maxt,
    size_t* shards_asked) const {
  auto all = Gather<promql::Series>(
      matchers, shards_asked, nullptr,
      [&](const std::string& url,
          std::chrono::milliseconds timeout) -> Result<std::vector<promql::Series>> {
        promql::RemoteReadSource source(*client_, url + "/api/v1/read", timeout);
        return source.Select(matchers, mint, maxt);
      });
  if (!all.ok()) return all.status();
  std::map<Labels, promql::Series> merged;
  MergeInto(merged, std::move(all).value());
  std::vector<promql::Series> out;
  out.reserve(merged.size());
  for (auto& [labels, s] : merged) out.push_back(std::move(s));
  return out;
}

Result<std::vector<Labels>> ShardFanout::Series(const std::string& selector,
                                                const std::vector<promql::Matcher>& matchers,
                                                int64_t mint, int64_t maxt,
                                                Status* partial_error) const {
  auto all = Gather<Labels>(
      matchers, nullptr, partial_error,
      [&](const std::string& url,
          std::chrono::milliseconds timeout) -> Result<std::vector<Labels>> {
        http::ClientRequest req;
        req.url = url + "/api/v1/series?match[]=" + http::PercentEncode(selector) +
                  "&start=" + Seconds(mint) + "&end=" + Seconds(maxt);
        req.timeout = timeout;
        req.max_body_bytes = 64 << 20;
        auto resp = client_->DoSync(req);
        if (!resp.ok()) return resp.status().WithContext("series " + url);
        if (resp->status != 200) {
          return Status::Unavailable("series " + url + ": HTTP " + std::to_string(resp->status) +
                                     ": " + resp->body.substr(0, 256));
        }
        auto j = nlohmann::json::parse(resp->body, nullptr, false);
        if (j.is_discarded() || !j.contains("data") || !j["data"].is_array()) {
          return Status::Corruption("series " + url + ": malformed answer");
        }
        std::vector<Labels> out;
        for (const auto& obj : j["data"]) {
          if (!obj.is_object()) continue;
          std::vector<Label> ls;
          for (const auto& [k, v] : obj.items()) {
            if (v.is_string()) ls.push_back({k, v.get<std::string>()});
          }
          out.push_back(Labels::FromUnsorted(std::move(ls)));
        }
        return out;
      });
  if (!all.ok()) return all.status();
  std::set<Labels> unique(all->begin(), all->end());
  return std::vector<Labels>(unique.begin(), unique.end());
}

Result<std::vector<promql::Series>> FanoutSource::Select(
    const std::vector<promql::Matcher>& matchers, int64_t mint, int64_t maxt) {
  size_t asked = 0;
  auto r = fanout_->Select(matchers, mint, maxt, &asked);
  shards_asked_ += asked;
  return r;
}

}  // namespace shardwise::custommetrics
