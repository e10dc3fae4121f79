#include "scraper/tsdb/metrics.h"

#include <gtest/gtest.h>

namespace shardwise::tsdb {
namespace {

bool Exposes(const metrics::Registry& r, const std::string& line) {
  return r.Expose().find("\n" + line + "\n") != std::string::npos;
}

TEST(LabelPairMetricsTest, FollowTheTableAndStopWithIt) {
  metrics::Registry registry;
  auto table = std::make_shared<storage::LabelPairTable>();
  RegisterLabelPairMetrics(registry, table);
  EXPECT_TRUE(Exposes(registry, "shardwise_label_pairs 0"));

  const uint32_t job = table->Acquire("job", "node");
  const uint32_t instance = table->Acquire("instance", "a:9100");
  table->Acquire("job", "node");  // a second holder, not a second pair
  EXPECT_TRUE(Exposes(registry, "shardwise_label_pairs 2"));
  EXPECT_TRUE(
      Exposes(registry, "shardwise_label_pair_bytes " + std::to_string(table->MemoryBytes())));

  table->Release(instance);
  EXPECT_TRUE(Exposes(registry, "shardwise_label_pairs 1"));
  table->Release(job);
  table->Release(job);
  EXPECT_TRUE(Exposes(registry, "shardwise_label_pairs 0"));

  table.reset();
  EXPECT_EQ(registry.Expose().find("shardwise_label_pairs"), std::string::npos);
}

}  // namespace
}  // namespace shardwise::tsdb
