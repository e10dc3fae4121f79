// Parses the recorded exposition in scraper/testdata/ and checks every sample against a
// deliberately naive line-level oracle (split lines, skip comments, strtod, std::regex for
// labels), plus spot checks of series whose content is known.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "scraper/parse/parser.h"

namespace shardwise::parse {
namespace {

std::string TestdataPath(const std::string& file) {
  return std::string(SHARDWISE_TESTDATA_DIR) + "/" + file;
}

std::string ReadFile(const std::string& file) {
  std::ifstream in(TestdataPath(file), std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << TestdataPath(file);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Sample {
  std::string series;
  shardwise::Labels labels;
  double value = 0;
  std::optional<int64_t> timestamp_ms;
  bool has_exemplar = false;
  bool created = false;
};

struct Parsed {
  std::vector<Sample> samples;
  std::map<std::string, MetricType> types;  // family -> type
  std::map<std::string, std::string> help;
  std::map<std::string, std::string> units;
};

Parsed ParseAll(Format format, std::string_view body) {
  Parsed out;
  auto p = Parser::New(format, body);
  LabelsBuilder builder;
  for (;;) {
    const Entry e = p->Next();
    if (e == Entry::kEnd) break;
    if (e == Entry::kError) {
      ADD_FAILURE() << p->error().message();
      break;
    }
    switch (e) {
      case Entry::kSeries: {
        Sample s;
        s.series = std::string(p->Series());
        p->Labels(builder);
        s.labels = builder.Build();
        s.value = p->Value();
        s.timestamp_ms = p->TimestampMs();
        Exemplar ex;
        s.has_exemplar = p->Exemplar(ex);
        s.created = p->IsCreatedSample();
        out.samples.push_back(std::move(s));
        break;
      }
      case Entry::kType:
        out.types[std::string(p->FamilyName())] = p->Type();
        break;
      case Entry::kHelp:
        out.help[std::string(p->FamilyName())] = std::string(p->Help());
        break;
      case Entry::kUnit:
        out.units[std::string(p->FamilyName())] = std::string(p->Unit());
        break;
      default:
        break;
    }
  }
  return out;
}

// The oracle: what a sample line says, read in the most obvious way.
struct OracleSample {
  std::string series;
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
  std::optional<int64_t> timestamp_ms;
};

std::string OracleUnescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char n = s[++i];
      out += n == 'n' ? '\n' : n;  // recordings only use \\, \" and \n
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<OracleSample> Oracle(Format format, const std::string& body) {
  std::vector<OracleSample> out;
  const std::regex label_re(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)")re");
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (format == Format::kOpenMetrics) {
      const size_t ex = line.find(" # {");
      if (ex != std::string::npos) line.resize(ex);
    }
    OracleSample s;
    const size_t close = line.find('{') == std::string::npos ? std::string::npos : line.rfind('}');
    const size_t series_end = close == std::string::npos ? line.find(' ') : close + 1;
    s.series = line.substr(0, series_end);
    s.name = s.series.substr(0, s.series.find('{'));
    for (std::sregex_iterator it(s.series.begin(), s.series.end(), label_re), end; it != end;
         ++it) {
      s.labels.emplace_back((*it)[1].str(), OracleUnescape((*it)[2].str()));
    }
    std::istringstream rest(line.substr(series_end));
    std::string value, timestamp;
    rest >> value >> timestamp;
    s.value = std::strtod(value.c_str(), nullptr);
    if (!timestamp.empty()) {
      s.timestamp_ms = format == Format::kOpenMetrics
                           ? std::llround(std::strtod(timestamp.c_str(), nullptr) * 1000)
                           : std::stoll(timestamp);
    }
    out.push_back(std::move(s));
  }
  return out;
}

struct Recording {
  const char* file;
  Format format;
};

const Recording kRecordings[] = {
    {"node_exporter.prom", Format::kPrometheusText},
    {"node_exporter.om.txt", Format::kOpenMetrics},
    {"prometheus.prom", Format::kPrometheusText},
    {"prometheus.om.txt", Format::kOpenMetrics},
    {"victoria_metrics.prom", Format::kPrometheusText},
    {"victoria_metrics.om.txt", Format::kOpenMetrics},
    {"pushgateway.prom", Format::kPrometheusText},
    {"pushgateway.om.txt", Format::kOpenMetrics},
    {"openmetrics_features.om.txt", Format::kOpenMetrics},
};

class RecordingTest : public ::testing::TestWithParam<Recording> {};

TEST_P(RecordingTest, EverySampleMatchesTheOracle) {
  const std::string body = ReadFile(GetParam().file);
  const Parsed parsed = ParseAll(GetParam().format, body);
  const std::vector<OracleSample> oracle = Oracle(GetParam().format, body);
  ASSERT_GT(oracle.size(), 10u);
  ASSERT_EQ(parsed.samples.size(), oracle.size());
  for (size_t i = 0; i < oracle.size(); ++i) {
    const Sample& got = parsed.samples[i];
    const OracleSample& want = oracle[i];
    SCOPED_TRACE(want.series);
    EXPECT_EQ(got.series, want.series);
    EXPECT_EQ(got.labels.Get("__name__"), want.name);
    size_t non_empty = 0;
    for (const auto& [name, value] : want.labels) {
      EXPECT_EQ(got.labels.Get(name), value) << name;
      non_empty += !value.empty();
    }
    EXPECT_EQ(got.labels.size(), non_empty + 1);  // empty values are absent, plus __name__
    if (std::isnan(want.value)) {
      EXPECT_TRUE(std::isnan(got.value));
    } else {
      EXPECT_EQ(got.value, want.value);
    }
    EXPECT_EQ(got.timestamp_ms, want.timestamp_ms);
  }
}

TEST_P(RecordingTest, HistogramInfBucketEqualsCount) {
  const Parsed parsed = ParseAll(GetParam().format, ReadFile(GetParam().file));
  std::map<std::string, double> inf_buckets;  // family + labels without le -> value
  auto key = [](std::string_view family, const shardwise::Labels& labels) {
    LabelsBuilder b(labels);
    b.Del("le");
    b.Set("__name__", family);
    return b.Build().ToString();
  };
  for (const Sample& s : parsed.samples) {
    const std::string_view name = s.labels.Get("__name__");
    if (name.ends_with("_bucket") && s.labels.Get("le") == "+Inf") {
      inf_buckets[key(name.substr(0, name.size() - 7), s.labels)] = s.value;
    }
  }
  size_t checked = 0;
  for (const Sample& s : parsed.samples) {
    const std::string_view name = s.labels.Get("__name__");
    if (!name.ends_with("_count") && !name.ends_with("_gcount")) continue;
    const std::string_view family = name.substr(0, name.rfind('_'));
    const auto it = inf_buckets.find(key(family, s.labels));
    if (it == inf_buckets.end()) continue;  // a summary
    EXPECT_EQ(it->second, s.value) << it->first;
    ++checked;
  }
  EXPECT_EQ(checked, inf_buckets.size());
}

INSTANTIATE_TEST_SUITE_P(Testdata, RecordingTest, ::testing::ValuesIn(kRecordings),
                         [](const auto& info) {
                           std::string name = info.param.file;
                           for (char& c : name) {
                             if (c == '.') c = '_';
                           }
                           return name;
                         });

const Sample* Find(const Parsed& parsed, std::string_view series) {
  for (const Sample& s : parsed.samples) {
    if (s.series == series) return &s;
  }
  return nullptr;
}

TEST(TestdataTest, NodeExporterBuildInfo) {
  const Parsed parsed = ParseAll(Format::kPrometheusText, ReadFile("node_exporter.prom"));
  const Sample* s = nullptr;
  for (const Sample& sample : parsed.samples) {
    if (sample.labels.Get("__name__") == "node_exporter_build_info") s = &sample;
  }
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->labels, (shardwise::Labels{{"__name__", "node_exporter_build_info"},
                                          {"branch", "debian/sid"},
                                          {"goarch", "amd64"},
                                          {"goos", "linux"},
                                          {"goversion", "go1.19.8"},
                                          {"revision", "1.5.0-1+b6"},
                                          {"version", "1.5.0"}}));
  EXPECT_EQ(s->value, 1);
  EXPECT_EQ(parsed.types.at("node_cpu_seconds_total"), MetricType::kCounter);
  EXPECT_EQ(parsed.types.at("go_gc_duration_seconds"), MetricType::kSummary);
  EXPECT_EQ(parsed.help.at("node_load1"), "1m load average.");
}

TEST(TestdataTest, PrometheusHasHistograms) {
  const Parsed parsed = ParseAll(Format::kPrometheusText, ReadFile("prometheus.prom"));
  EXPECT_EQ(parsed.types.at("prometheus_http_request_duration_seconds"), MetricType::kHistogram);
  const Sample* count = nullptr;
  for (const Sample& s : parsed.samples) {
    if (s.labels.Get("__name__") == "prometheus_http_request_duration_seconds_count" &&
        s.labels.Get("handler") == "/metrics") {
      count = &s;
    }
  }
  ASSERT_NE(count, nullptr);
  EXPECT_GE(count->value, 1);  // Prometheus scraped itself before the recording
}

TEST(TestdataTest, PushgatewayKeepsEscapedLabelValues) {
  const Parsed parsed = ParseAll(Format::kPrometheusText, ReadFile("pushgateway.prom"));
  const Sample* s = nullptr;
  for (const Sample& sample : parsed.samples) {
    if (sample.labels.Get("__name__") == "batch_last_path") s = &sample;
  }
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->labels.Get("path"), "C:\\tmp\\x");
  EXPECT_EQ(s->labels.Get("note"), "say \"hi\"\nbye");
  EXPECT_EQ(s->labels.Get("job"), "batch");
  const Sample* bucket =
      Find(parsed, R"(batch_duration_seconds_bucket{instance="node-1",job="batch",le="+Inf"})");
  ASSERT_NE(bucket, nullptr);
  EXPECT_EQ(bucket->value, 9);
}

TEST(TestdataTest, OpenMetricsFeatures) {
  const std::string body = ReadFile("openmetrics_features.om.txt");
  const Parsed parsed = ParseAll(Format::kOpenMetrics, body);
  EXPECT_EQ(parsed.types.at("http_requests"), MetricType::kCounter);
  EXPECT_EQ(parsed.types.at("queue_depth"), MetricType::kGaugeHistogram);
  EXPECT_EQ(parsed.types.at("build"), MetricType::kInfo);
  EXPECT_EQ(parsed.types.at("feature_state"), MetricType::kStateset);
  EXPECT_EQ(parsed.help.at("http_requests"), "Requests served, by \"code\".");
  EXPECT_EQ(parsed.units.at("request_duration_seconds"), "seconds");

  const Sample* total = Find(parsed, R"(http_requests_total{code="200"})");
  ASSERT_NE(total, nullptr);
  EXPECT_EQ(total->timestamp_ms, 1700000000500);
  EXPECT_TRUE(total->has_exemplar);
  EXPECT_FALSE(total->created);
  const Sample* created = Find(parsed, R"(http_requests_created{code="200"})");
  ASSERT_NE(created, nullptr);
  EXPECT_TRUE(created->created);
  EXPECT_EQ(created->value, 1699990000.123);
  size_t created_samples = 0;
  for (const Sample& s : parsed.samples) created_samples += s.created;
  EXPECT_EQ(created_samples, 4u);  // two counter, one histogram, one summary

  // The exemplar in full, read through a fresh parser.
  auto p = Parser::New(Format::kOpenMetrics, body);
  Entry e;
  while ((e = p->Next()) != Entry::kSeries) ASSERT_NE(e, Entry::kError);
  Exemplar ex;
  ASSERT_TRUE(p->Exemplar(ex));
  EXPECT_EQ(ex.labels, (shardwise::Labels{{"trace_id", "4bf92f3577b34da6"}}));
  EXPECT_EQ(ex.value, 1);
  EXPECT_EQ(ex.timestamp_ms, 1700000000250);

  const Sample* info =
      Find(parsed, R"(build_info{version="1.2.3",revision="abc\"def\\ghi\nline"})");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->labels.Get("revision"), "abc\"def\\ghi\nline");
  const Sample* cold = Find(parsed, R"(temperature_celsius{room="outside"})");
  ASSERT_NE(cold, nullptr);
  EXPECT_EQ(cold->value, -INFINITY);
}

// The OpenMetrics variant of a recording names the same series, except that counter
// samples gain the "_total" suffix where the text exposition lacked it.
TEST(TestdataTest, TextAndOpenMetricsRecordingsAgreeOnSeries) {
  for (const std::string name :
       {"node_exporter", "prometheus", "victoria_metrics", "pushgateway"}) {
    SCOPED_TRACE(name);
    const Parsed text = ParseAll(Format::kPrometheusText, ReadFile(name + ".prom"));
    const Parsed om = ParseAll(Format::kOpenMetrics, ReadFile(name + ".om.txt"));
    ASSERT_EQ(text.samples.size(), om.samples.size());
    std::set<std::string> counters;
    for (const auto& [family, type] : text.types) {
      if (type == MetricType::kCounter) counters.insert(family);
    }
    for (size_t i = 0; i < text.samples.size(); ++i) {
      const Sample& t = text.samples[i];
      const Sample& o = om.samples[i];
      const std::string text_name(t.labels.Get("__name__"));
      const std::string om_name(o.labels.Get("__name__"));
      if (counters.count(text_name) && !text_name.ends_with("_total")) {
        EXPECT_EQ(om_name, text_name + "_total");
      } else {
        EXPECT_EQ(om_name, text_name);
      }
      LabelsBuilder tb(t.labels), ob(o.labels);
      tb.Del("__name__");
      ob.Del("__name__");
      EXPECT_EQ(tb.Build(), ob.Build()) << text_name;
      if (std::isnan(t.value)) {
        EXPECT_TRUE(std::isnan(o.value)) << text_name;
      } else {
        EXPECT_EQ(t.value, o.value) << text_name;
      }
    }
  }
}

}  // namespace
}  // namespace shardwise::parse
