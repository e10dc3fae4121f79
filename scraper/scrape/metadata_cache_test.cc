#include "scraper/scrape/metadata_cache.h"

#include <gtest/gtest.h>

namespace shardwise::scrape {
namespace {

using storage::MetricMetadata;
using storage::MetricType;

TEST(MetadataCacheTest, EachLineUpdatesItsOwnField) {
  MetadataCache c;
  c.SetHelp("a", "First help.");
  c.SetType("a", MetricType::kCounter);
  c.EndPass();
  c.SetType("a", MetricType::kGauge);  // help stays
  c.SetUnit("a", "bytes");
  c.EndPass();
  ASSERT_EQ(c.List().size(), 1u);
  EXPECT_EQ(c.List()[0], (MetricMetadata{"a", MetricType::kGauge, "First help.", "bytes"}));
}

TEST(MetadataCacheTest, FamiliesOutlastAFewScrapesWithoutThem) {
  MetadataCache c;
  c.SetType("gone", MetricType::kGauge);
  c.SetType("kept", MetricType::kGauge);
  c.EndPass();
  for (uint64_t i = 0; i < MetadataCache::kKeepPasses; ++i) {
    c.SetType("kept", MetricType::kGauge);
    c.EndPass();
    ASSERT_EQ(c.size(), 2u) << "pass " << i;
  }
  c.SetType("kept", MetricType::kGauge);
  c.EndPass();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c.List()[0].family, "kept");
}

TEST(MetadataCacheTest, TypeNamesAreLowerCasePrometheusNames) {
  EXPECT_EQ(storage::MetricTypeName(MetricType::kGaugeHistogram), "gaugehistogram");
  EXPECT_EQ(storage::MetricTypeName(MetricType::kUnknown), "unknown");
  EXPECT_EQ(storage::MetricTypeName(MetricType::kStateset), "stateset");
}

}  // namespace
}  // namespace shardwise::scrape
