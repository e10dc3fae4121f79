#include "scraper/scrape/ingester.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
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
  ASSERT_TRUE(ing.Ingest("a 1\ngone 1\n", kText, 1000, 0).status.ok());
  IngestResult r = ing.Ingest("a 2\nnew_series 3\nbad{ 4\n", kText, 2000, 0.5);
  ASSERT_FALSE(r.status.ok());
  EXPECT_THAT(r.status.message(), HasSubstr("line 3"));
  // No sample of the failed scrape is stored. As in Prometheus 2.42, the series it listed
  // before the bad line (a) still count as exposed: only `gone` gets a staleness marker.
  auto a = sink_.Samples(Series("a"));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].v, 1);
  auto gone = sink_.Samples(Series("gone"));
  ASSERT_EQ(gone.size(), 2u);
  EXPECT_TRUE(IsStaleNaN(gone[1].v));
  EXPECT_TRUE(sink_.Samples(Series("new_series")).empty());
  EXPECT_EQ(Last(sink_, Series("up")), 0);
  EXPECT_EQ(Last(sink_, Series("scrape_duration_seconds")), 0.5);
  // As Prometheus: the report counts what the failed pass parsed before the error.
  EXPECT_EQ(Last(sink_, Series("scrape_samples_post_metric_relabeling")), 2);
  EXPECT_EQ(ing.live_series(), 2u);  // a and new_series
  // Recovery: a comes back with no marker in between; new_series, listed only by the
  // failed scrape, now counts as gone.
  ASSERT_TRUE(ing.Ingest("a 5\n", kText, 3000, 0).status.ok());
  a = sink_.Samples(Series("a"));
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1].v, 5);
  auto added = sink_.Samples(Series("new_series"));
  ASSERT_EQ(added.size(), 1u);
  EXPECT_TRUE(IsStaleNaN(added[0].v));
  EXPECT_EQ(added[0].t_ms, 3000);
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
  // a and b were listed: no staleness markers (Prometheus 2.42); c, never stored, neither.
  EXPECT_EQ(Last(sink_, Series("a")), 1);
  EXPECT_EQ(Last(sink_, Series("up")), 0);
  // As Prometheus: the body is parsed to the end and the report says what it held.
  EXPECT_EQ(Last(sink_, Series("scrape_samples_scraped")), 3);
  EXPECT_EQ(Last(sink_, Series("scrape_samples_post_metric_relabeling")), 3);
  EXPECT_EQ(Last(sink_, Series("scrape_series_added")), 0);
}

TEST_F(IngesterTest, ReportCountsOutOfOrderAndDuplicateSamples) {
  Ingester ing = Make();
  ASSERT_TRUE(ing.Ingest("a 1 5000\n", kText, 1000, 0).status.ok());
  // a@4000 is out of order (storage refuses it), b twice is a duplicate; all three count.
  IngestResult r = ing.Ingest("a 2 4000\nb 1\nb 2\n", kText, 2000, 0);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(Last(sink_, Series("scrape_samples_scraped")), 3);
  EXPECT_EQ(Last(sink_, Series("scrape_samples_post_metric_relabeling")), 3);
  EXPECT_EQ(Last(sink_, Series("scrape_series_added")), 1);  // b
}

TEST_F(IngesterTest, OneStalenessMarkerPerSeriesWrittenTwoWays) {
  Ingester ing = Make();
  ASSERT_TRUE(
      ing.Ingest("a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n", kText, 1000, 0).status.ok());
  IngestResult r = ing.Ingest("b 1\n", kText, 2000, 0);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.stale_markers, 1u);
  auto a = sink_.Samples(Series("a", {{"x", "1"}, {"y", "2"}}));
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(IsStaleNaN(a.back().v));
  EXPECT_EQ(
      std::count_if(a.begin(), a.end(), [](const StoredSample& s) { return IsStaleNaN(s.v); }), 1);
}

TEST_F(IngesterTest, FailedParseReportsCountsUpToTheError) {
  Ingester ing = Make();
  IngestResult r = ing.Ingest("a 1\nb 2\nc{ 3\nd 4\n", kText, 1000, 0);
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(Last(sink_, Series("up")), 0);
  // The malformed line is no sample: the parser fails on it before handing it out.
  EXPECT_EQ(Last(sink_, Series("scrape_samples_scraped")), 2);
  EXPECT_EQ(Last(sink_, Series("scrape_samples_post_metric_relabeling")), 2);
  EXPECT_EQ(Last(sink_, Series("scrape_series_added")), 2);
  EXPECT_TRUE(sink_.Samples(Series("a")).empty());
  // A scrape without a body reports zeros.
  ing.IngestFailure(Status::Unavailable("down"), 2000, 0);
  EXPECT_EQ(Last(sink_, Series("scrape_samples_scraped")), 0);
}

TEST_F(IngesterTest, KeepsMetadataPerTarget) {
  Ingester ing = Make();
  ASSERT_TRUE(ing.Ingest("# HELP a_total Requests.\n# TYPE a_total counter\na_total 1\n"
                         "# HELP h Only help.\nh 1\n# TYPE g gauge\ng 1\n",
                         kText, 1000, 0)
                  .status.ok());
  std::vector<storage::MetricMetadata> got = ing.metadata().List();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0],
            (storage::MetricMetadata{"a_total", storage::MetricType::kCounter, "Requests.", ""}));
  EXPECT_EQ(got[1], (storage::MetricMetadata{"g", storage::MetricType::kGauge, "", ""}));
  EXPECT_EQ(got[2],
            (storage::MetricMetadata{"h", storage::MetricType::kUnknown, "Only help.", ""}));
  // OpenMetrics UNIT.
  ASSERT_TRUE(ing.Ingest("# TYPE s_seconds gauge\n# UNIT s_seconds seconds\ns_seconds 1\n# EOF\n",
                         "application/openmetrics-text; version=1.0.0", 2000, 0)
                  .status.ok());
  got = ing.metadata().List();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[3].unit, "seconds");
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
  // Prometheus counts the duplicate as a sample left after relabeling.
  EXPECT_EQ(r.samples_post_relabel, 2u);
  EXPECT_EQ(r.series_added, 1u);
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

// A storage that forgets every ref handed out so far when told to (as the TSDB does for
// series retention removed): Append with a forgotten ref answers NotFound.
class ForgetfulSink : public storage::Appendable {
 public:
  class App : public storage::Appender {
   public:
    App(ForgetfulSink* sink) : sink_(sink), inner_(sink->inner_.NewAppender()) {}
    Status Append(storage::SeriesRef& ref, const Labels& labels, int64_t t, double v) override {
      if (ref != 0 && ref <= sink_->forgotten_below_) return Status::NotFound("forgotten");
      if (ref == 0) ++sink_->label_lookups_;
      storage::SeriesRef inner = ref == 0 ? 0 : ref - sink_->offset_;
      SHARDWISE_RETURN_IF_ERROR(inner_->Append(inner, labels, t, v));
      ref = inner + sink_->offset_;
      return Status::OK();
    }
    Status Commit() override { return inner_->Commit(); }
    void Rollback() override { inner_->Rollback(); }

   private:
    ForgetfulSink* sink_;
    std::unique_ptr<storage::Appender> inner_;
  };
  std::unique_ptr<storage::Appender> NewAppender() override { return std::make_unique<App>(this); }
  // Refs handed out so far become unknown; the same series get new refs.
  void ForgetAll() {
    forgotten_below_ = offset_ + 1'000'000;
    offset_ = forgotten_below_;
  }
  MemorySink inner_;
  storage::SeriesRef offset_ = 0, forgotten_below_ = 0;
  int label_lookups_ = 0;
};

TEST(IngesterForgottenRefTest, LabelsAreDerivedAgainFromTheRawText) {
  for (std::string_view type : {kText, std::string_view("application/openmetrics-text")}) {
    SCOPED_TRACE(type);
    ForgetfulSink sink;
    IngestOptions o;
    o.metric_relabeler =
        relabel::Relabeler::Compile(
            relabel::ParseYaml("[{source_labels: [x], regex: '(.*)', target_label: y, replacement: "
                               "'v-$1'}]")
                .value())
            .value();
    Ingester ing(kTarget, std::move(o), sink);
    const std::string eof = type == kText ? "" : "# EOF\n";
    const std::string body = "a{x=\"1\",job=\"exposed\"} 1\nb{x=\"q\\\"uote\"} 2\n" + eof;
    ASSERT_TRUE(ing.Ingest(body, type, 1000, 0.1).status.ok());
    const int lookups = sink.label_lookups_;
    ASSERT_TRUE(ing.Ingest(body, type, 2000, 0.1).status.ok());
    EXPECT_EQ(sink.label_lookups_, lookups);  // steady state: by ref only
    sink.ForgetAll();
    IngestResult r = ing.Ingest(body, type, 3000, 0.1);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    const Labels a = Series("a", {{"x", "1"}, {"y", "v-1"}, {"exported_job", "exposed"}});
    const Labels b = Series("b", {{"x", "q\"uote"}, {"y", "v-q\"uote"}});
    EXPECT_EQ(sink.inner_.Samples(a).size(), 3u);
    EXPECT_EQ(sink.inner_.Samples(b).size(), 3u);
    // A forgotten ref at a staleness marker: the marker still finds its series.
    sink.ForgetAll();
    ASSERT_TRUE(ing.Ingest("a{x=\"1\",job=\"exposed\"} 1\n" + eof, type, 4000, 0.1).status.ok());
    auto samples = sink.inner_.Samples(b);
    ASSERT_EQ(samples.size(), 4u);
    EXPECT_TRUE(IsStaleNaN(samples.back().v));
    EXPECT_EQ(sink.inner_.Samples(a).size(), 4u);
  }
}

}  // namespace
}  // namespace shardwise::scrape
