#include "common/metrics/registry.h"

#include <gtest/gtest.h>

namespace shardwise::metrics {
namespace {

TEST(RegistryTest, ExposesCountersGaugesAndHistograms) {
  Registry r;
  r.AddCounter("shardwise_test_total", "A test counter.").Inc(3);
  auto& fam = r.AddGaugeFamily("shardwise_test_gauge", "A gauge.", {"job"});
  fam.With({"a\"b"}).Set(1.5);
  auto& h = r.AddHistogram("shardwise_test_seconds", "Latency.", {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  std::string text = r.Expose();
  EXPECT_NE(text.find("# TYPE shardwise_test_total counter\nshardwise_test_total 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("shardwise_test_gauge{job=\"a\\\"b\"} 1.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("shardwise_test_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("shardwise_test_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("shardwise_test_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("shardwise_test_seconds_count 3\n"), std::string::npos);
}

TEST(RegistryTest, SameNameReturnsSameMetric) {
  Registry r;
  Counter& a = r.AddCounter("shardwise_x_total", "x");
  Counter& b = r.AddCounter("shardwise_x_total", "x");
  EXPECT_EQ(&a, &b);
}

TEST(RegistryTest, CollectorsRunAtExpose) {
  Registry r;
  int calls = 0;
  r.AddCollector([&](Writer& w) {
    ++calls;
    w.Family("shardwise_computed", "c", "gauge");
    w.Sample("shardwise_computed", {{"a", "1"}}, 7);
  });
  EXPECT_NE(r.Expose().find("shardwise_computed{a=\"1\"} 7\n"), std::string::npos);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace shardwise::metrics
