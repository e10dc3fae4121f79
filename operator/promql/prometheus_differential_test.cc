// Differential test against the reference: the real Prometheus (Debian's 2.42 on PATH) reads
// a shardwise TSDB through remote_read (read_recent) and evaluates a battery of PromQL
// queries; our engine evaluates the same queries over the same samples. Results must agree
// series for series, values within floating-point tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/http/client.h"
#include "common/http/server.h"
#include "common/testing/local_process.h"
#include "common/testing/prometheus_process.h"
#include "common/testing/test_util.h"
#include "operator/promql/engine.h"
#include "scraper/storage/appender.h"
#include "scraper/tsdb/api/handlers.h"
#include "scraper/tsdb/db.h"

namespace shardwise::promql {
namespace {

// The battery: counter resets, samples off the window edges, late starts, gaps, staleness,
// aggregations, matching and histograms.
std::vector<Series> Dataset(int64_t end) {
  std::vector<Series> d;
  auto add = [&](Labels l, std::vector<std::pair<int64_t, double>> pts) {
    Series s{std::move(l), {}};
    for (auto [ago_ms, v] : pts) s.points.push_back(Point{end - ago_ms, v});
    d.push_back(std::move(s));
  };
  std::vector<std::pair<int64_t, double>> steady, reset, late, jitter, gauge, stale;
  for (int k = 0; k <= 40; ++k) steady.push_back({(40 - k) * 15000, 10.0 * k});
  for (int k = 0; k <= 40; ++k)
    reset.push_back({(40 - k) * 15000 + 7000, k < 25 ? 3.0 * k : 2.0 * (k - 25)});
  for (int k = 0; k <= 3; ++k) late.push_back({(3 - k) * 10000 + 2000, 5.0 + 7 * k});
  for (int k = 0; k <= 30; ++k)
    jitter.push_back({(30 - k) * 20000 + (k % 3) * 4000, 100.0 + k * k});
  for (int k = 0; k <= 40; ++k) gauge.push_back({(40 - k) * 15000, 50 + 20 * std::sin(k)});
  for (int k = 0; k <= 10; ++k) stale.push_back({(40 - k) * 15000, 1.0 * k});
  stale.push_back({29 * 15000, StaleMarker()});
  add({{"__name__", "req_total"}, {"job", "api"}, {"instance", "a"}, {"code", "200"}}, steady);
  add({{"__name__", "req_total"}, {"job", "api"}, {"instance", "b"}, {"code", "200"}}, reset);
  add({{"__name__", "req_total"}, {"job", "api"}, {"instance", "b"}, {"code", "500"}}, late);
  add({{"__name__", "req_total"}, {"job", "db"}, {"instance", "c"}, {"code", "200"}}, jitter);
  add({{"__name__", "temp"}, {"job", "api"}, {"instance", "a"}}, gauge);
  add({{"__name__", "temp"}, {"job", "db"}, {"instance", "c"}}, reset);
  add({{"__name__", "gone"}, {"job", "api"}}, stale);
  add({{"__name__", "info"}, {"job", "api"}, {"team", "red"}}, {{0, 1}});
  add({{"__name__", "info"}, {"job", "db"}, {"team", "blue"}}, {{0, 1}});
  const std::vector<std::pair<std::string, double>> bounds = {{"0.05", 1}, {"0.1", 3}, {"0.25", 4},
                                                              {"0.5", 6},  {"1", 7},   {"+Inf", 8}};
  for (const auto& [le, w] : bounds) {
    for (const char* job : {"api", "db"}) {
      std::vector<std::pair<int64_t, double>> pts;
      for (int k = 0; k <= 40; ++k)
        pts.push_back({(40 - k) * 15000, w * k * (job[0] == 'a' ? 1 : 2)});
      add({{"__name__", "lat_bucket"}, {"job", job}, {"le", le}}, pts);
    }
  }
  return d;
}

const char* kQueries[] = {
    "req_total",
    "rate(req_total[1m])",
    "rate(req_total[5m])",
    "irate(req_total[2m])",
    "increase(req_total[2m])",
    "increase(req_total[90s])",
    "delta(temp[3m])",
    "delta(temp[47s])",
    "idelta(temp[1m])",
    "rate(req_total[1m] offset 2m)",
    "gone",
    "count_over_time(gone[10m])",
    "avg_over_time(temp[5m])",
    "max_over_time(temp[5m])",
    "min_over_time(temp[5m])",
    "sum_over_time(temp[2m])",
    "sum(rate(req_total[2m]))",
    "sum by (job) (rate(req_total[2m]))",
    "sum without (instance, code) (rate(req_total[2m]))",
    "avg by (job) (temp)",
    "max(req_total)",
    "min by (code) (req_total)",
    "count by (job) (req_total)",
    "topk(2, req_total)",
    "bottomk by (job) (1, req_total)",
    "req_total / 10",
    "2 * req_total - 1",
    "req_total > 100",
    "100 < req_total",
    "req_total >= bool 100",
    "-temp",
    "temp % 7",
    "temp ^ 0.5",
    "sum by (job, instance) (req_total) / ignoring(instance) group_left sum by (job) (req_total)",
    "rate(req_total[2m]) * on(job) group_left(team) info",
    "info * on(job) group_right(team) rate(req_total[2m])",
    "sum by (job, instance) (req_total) / on(job, instance) sum by (job, instance) (temp)",
    "req_total and on(job) info{team=\"red\"}",
    "req_total unless on(instance) temp",
    "temp or req_total",
    "sum by (job) (req_total) == bool on(job) sum by (job) (req_total)",
    "req_total{code=~\"2..\",instance!~\"a|c\"}",
    "{__name__=~\"req_.*|temp\",job=\"db\"}",
    "histogram_quantile(0.5, rate(lat_bucket[2m]))",
    "histogram_quantile(0.9, sum by (le) (rate(lat_bucket[5m])))",
    "histogram_quantile(0.99, lat_bucket)",
    "histogram_quantile(0.01, lat_bucket{job=\"db\"})",
    "abs(delta(temp[2m]))",
    "ceil(temp) + floor(temp) - round(temp)",
    "round(temp, 0.25)",
    "clamp_min(temp, 50)",
    "clamp_max(temp, 50)",
    "scalar(sum(req_total)) + 1",
    "vector(3) * 2",
    "time() - time()",
};

std::map<std::string, double> FromPrometheus(const nlohmann::json& j, bool* scalar) {
  std::map<std::string, double> out;
  const auto& data = j["data"];
  *scalar = data["resultType"] == "scalar";
  if (*scalar) {
    out[""] = std::stod(data["result"][1].get<std::string>());
    return out;
  }
  for (const auto& s : data["result"]) {
    std::vector<Label> ls;
    for (auto it = s["metric"].begin(); it != s["metric"].end(); ++it) {
      ls.push_back({it.key(), it.value().get<std::string>()});
    }
    out[Labels::FromUnsorted(ls).ToString()] = std::stod(s["value"][1].get<std::string>());
  }
  return out;
}

std::map<std::string, double> FromEngine(const Value& v) {
  std::map<std::string, double> out;
  if (v.type == ValueType::kScalar) {
    out[""] = v.scalar;
    return out;
  }
  for (const auto& s : v.vector) out[s.labels.ToString()] = s.v;
  return out;
}

bool Close(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

TEST(PrometheusDifferential, BatteryAgreesWithPrometheus) {
  std::string binary = testing::FindOnPath("prometheus");
  if (binary.empty()) GTEST_SKIP() << "prometheus not on PATH";
  testing::TempDir dir;

  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t end = now_ms / 1000 * 1000;
  std::vector<Series> data = Dataset(end);

  tsdb::DBOptions o;
  o.retention_interval = std::chrono::milliseconds(0);
  auto db = tsdb::DB::Open(dir.path() + "/shardwise", o);
  ASSERT_TRUE(db.ok());
  // Appends go in time order across series, as a scraper would write them.
  std::vector<std::tuple<int64_t, size_t, double>> all;
  for (size_t i = 0; i < data.size(); ++i) {
    for (const auto& p : data[i].points) all.emplace_back(p.t, i, p.v);
  }
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  std::vector<storage::SeriesRef> refs(data.size(), 0);
  for (const auto& [t, i, v] : all) {
    auto app = (*db)->NewAppender();
    ASSERT_TRUE(app->Append(refs[i], data[i].labels, t, v).ok());
    ASSERT_TRUE(app->Commit().ok());
  }

  http::Server server({.listen_address = "127.0.0.1:0"});
  tsdb::api::RegisterHttpHandlers(server, **db);
  ASSERT_TRUE(server.Start().ok());

  int prom_port = testing::FreePort();
  {
    std::ofstream cfg(dir.path() + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\n"
        << "remote_read:\n  - url: http://127.0.0.1:" << server.port() << "/api/v1/read\n"
        << "    read_recent: true\n";
  }
  testing::PrometheusProcess prom;
  ASSERT_TRUE(prom.Start(binary, dir.path(), prom_port));
  std::string base = prom.url();
  http::Client client;
  if (!prom.WaitReady(std::chrono::seconds(45)))
    FAIL() << "prometheus not ready; log:\n" << prom.Log();

  MemorySource mem(data);
  size_t non_empty = 0;
  for (const char* q : kQueries) {
    SCOPED_TRACE(q);
    std::string url = base + "/api/v1/query?query=" + http::PercentEncode(q) +
                      "&time=" + std::to_string(end / 1000);
    auto r = client.DoSync({.url = url});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 200) << r->body;
    bool scalar = false;
    auto want = FromPrometheus(nlohmann::json::parse(r->body), &scalar);
    auto got_v = Query(q, mem, end);
    ASSERT_TRUE(got_v.ok()) << got_v.status().ToString();
    EXPECT_EQ(got_v->type == ValueType::kScalar, scalar);
    auto got = FromEngine(*got_v);
    ASSERT_EQ(got.size(), want.size()) << r->body;
    if (!want.empty()) ++non_empty;
    for (const auto& [labels, v] : want) {
      auto it = got.find(labels);
      ASSERT_NE(it, got.end()) << "missing " << labels << " in our answer; Prometheus: " << r->body;
      EXPECT_TRUE(Close(it->second, v))
          << labels << ": ours " << it->second << ", Prometheus " << v;
    }
  }
  // The battery must exercise data, not agree on emptiness.
  EXPECT_GE(non_empty, std::size(kQueries) - 2);
  prom.Stop();
  server.Stop();
}

}  // namespace
}  // namespace shardwise::promql
