#include "scraper/scrape/ingester.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "common/relabel/parse.h"
#include "scraper/storage/memory_sink.h"

namespace shardwise::scrape {
namespace {

using storage::IsStaleNaN;
using storage::MemorySink;
using storage::StoredSample;
using ::testing::HasSubstr;

const Labels kTarget{{"instance", "h:1"}, {"job", "j"}};
constexpr std::string_view kText = "text/plain; version=0.0.4";

Labels Series(std::string_view name, std::initializer_list<Label> extra = {}) {
  LabelsBuilder b(kTarget);
  b.Set(kMetricName, name);
  for (const auto& l : extra) b.Set(l.name, l.value);
  return b.Build();
}

// Every series name in the sink (report series included).
std::vector<std::string> Names(const MemorySink& sink) {
  std::vector<std::string> out;
  for (const auto& [labels, samples] : sink.Series()) {
    out.emplace_back(labels.Get(kMetricName));
  }
  return out;
}

double Last(const MemorySink& sink, const Labels& series) {
  auto samples = sink.Samples(series);
  return samples.empty() ? -1 : samples.back().v;
}

class IngesterTest : public ::testing::Test {
 protected:
  Ingester Make(IngestOptions options = {}) { return Ingester(kTarget, std::move(options), sink_); }
  MemorySink sink_;
};

TEST_F(IngesterTest, IngestsSamplesWithTargetLabelsAndReport) {
  Ingester ing = Make();
  IngestResult r = ing.Ingest("# TYPE a counter\na 1\nb{x=\"y\"} 2.5\n", kText, 1000, 0.25);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.samples_scraped, 2u);
  EXPECT_EQ(r.samples_post_relabel, 2u);
  EXPECT_EQ(r.series_added, 2u);
  EXPECT_EQ(sink_.Samples(Series("a")).at(0).v, 1);
  EXPECT_EQ(sink_.Samples(Series("a")).at(0).t_ms, 1000);
  EXPECT_EQ(sink_.Samples(Series("b", {{"x", "y"}})).at(0).v, 2.5);
  EXPECT_EQ(Last(sink_, Series("up")), 1);
  EXPECT_EQ(Last(sink_, Series("scrape_duration_seconds")), 0.25);
  EXPECT_EQ(Last(sink_, Series("scrape_samples_scraped")), 2);
  EXPECT_EQ(Last(sink_, Series("scrape_samples_post_metric_relabeling")), 2);
  EXPECT_EQ(Last(sink_, Series("scrape_series_added")), 2);
  EXPECT_EQ(sink_.commits(), 1u);
  EXPECT_EQ(ing.live_series(), 2u);
}

TEST_F(IngesterTest, SteadyStateReusesTheCache) {
  Ingester ing = Make();
  ASSERT_TRUE(ing.Ingest("a 1\nb 2\n", kText, 1000, 0).status.ok());
  IngestResult r = ing.Ingest("a 3\nb 4\n", kText, 2000, 0);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.series_added, 0u);
  EXPECT_EQ(ing.cache_size(), 2u);
  EXPECT_EQ(Last(sink_, Series("scrape_series_added")), 0);
  EXPECT_EQ(sink_.Samples(Series("b")).size(), 2u);
  EXPECT_EQ(Last(sink_, Series("b")), 4);
}

TEST_F(IngesterTest, DisappearedSeriesGetStalenessMarkers) {
  Ingester ing = Make();
  ASSERT_TRUE(ing.Ingest("a 1\nb 2\n", kText, 1000, 0).status.ok());
  IngestResult r = ing.Ingest("a 3\n", kText, 2000, 0);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.stale_markers, 1u);
  auto b = sink_.Samples(Series("b"));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_TRUE(IsStaleNaN(b[1].v));
  EXPECT_EQ(b[1].t_ms, 2000);
  EXPECT_FALSE(IsStaleNaN(Last(sink_, Series("a"))));
  EXPECT_EQ(ing.cache_size(), 1u);  // evicted
  // A third scrape without b writes no second marker; b's return is a new series.
  ASSERT_TRUE(ing.Ingest("a 4\n", kText, 3000, 0).status.ok());
  EXPECT_EQ(sink_.Samples(Series("b")).size(), 2u);
  r = ing.Ingest("a 5\nb 6\n", kText, 4000, 0);
  EXPECT_EQ(r.series_added, 1u);
  EXPECT_EQ(Last(sink_, Series("b")), 6);
}

TEST_F(IngesterTest, MalformedExpositionIngestsNothingButUpZeroAndStaleness) {
  Ingester ing = Make();
  ASSERT_TRUE(ing.Ingest("a 1\n", kText, 1000, 0).status.ok());
  IngestResult r = ing.Ingest("a 2\nnew_series 3\nbad{ 4\n", kText, 2000, 0.5);
  ASSERT_FALSE(r.status.ok());
  EXPECT_THAT(r.status.message(), HasSubstr("line 3"));
  // Nothing from the failed scrape: a has its first sample and then a staleness marker.
  auto a = sink_.Samples(Series("a"));
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].v, 1);
  EXPECT_TRUE(IsStaleNaN(a[1].v));
  EXPECT_TRUE(sink_.Samples(Series("new_series")).empty());
  EXPECT_EQ(Last(sink_, Series("up")), 0);
  EXPECT_EQ(Last(sink_, Series("scrape_duration_seconds")), 0.5);
  EXPECT_EQ(Last(sink_, Series("scrape_samples_post_metric_relabeling")), 0);
  EXPECT_EQ(ing.cache_size(), 1u);  // new_series was not kept
  EXPECT_EQ(ing.live_series(), 0u);
  // Recovery: the series comes back; no duplicate marker in between.
  ASSERT_TRUE(ing.Ingest("a 5\n", kText, 3000, 0).status.ok());
  a = sink_.Samples(Series("a"));
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[2].v, 5);
}

TEST_F(IngesterTest, InvalidLabelBlockIsNotCached) {
  Ingester ing = Make();
  IngestResult r = ing.Ingest("a{0x=\"1\"} 1\n", kText, 1000, 0);
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(ing.cache_size(), 0u);
  r = ing.Ingest("a{0x=\"1\"} 1\n", kText, 2000, 0);
  EXPECT_FALSE(r.status.ok());
}

TEST_F(IngesterTest, FailureWithoutBodyMarksEverythingStaleOnce) {
  Ingester ing = Make();
  ASSERT_TRUE(ing.Ingest("a 1\nb 2\n", kText, 1000, 0).status.ok());
  IngestResult r = ing.IngestFailure(Status::Unavailable("connection refused"), 2000, 0.1);
  EXPECT_EQ(r.stale_markers, 2u);
  r = ing.IngestFailure(Status::Unavailable("connection refused"), 3000, 0.1);
  EXPECT_EQ(r.stale_markers, 0u);
  auto b = sink_.Samples(Series("b"));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_TRUE(IsStaleNaN(b[1].v));
  auto up = sink_.Samples(Series("up"));
  ASSERT_EQ(up.size(), 3u);
  EXPECT_EQ(up[2].v, 0);
  EXPECT_EQ(up[2].t_ms, 3000);
}

TEST_F(IngesterTest, SampleLimitFailsTheWholeScrape) {
  IngestOptions o;
  o.sample_limit = 2;
  Ingester ing = Make(o);
  ASSERT_TRUE(ing.Ingest("a 1\nb 2\n", kText, 1000, 0).status.ok());
  IngestResult r = ing.Ingest("a 1\nb 2\nc 3\n", kText, 2000, 0);
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.code(), Status::Code::kResourceExhausted);
  EXPECT_EQ(r.limit, "sample_limit");
  EXPECT_TRUE(sink_.Samples(Series("c")).empty());
  EXPECT_TRUE(IsStaleNaN(Last(sink_, Series("a"))));
  EXPECT_EQ(Last(sink_, Series("up")), 0);
}

TEST_F(IngesterTest, SampleLimitCountsSamplesAfterMetricRelabeling) {
  IngestOptions o;
  o.sample_limit = 1;
  o.metric_relabeler =
      relabel::Relabeler::Compile(relabel::ParseYaml("[{source_labels: [__name__], regex: 'go_.*', "
                                                     "action: drop}]")
                                      .value())
          .value();
  Ingester ing = Make(o);
  IngestResult r = ing.Ingest("go_a 1\ngo_b 2\nkept 3\n", kText, 1000, 0);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.samples_scraped, 3u);
  EXPECT_EQ(r.samples_post_relabel, 1u);
  EXPECT_TRUE(sink_.Samples(Series("go_a")).empty());
  EXPECT_EQ(Last(sink_, Series("kept")), 3);
  EXPECT_EQ(Last(sink_, Series("scrape_samples_scraped")), 3);
  EXPECT_EQ(Last(sink_, Series("scrape_samples_post_metric_relabeling")), 1);
  // Dropped series stay cached as dropped: the steady state skips them cheaply.
  EXPECT_EQ(ing.cache_size(), 3u);
  EXPECT_EQ(ing.live_series(), 1u);
}

struct LimitCase {
  const char* limit;
  IngestOptions options;
};

TEST_F(IngesterTest, LabelLimitsFailTheScrape) {
  IngestOptions count;
  count.label_limit = 3;  // __name__, instance, job + 1 exposed = 4
  IngestOptions name_len;
  name_len.label_name_length_limit = 8;  // "__name__" and "instance" fit
  IngestOptions value_len;
  value_len.label_value_length_limit = 5;
  for (const auto& [limit, options] :
       {LimitCase{"label_limit", count}, LimitCase{"label_name_length_limit", name_len},
        LimitCase{"label_value_length_limit", value_len}}) {
    MemorySink sink;
    Ingester ing(kTarget, options, sink);
    ASSERT_TRUE(ing.Ingest("m 1\n", kText, 1000, 0).status.ok()) << limit;
    IngestResult r = ing.Ingest("m 1\nx{longername=\"longvalue\"} 1\n", kText, 2000, 0);
    ASSERT_FALSE(r.status.ok()) << limit;
    EXPECT_EQ(r.limit, limit);
    EXPECT_THAT(r.status.message(), HasSubstr(limit));
    for (const auto& [labels, samples] : sink.Series()) {
      EXPECT_NE(labels.Get(kMetricName), "x");
    }
  }
}

TEST_F(IngesterTest, HonorLabelsFalseRenamesConflicts) {
  Ingester ing = Make();
  ASSERT_TRUE(ing.Ingest("a{job=\"exposed\",exported_job=\"e\",x=\"1\"} 1\n"
                         "b{instance=\"\"} 2\n",
                         kText, 1000, 0)
                  .status.ok());
  Labels want =
      Series("a", {{"exported_exported_job", "exposed"}, {"exported_job", "e"}, {"x", "1"}});
  EXPECT_EQ(Last(sink_, want), 1) << ::testing::PrintToString(Names(sink_));
  // An empty exposed value is no conflict.
  EXPECT_EQ(Last(sink_, Series("b")), 2);
}

TEST_F(IngesterTest, HonorLabelsTrueKeepsExposedLabels) {
  IngestOptions o;
  o.honor_labels = true;
  Ingester ing = Make(o);
  ASSERT_TRUE(ing.Ingest("a{job=\"exposed\"} 1\n", kText, 1000, 0).status.ok());
  EXPECT_EQ(Last(sink_, Labels{{"__name__", "a"}, {"instance", "h:1"}, {"job", "exposed"}}), 1);
}

TEST_F(IngesterTest, HonorTimestamps) {
  {
    Ingester ing = Make();
    ASSERT_TRUE(ing.Ingest("a 1 500\nb 2\n", kText, 1000, 0).status.ok());
    EXPECT_EQ(sink_.Samples(Series("a")).at(0).t_ms, 500);
    EXPECT_EQ(sink_.Samples(Series("b")).at(0).t_ms, 1000);
    // Series with explicit timestamps get no staleness markers (as in Prometheus).
    ASSERT_TRUE(ing.Ingest("c 1\n", kText, 2000, 0).status.ok());
    EXPECT_EQ(sink_.Samples(Series("a")).size(), 1u);
    EXPECT_TRUE(IsStaleNaN(Last(sink_, Series("b"))));
  }
  MemorySink sink;
  IngestOptions o;
  o.honor_timestamps = false;
  Ingester ing(kTarget, o, sink);
  ASSERT_TRUE(ing.Ingest("a 1 500\n", kText, 1000, 0).status.ok());
  EXPECT_EQ(sink.Samples(Series("a")).at(0).t_ms, 1000);
}

TEST_F(IngesterTest, DuplicateSeriesInOneScrapeKeepsTheFirst) {
  Ingester ing = Make();
  IngestResult r = ing.Ingest("a 1\na 2\n", kText, 1000, 0);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.samples_post_relabel, 1u);
  ASSERT_EQ(sink_.Samples(Series("a")).size(), 1u);
  EXPECT_EQ(Last(sink_, Series("a")), 1);
}

TEST_F(IngesterTest, WriteStaleMarkersCoversSeriesAndReport) {
  Ingester ing = Make();
  ASSERT_TRUE(ing.Ingest("a 1 \nb 2\n", kText, 1000, 0).status.ok());
  ASSERT_TRUE(ing.WriteStaleMarkers(5000).ok());
  for (const auto& name : {"a", "b", "up", "scrape_duration_seconds", "scrape_series_added"}) {
    auto samples = sink_.Samples(Series(name));
    ASSERT_FALSE(samples.empty()) << name;
    EXPECT_TRUE(IsStaleNaN(samples.back().v)) << name;
    EXPECT_EQ(samples.back().t_ms, 5000) << name;
  }
}

TEST_F(IngesterTest, OpenMetricsByContentType) {
  Ingester ing = Make();
  IngestResult r =
      ing.Ingest("# TYPE a gauge\na 1\n# EOF\n",
                 "application/openmetrics-text; version=1.0.0; charset=utf-8", 1000, 0);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(Last(sink_, Series("a")), 1);
  // OpenMetrics without # EOF is malformed.
  r = ing.Ingest("# TYPE a gauge\na 1\n", "application/openmetrics-text; version=1.0.0", 2000, 0);
  EXPECT_FALSE(r.status.ok());
}

}  // namespace
}  // namespace shardwise::scrape
