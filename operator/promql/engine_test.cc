// Table-driven checks of Prometheus 2.x evaluation semantics. Expected values are worked out
// by hand from Prometheus's rules (comments show the arithmetic).
#include "operator/promql/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "operator/promql/parser.h"

namespace shardwise::promql {
namespace {

constexpr int64_t kS = 1000;

Series Make(Labels l, std::vector<std::pair<int64_t, double>> pts_s) {
  Series s{std::move(l), {}};
  for (auto [t, v] : pts_s) s.points.push_back(Point{t * kS, v});
  return s;
}

// Every 10 s from `from` to `to` seconds, value = f(t).
template <typename F>
Series Every10s(Labels l, int64_t from, int64_t to, F f) {
  Series s{std::move(l), {}};
  for (int64_t t = from; t <= to; t += 10) s.points.push_back(Point{t * kS, f(t)});
  return s;
}

std::vector<Series> Data() {
  std::vector<Series> d;
  // A counter going up 1/s, sampled at 0, 10, ... 600 s.
  d.push_back(Every10s({{"__name__", "c"}, {"job", "api"}, {"instance", "a"}}, 0, 600,
                       [](int64_t t) { return static_cast<double>(t); }));
  // The same rate, sampled off the window edges: 5, 15, ... 55 s.
  d.push_back(Every10s({{"__name__", "off"}, {"job", "api"}}, 5, 55,
                       [](int64_t t) { return static_cast<double>(t); }));
  // A counter that starts late (30 s) at 2: extrapolation stops at zero.
  d.push_back(Make({{"__name__", "late"}}, {{30, 2}, {40, 12}, {50, 22}, {60, 32}}));
  // Samples only at 30, 40, 50 s: the start is too far to extrapolate to.
  d.push_back(Make({{"__name__", "gap"}}, {{30, 10}, {40, 20}, {50, 30}}));
  // A counter reset between 20 s and 30 s.
  d.push_back(Make({{"__name__", "reset"}}, {{0, 0}, {10, 10}, {20, 20}, {30, 5}, {40, 15}}));
  d.push_back(Make({{"__name__", "reset_end"}}, {{0, 0}, {10, 10}, {20, 20}, {30, 5}}));
  // A gauge that goes down.
  d.push_back(Make({{"__name__", "g"}}, {{0, 50}, {10, 40}, {20, 45}, {30, 20}}));
  // A series that went stale at 50 s.
  d.push_back(Make({{"__name__", "s"}}, {{0, 1}, {10, 2}, {20, 3}, {50, StaleMarker()}}));
  // Instance-level series for aggregation and matching.
  d.push_back(Make({{"__name__", "m"}, {"job", "api"}, {"instance", "a"}}, {{60, 1}}));
  d.push_back(Make({{"__name__", "m"}, {"job", "api"}, {"instance", "b"}}, {{60, 3}}));
  d.push_back(Make({{"__name__", "m"}, {"job", "db"}, {"instance", "c"}}, {{60, 8}}));
  d.push_back(Make({{"__name__", "n"}, {"job", "api"}, {"instance", "a"}}, {{60, 10}}));
  d.push_back(Make({{"__name__", "n"}, {"job", "api"}, {"instance", "b"}}, {{60, 20}}));
  d.push_back(Make({{"__name__", "team"}, {"job", "api"}, {"team", "red"}}, {{60, 1}}));
  d.push_back(Make({{"__name__", "team"}, {"job", "db"}, {"team", "blue"}}, {{60, 1}}));
  // A classic histogram.
  for (auto [le, v] : std::vector<std::pair<const char*, double>>{
           {"0.1", 10}, {"0.5", 20}, {"1", 40}, {"+Inf", 40}}) {
    d.push_back(Make({{"__name__", "h_bucket"}, {"job", "api"}, {"le", le}}, {{60, v}}));
  }
  for (auto [le, v] : std::vector<std::pair<const char*, double>>{
           {"1", 35}, {"0.5", 40}, {"+Inf", 50}}) {  // non-monotonic, +Inf above the rest
    d.push_back(Make({{"__name__", "h_bucket"}, {"job", "db"}, {"le", le}}, {{60, v}}));
  }
  return d;
}

// Result rendered as "labels => value" lines, sorted, for exact comparison.
std::string Render(const Value& v) {
  auto num = [](double x) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", x);
    return std::string(buf);
  };
  if (v.type == ValueType::kScalar) return "scalar " + num(v.scalar);
  std::vector<std::string> lines;
  for (const auto& s : v.vector) lines.push_back(s.labels.ToString() + " => " + num(s.v));
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "; ") + l;
  return out;
}

struct Case {
  const char* query;
  int64_t at_s;
  const char* want;
};

class Semantics : public testing::TestWithParam<Case> {};

TEST_P(Semantics, MatchesPrometheus) {
  MemorySource src(Data());
  auto v = Query(GetParam().query, src, GetParam().at_s * kS);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(Render(*v), GetParam().want) << GetParam().query;
}

INSTANTIATE_TEST_SUITE_P(
    Rates, Semantics,
    testing::Values(
        // Samples exactly on both edges of [0, 60]: no extrapolation.
        Case{"rate(c[1m])", 60, "{instance=\"a\", job=\"api\"} => 1"},
        Case{"increase(c[1m])", 60, "{instance=\"a\", job=\"api\"} => 60"},
        // 5..55 in [0, 60]: 5 s to each edge < 1.1 * 10 s, extrapolate 50 -> 60 s.
        Case{"increase(off[1m])", 60, "{job=\"api\"} => 60"},
        Case{"rate(off[1m])", 60, "{job=\"api\"} => 1"},
        // Counter starting at 2 at 30 s: 30 s to the start, but zero is reached 2 s
        // before: 30 * (30 + 2) / 30 = 32.
        Case{"increase(late[1m])", 60, "{} => 32"}, Case{"rate(late[1m])", 60, "{} => 0.533333"},
        // As a gauge, the 30 s gap is >= 11 s: only half an interval (5 s) is added at the
        // start; 10 s to the end is < 11 s: 20 * (20 + 5 + 10) / 20 = 35.
        Case{"delta(gap[1m])", 60, "{} => 35"},
        // As a counter, zero is 10 s before the first sample: 20 * (20 + 10 + 10) / 20.
        Case{"increase(gap[1m])", 60, "{} => 40"},
        // Reset: 15 - 0 + 20 = 35 over 40 s.
        Case{"increase(reset[40s])", 40, "{} => 35"}, Case{"rate(reset[40s])", 40, "{} => 0.875"},
        Case{"irate(reset[40s])", 40, "{} => 1"}, Case{"irate(reset_end[1m])", 30, "{} => 0.5"},
        Case{"idelta(reset_end[1m])", 30, "{} => -15"}, Case{"delta(g[30s])", 30, "{} => -30"},
        // Fewer than two samples in range: no result.
        Case{"rate(c[5s])", 62, ""},
        // Offset moves the window: [0, 60] seen from 90 s.
        Case{"increase(c[1m] offset 30s)", 90, "{instance=\"a\", job=\"api\"} => 60"},
        Case{"c offset 100s", 150, "c{instance=\"a\", job=\"api\"} => 50"}));

INSTANTIATE_TEST_SUITE_P(
    SelectorsAndStaleness, Semantics,
    testing::Values(
        // Lookback 5 m: the last sample at 20 s is visible until 320 s inclusive.
        Case{"gap", 350, "gap{} => 30"}, Case{"gap", 351, ""},
        Case{"reset_end", 330, "reset_end{} => 5"},
        // A staleness marker ends the series at once.
        Case{"s", 40, "s{} => 3"}, Case{"s", 50, ""}, Case{"s", 60, ""},
        Case{"count_over_time(s[1m])", 60, "{} => 3"}, Case{"max_over_time(g[1m])", 30, "{} => 50"},
        Case{"min_over_time(g[1m])", 30, "{} => 20"},
        Case{"avg_over_time(g[1m])", 30, "{} => 38.75"},
        Case{"sum_over_time(g[1m])", 30, "{} => 155"},
        Case{"last_over_time(g[1m])", 30, "g{} => 20"},
        Case{"m{job=~\"a.*\",instance!=\"b\"}", 60, "m{instance=\"a\", job=\"api\"} => 1"},
        Case{"m{job!~\"api\"}", 60, "m{instance=\"c\", job=\"db\"} => 8"},
        Case{"{__name__=~\"m|n\",instance=\"b\"}", 60,
             "m{instance=\"b\", job=\"api\"} => 3; n{instance=\"b\", job=\"api\"} => 20"}));

INSTANTIATE_TEST_SUITE_P(
    Aggregations, Semantics,
    testing::Values(Case{"sum(m)", 60, "{} => 12"},
                    Case{"sum by (job) (m)", 60, "{job=\"api\"} => 4; {job=\"db\"} => 8"},
                    Case{"sum(m) by (job)", 60, "{job=\"api\"} => 4; {job=\"db\"} => 8"},
                    Case{"avg without (instance) (m)", 60, "{job=\"api\"} => 2; {job=\"db\"} => 8"},
                    Case{"count by (job) (m)", 60, "{job=\"api\"} => 2; {job=\"db\"} => 1"},
                    Case{"max(m)", 60, "{} => 8"},
                    Case{"min by (job) (m)", 60, "{job=\"api\"} => 1; {job=\"db\"} => 8"},
                    Case{"topk(1, m)", 60, "m{instance=\"c\", job=\"db\"} => 8"},
                    Case{"bottomk by (job) (1, m)", 60,
                         "m{instance=\"a\", job=\"api\"} => 1; m{instance=\"c\", job=\"db\"} => 8"},
                    Case{"sum(nonexistent)", 60, ""}));

INSTANTIATE_TEST_SUITE_P(
    BinaryOps, Semantics,
    testing::Values(
        Case{"1 + 2 * 3 ^ 2", 0, "scalar 19"}, Case{"-2 ^ 2", 0, "scalar -4"},
        Case{"7 % 4", 0, "scalar 3"}, Case{"2 > bool 1", 0, "scalar 1"},
        // Arithmetic drops the metric name; a comparison filter keeps it.
        Case{"m * 2", 60,
             "{instance=\"a\", job=\"api\"} => 2; {instance=\"b\", job=\"api\"} => 6; "
             "{instance=\"c\", job=\"db\"} => 16"},
        Case{"m > 2", 60,
             "m{instance=\"b\", job=\"api\"} => 3; m{instance=\"c\", job=\"db\"} => 8"},
        // Scalar on the left of a filter: the vector's value is kept.
        Case{"5 > m", 60,
             "m{instance=\"a\", job=\"api\"} => 1; m{instance=\"b\", job=\"api\"} => 3"},
        Case{"m > bool 2", 60,
             "{instance=\"a\", job=\"api\"} => 0; {instance=\"b\", job=\"api\"} => 1; "
             "{instance=\"c\", job=\"db\"} => 1"},
        Case{"-m{job=\"db\"}", 60, "{instance=\"c\", job=\"db\"} => -8"},
        // One-to-one on all labels but the name.
        Case{"n / m", 60,
             "{instance=\"a\", job=\"api\"} => 10; {instance=\"b\", job=\"api\"} => 6.66667"},
        Case{"n > m", 60,
             "n{instance=\"a\", job=\"api\"} => 10; n{instance=\"b\", job=\"api\"} => 20"},
        Case{"n == bool m", 60,
             "{instance=\"a\", job=\"api\"} => 0; {instance=\"b\", job=\"api\"} => 0"},
        Case{"sum by (job) (n) / on(job) sum by (job) (m)", 60, "{job=\"api\"} => 7.5"},
        Case{"sum by (job, instance) (n) / ignoring(instance) group_left sum by (job) (m)", 60,
             "{instance=\"a\", job=\"api\"} => 2.5; {instance=\"b\", job=\"api\"} => 5"},
        // Many-to-one with a label copied from the "one" side.
        Case{"m * on(job) group_left(team) team", 60,
             "{instance=\"a\", job=\"api\", team=\"red\"} => 1; "
             "{instance=\"b\", job=\"api\", team=\"red\"} => 3; "
             "{instance=\"c\", job=\"db\", team=\"blue\"} => 8"},
        Case{"team * on(job) group_right(team) m", 60,
             "{instance=\"a\", job=\"api\", team=\"red\"} => 1; "
             "{instance=\"b\", job=\"api\", team=\"red\"} => 3; "
             "{instance=\"c\", job=\"db\", team=\"blue\"} => 8"},
        Case{"m and n", 60,
             "m{instance=\"a\", job=\"api\"} => 1; m{instance=\"b\", job=\"api\"} => 3"},
        Case{"m unless n", 60, "m{instance=\"c\", job=\"db\"} => 8"},
        Case{"n or m", 60,
             "m{instance=\"c\", job=\"db\"} => 8; n{instance=\"a\", job=\"api\"} => 10; "
             "n{instance=\"b\", job=\"api\"} => 20"},
        Case{"m and on(job) team{team=\"blue\"}", 60, "m{instance=\"c\", job=\"db\"} => 8"}));

INSTANTIATE_TEST_SUITE_P(
    Functions, Semantics,
    testing::Values(
        // rank 20 falls in (0.1, 0.5] with 10 of its 10: 0.1 + 0.4 * 10/10.
        Case{"histogram_quantile(0.5, h_bucket{job=\"api\"})", 60, "{job=\"api\"} => 0.5"},
        Case{"histogram_quantile(0.25, h_bucket{job=\"api\"})", 60, "{job=\"api\"} => 0.1"},
        Case{"histogram_quantile(0.9, h_bucket{job=\"api\"})", 60, "{job=\"api\"} => 0.9"},
        // The 1 bucket is fixed up to 40; rank 49.5 lands in +Inf: the highest finite bound.
        Case{"histogram_quantile(0.99, h_bucket{job=\"db\"})", 60, "{job=\"db\"} => 1"},
        // rank 25: (0.0, 0.5] holds 40 after the monotonicity fix: 0.5 * 25/40.
        Case{"histogram_quantile(0.5, h_bucket{job=\"db\"})", 60, "{job=\"db\"} => 0.3125"},
        Case{"histogram_quantile(1.5, h_bucket{job=\"api\"})", 60, "{job=\"api\"} => inf"},
        Case{"histogram_quantile(-1, h_bucket{job=\"api\"})", 60, "{job=\"api\"} => -inf"},
        Case{"histogram_quantile(0.5, m)", 60, ""},
        Case{"abs(-m{job=\"db\"})", 60, "{instance=\"c\", job=\"db\"} => 8"},
        Case{"ceil(n / 3)", 60,
             "{instance=\"a\", job=\"api\"} => 4; {instance=\"b\", job=\"api\"} => 7"},
        Case{"floor(n / 3)", 60,
             "{instance=\"a\", job=\"api\"} => 3; {instance=\"b\", job=\"api\"} => 6"},
        Case{"round(n / 3)", 60,
             "{instance=\"a\", job=\"api\"} => 3; {instance=\"b\", job=\"api\"} => 7"},
        Case{"round(n / 3, 0.5)", 60,
             "{instance=\"a\", job=\"api\"} => 3.5; {instance=\"b\", job=\"api\"} => 6.5"},
        Case{"clamp_min(m, 4)", 60,
             "{instance=\"a\", job=\"api\"} => 4; {instance=\"b\", job=\"api\"} => 4; "
             "{instance=\"c\", job=\"db\"} => 8"},
        Case{"clamp_max(m{job=\"db\"}, 4)", 60, "{instance=\"c\", job=\"db\"} => 4"},
        Case{"scalar(m{job=\"db\"}) + 1", 60, "scalar 9"}, Case{"scalar(m)", 60, "scalar nan"},
        Case{"vector(1) + time()", 60, "{} => 61"}));

TEST(Engine, DuplicateMatchesAreErrors) {
  MemorySource src(Data());
  auto v = Query("m + on(job) n", src, 60 * kS);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("found duplicate series for the match group"),
            std::string::npos)
      << v.status().message();
  auto w = Query("m + on(job) sum by (job) (n)", src, 60 * kS);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("many-to-one matching must be explicit"), std::string::npos)
      << w.status().message();
}

TEST(Engine, LimitsBoundSeriesAndSamples) {
  MemorySource src(Data());
  Limits few_series{2, 1000000};
  auto v = Query("m", src, 60 * kS, few_series);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Status::Code::kResourceExhausted);
  Limits few_samples{100, 10};
  auto w = Query("rate(c[5m])", src, 600 * kS, few_samples);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Status::Code::kResourceExhausted);
}

class FailingSource : public SampleSource {
 public:
  Result<std::vector<Series>> Select(const std::vector<Matcher>&, int64_t, int64_t) override {
    return Status::DeadlineExceeded("shard-2 did not answer within 2s");
  }
};

TEST(Engine, SourceErrorsPropagate) {
  FailingSource src;
  auto v = Query("sum(rate(c[1m]))", src, 60 * kS);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Status::Code::kDeadlineExceeded);
  EXPECT_NE(v.status().message().find("shard-2"), std::string::npos);
}

}  // namespace
}  // namespace shardwise::promql
