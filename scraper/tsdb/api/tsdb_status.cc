#include "scraper/tsdb/api/tsdb_status.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace shardwise::tsdb::api {

using json = nlohmann::json;

namespace {

using Counts = std::vector<std::pair<std::string, uint64_t>>;

// The `limit` largest, by value then name (stable answers for equal counts).
json Top(Counts counts, size_t limit) {
  auto by_value = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  const size_t n = std::min(limit, counts.size());
  std::partial_sort(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(n), counts.end(),
                    by_value);
  json out = json::array();
  for (size_t i = 0; i < n; ++i)
    out.push_back({{"name", counts[i].first}, {"value", counts[i].second}});
  return out;
}

}  // namespace

json TsdbStatusJson(const Head& head, size_t limit) {
  Counts metric_names, pairs;
  std::map<std::string, std::pair<uint64_t, uint64_t>, std::less<>> names;  // values, series
  uint64_t num_pairs = 0;
  head.ForEachLabelPair([&](std::string_view name, std::string_view value, size_t series) {
    ++num_pairs;
    if (series == 0) return;
    if (name == "__name__") metric_names.emplace_back(value, series);
    std::string pair(name);
    pair += '=';
    pair += value;
    pairs.emplace_back(std::move(pair), series);
    auto it = names.find(name);
    if (it == names.end()) it = names.emplace(std::string(name), std::pair{0, 0}).first;
    it->second.first += 1;
    it->second.second += series;
  });
  Counts value_counts, name_series;
  for (const auto& [name, c] : names) {
    value_counts.emplace_back(name, c.first);
    name_series.emplace_back(name, c.second);
  }
  HeadStats st = head.Stats();
  json head_stats = {
      {"numSeries", st.series}, {"numLabelPairs", num_pairs}, {"chunkCount", st.chunks}};
  // Prometheus shows these only when the head has samples.
  if (st.min_time <= st.max_time) {
    head_stats["minTime"] = st.min_time;
    head_stats["maxTime"] = st.max_time;
  }
  return {{"status", "success"},
          {"data",
           {{"headStats", head_stats},
            {"seriesCountByMetricName", Top(std::move(metric_names), limit)},
            {"labelValueCountByLabelName", Top(std::move(value_counts), limit)},
            {"seriesCountByLabelName", Top(std::move(name_series), limit)},
            {"seriesCountByLabelValuePair", Top(std::move(pairs), limit)}}}};
}

http::Response TsdbStatusApi(const Head& head, const http::Request& request) {
  size_t limit = 10;
  if (request.HasParam("limit")) {
    const std::string v = request.Param("limit");
    char* end = nullptr;
    unsigned long long n = v.empty() ? 0 : std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n == 0 || n > 10000) {
      json err = {{"status", "error"},
                  {"errorType", "bad_data"},
                  {"error", "limit must be an integer between 1 and 10000"}};
      return http::Response::Json(400, err.dump());
    }
    limit = static_cast<size_t>(n);
  }
  return http::Response::Json(
      200, TsdbStatusJson(head, limit).dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace shardwise::tsdb::api
