#include "scraper/tsdb/api/handlers.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <nlohmann/json.hpp>

#include "common/prompb/remote.pb.h"
#include "scraper/tsdb/api/selector.h"
#include "scraper/tsdb/testutil.h"

namespace shardwise::tsdb::api {
namespace {

using nlohmann::json;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DBOptions o;
    o.retention_interval = std::chrono::milliseconds(0);
    auto db = DB::Open(dir_.path(), o);
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    // http_requests_total{job=api|web, code=200|500} counting up by code every 10 s.
    for (int k = 0; k < 60; ++k) {
      auto app = db_->NewAppender();
      for (std::string job : {"api", "web"}) {
        for (std::string code : {"200", "500"}) {
          storage::SeriesRef ref = 0;
          Labels l{{"__name__", "http_requests_total"}, {"job", job}, {"code", code}};
          ASSERT_TRUE(app->Append(ref, l, 1'000'000 + k * 10'000, k * std::stod(code)).ok());
        }
      }
      storage::SeriesRef ref = 0;
      ASSERT_TRUE(
          app->Append(ref, Labels{{"__name__", "up"}, {"job", "api"}}, 1'000'000 + k * 10'000, 1)
              .ok());
      ASSERT_TRUE(app->Commit().ok());
    }
  }

  static http::Request Get(std::string query) {
    http::Request r;
    r.method = "GET";
    r.query = std::move(query);
    return r;
  }

  testing::TempDir dir_{"api"};
  std::unique_ptr<DB> db_;
};

TEST(SelectorTest, ParsesPromQLSelectors) {
  auto m = ParseSelector(R"(http_requests_total{job="api", code!~"5..", path=~'/a\\.b', x!=`\n`})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->size(), 5u);
  EXPECT_EQ((*m)[0].ToString(), "__name__=\"http_requests_total\"");
  EXPECT_EQ((*m)[1].ToString(), "job=\"api\"");
  EXPECT_EQ((*m)[2].type(), Matcher::Type::kRegexNoMatch);
  EXPECT_EQ((*m)[3].value(), "/a\\.b");
  EXPECT_TRUE((*m)[3].Matches("/a.b"));
  EXPECT_EQ((*m)[4].value(), "\\n");  // backquotes take escapes literally
  EXPECT_EQ((*ParseSelector("up"))[0].value(), "up");
  EXPECT_EQ((*ParseSelector("{__name__=~\"a:b\"}")).size(), 1u);
  EXPECT_EQ((*ParseSelector("ns:rule:rate5m{}")).size(), 1u);
  EXPECT_EQ((*ParseSelector(R"({a="\"q\" \u00e9"})"))[0].value(), "\"q\" \xc3\xa9");
  for (const char* bad : {"", "{", "up{job}", "up{job=api}", "up{job=\"a\"", "up{job=~\"(\"}",
                          "up{job==\"a\"}", "up[5m]", "rate(up[1m])", "{a=\"x\" b=\"y\"}"}) {
    EXPECT_FALSE(ParseSelector(bad).ok()) << bad;
  }
}

TEST(ParseTimeTest, UnixAndRfc3339) {
  EXPECT_EQ(*ParseTime("1700000000"), 1'700'000'000'000);
  EXPECT_EQ(*ParseTime("1700000000.123"), 1'700'000'000'123);
  EXPECT_EQ(*ParseTime("1700000000.5"), 1'700'000'000'500);
  EXPECT_EQ(*ParseTime("-1.5"), -1'500);
  EXPECT_EQ(*ParseTime("2023-11-14T22:13:20Z"), 1'700'000'000'000);
  EXPECT_EQ(*ParseTime("2023-11-14T22:13:20.25Z"), 1'700'000'000'250);
  EXPECT_EQ(*ParseTime("2023-11-15T00:13:20+02:00"), 1'700'000'000'000);
  EXPECT_EQ(*ParseTime("1970-01-01T00:00:00Z"), 0);
  for (const char* bad :
       {"", "abc", "1.2.3", "2023-11-14", "2023-11-14T22:13:20", "2023-13-14T22:13:20Z"}) {
    EXPECT_FALSE(ParseTime(bad).ok()) << bad;
  }
}

TEST_F(ApiTest, RemoteReadReturnsSamplesForEachQuery) {
  prometheus::ReadRequest req;
  auto* q = req.add_queries();
  q->set_start_timestamp_ms(1'000'000 + 100'000);
  q->set_end_timestamp_ms(1'000'000 + 190'000);
  auto* m = q->add_matchers();
  m->set_type(prometheus::LabelMatcher::EQ);
  m->set_name("__name__");
  m->set_value("http_requests_total");
  m = q->add_matchers();
  m->set_type(prometheus::LabelMatcher::RE);
  m->set_name("code");
  m->set_value("5..");
  auto* q2 = req.add_queries();
  q2->set_start_timestamp_ms(0);
  q2->set_end_timestamp_ms(INT64_MAX);
  m = q2->add_matchers();
  m->set_type(prometheus::LabelMatcher::NEQ);
  m->set_name("__name__");
  m->set_value("up");
  req.add_accepted_response_types(prometheus::ReadRequest::SAMPLES);
  std::string raw;
  req.SerializeToString(&raw);
  http::Request r;
  r.method = "POST";
  snappy::Compress(raw.data(), raw.size(), &r.body);

  http::Response resp = RemoteRead(*db_, r);
  ASSERT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(http::FindHeader(resp.headers, "content-type"), "application/x-protobuf");
  EXPECT_EQ(http::FindHeader(resp.headers, "content-encoding"), "snappy");
  std::string decoded;
  ASSERT_TRUE(snappy::Uncompress(resp.body.data(), resp.body.size(), &decoded));
  prometheus::ReadResponse out;
  ASSERT_TRUE(out.ParseFromString(decoded));
  ASSERT_EQ(out.results_size(), 2);
  const auto& first = out.results(0);
  ASSERT_EQ(first.timeseries_size(), 2);  // api and web, code 500
  const auto& ts = first.timeseries(0);
  ASSERT_EQ(ts.labels_size(), 3);
  EXPECT_EQ(ts.labels(0).name(), "__name__");
  EXPECT_EQ(ts.labels(1).name(), "code");
  EXPECT_EQ(ts.labels(1).value(), "500");
  EXPECT_EQ(ts.labels(2).value(), "api");
  ASSERT_EQ(ts.samples_size(), 10);
  EXPECT_EQ(ts.samples(0).timestamp(), 1'100'000);
  EXPECT_EQ(ts.samples(0).value(), 10 * 500);
  EXPECT_EQ(out.results(1).timeseries_size(), 4);
  EXPECT_EQ(out.results(1).timeseries(0).samples_size(), 60);
}

TEST_F(ApiTest, RemoteReadRejectsBadRequests) {
  http::Request r;
  r.method = "POST";
  r.body = "not snappy";
  EXPECT_EQ(RemoteRead(*db_, r).status, 400);
  prometheus::ReadRequest req;
  req.add_queries()->add_matchers()->set_type(prometheus::LabelMatcher::RE);
  req.mutable_queries(0)->mutable_matchers(0)->set_value("(");
  std::string raw;
  req.SerializeToString(&raw);
  r.body.clear();
  snappy::Compress(raw.data(), raw.size(), &r.body);
  EXPECT_EQ(RemoteRead(*db_, r).status, 400);
  prometheus::ReadRequest streamed;
  streamed.add_accepted_response_types(prometheus::ReadRequest::STREAMED_XOR_CHUNKS);
  streamed.SerializeToString(&raw);
  r.body.clear();
  snappy::Compress(raw.data(), raw.size(), &r.body);
  EXPECT_EQ(RemoteRead(*db_, r).status, 400);
}

// Found by fuzz/remote_read_fuzz: a snappy header claiming gigabytes made Uncompress
// allocate them before noticing the body was a few bytes long.
TEST_F(ApiTest, RemoteReadRejectsHugeClaimedLengthsBeforeAllocating) {
  http::Request r;
  r.method = "POST";
  r.body = std::string("\xff\xff\xff\xff\x0f", 5) + "tiny";  // claims 4 GiB - 1
  http::Response resp = RemoteRead(*db_, r);
  EXPECT_EQ(resp.status, 400);
  EXPECT_NE(resp.body.find("too large"), std::string::npos) << resp.body;
}

TEST_F(ApiTest, SeriesEndpoint) {
  auto resp = SeriesApi(*db_, Get("match[]=http_requests_total%7Bcode%3D%22200%22%7D&match[]=up"));
  ASSERT_EQ(resp.status, 200) << resp.body;
  json j = json::parse(resp.body);
  EXPECT_EQ(j["status"], "success");
  ASSERT_EQ(j["data"].size(), 3u);
  EXPECT_EQ(j["data"][0],
            (json{{"__name__", "http_requests_total"}, {"code", "200"}, {"job", "api"}}));
  EXPECT_EQ(j["data"][2], (json{{"__name__", "up"}, {"job", "api"}}));
  // Time range: nothing before the first sample.
  resp = SeriesApi(*db_, Get("match[]=up&start=0&end=999"));
  EXPECT_EQ(json::parse(resp.body)["data"].size(), 0u);
  resp = SeriesApi(*db_, Get("match[]=up&start=1000&end=1000"));
  EXPECT_EQ(json::parse(resp.body)["data"].size(), 1u);

  // POST with a form body works the same.
  http::Request post;
  post.method = "POST";
  post.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  post.body = "match%5B%5D=up";
  EXPECT_EQ(json::parse(SeriesApi(*db_, post).body)["data"].size(), 1u);

  for (std::string bad : {"", "match[]=%7Bjob%3D~%22.*%22%7D", "match[]=up%7B",
                          "match[]=up&start=x", "match[]=up&start=10&end=5"}) {
    resp = SeriesApi(*db_, Get(bad));
    EXPECT_EQ(resp.status, 400) << bad;
    json e = json::parse(resp.body);
    EXPECT_EQ(e["status"], "error");
    EXPECT_EQ(e["errorType"], "bad_data");
  }
}

TEST_F(ApiTest, LabelsAndLabelValues) {
  json j = json::parse(LabelNamesApi(*db_, Get("")).body);
  EXPECT_EQ(j["data"], (json{"__name__", "code", "job"}));
  j = json::parse(LabelNamesApi(*db_, Get("match[]=up")).body);
  EXPECT_EQ(j["data"], (json{"__name__", "job"}));
  j = json::parse(LabelValuesApi(*db_, "job", Get("")).body);
  EXPECT_EQ(j["data"], (json{"api", "web"}));
  j = json::parse(LabelValuesApi(*db_, "__name__", Get("")).body);
  EXPECT_EQ(j["data"], (json{"http_requests_total", "up"}));
  j = json::parse(LabelValuesApi(*db_, "code", Get("match[]=%7Bjob%3D%22web%22%7D")).body);
  EXPECT_EQ(j["data"], (json{"200", "500"}));
  j = json::parse(LabelValuesApi(*db_, "nope", Get("")).body);
  EXPECT_EQ(j["data"], json::array());
  EXPECT_EQ(LabelValuesApi(*db_, "bad-name", Get("")).status, 400);
}

// Found by the issue: these aborted the scraper (the JSON error writer threw on the bytes).
TEST_F(ApiTest, InvalidUtf8IsBadDataNeverAnException) {
  http::Response r = LabelValuesApi(*db_, "\xff\xfe", Get(""));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["errorType"], "bad_data");
  for (std::string q :
       {"match[]=%ff%fe", "match[]=up&start=%ff", "match[]=up%7Bjob%3D%22%ff%22%7D"}) {
    r = SeriesApi(*db_, Get(q));
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_EQ(json::parse(r.body)["errorType"], "bad_data") << q;
    EXPECT_EQ(LabelNamesApi(*db_, Get(q)).status, 400) << q;
    EXPECT_EQ(LabelValuesApi(*db_, "job", Get(q)).status, 400) << q;
  }
}

TEST_F(ApiTest, StoredLabelsThatAreNotUtf8AreReplacedNotThrown) {
  auto app = db_->NewAppender();
  storage::SeriesRef ref = 0;
  ASSERT_TRUE(app->Append(ref, Labels{{"__name__", "odd"}, {"v", "\xff"}}, 1'000'000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  http::Response r = SeriesApi(*db_, Get("match[]=odd"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["data"][0]["v"], "\xef\xbf\xbd");
  EXPECT_EQ(LabelValuesApi(*db_, "v", Get("")).status, 200);
}

prometheus::ReadRequest MatchAll(int queries) {
  prometheus::ReadRequest req;
  for (int i = 0; i < queries; ++i) {
    auto* q = req.add_queries();
    q->set_end_timestamp_ms(INT64_MAX);
    auto* m = q->add_matchers();
    m->set_type(prometheus::LabelMatcher::RE);
    m->set_name("__name__");
    m->set_value(".+");
  }
  return req;
}

http::Request ReadRequestOf(const prometheus::ReadRequest& req) {
  std::string raw;
  req.SerializeToString(&raw);
  http::Request r;
  r.method = "POST";
  snappy::Compress(raw.data(), raw.size(), &r.body);
  return r;
}

TEST_F(ApiTest, RemoteReadIsBoundedInQueriesSeriesSamplesAndBytes) {
  // The fixture holds 5 series of 60 samples: 300 samples per match-all query.
  QueryLimits limits{.max_queries = 3, .max_series = 100, .max_samples = 700, .max_bytes = 0};
  EXPECT_EQ(RemoteRead(*db_, ReadRequestOf(MatchAll(2)), limits).status, 200);
  auto queries = RemoteRead(*db_, ReadRequestOf(MatchAll(4)), limits);
  EXPECT_EQ(queries.status, 422);
  EXPECT_NE(queries.body.find("4 queries, more than the limit 3"), std::string::npos)
      << queries.body;
  auto samples = RemoteRead(*db_, ReadRequestOf(MatchAll(3)), limits);  // 900 samples
  EXPECT_EQ(samples.status, 422);
  EXPECT_NE(samples.body.find("more than 700 samples"), std::string::npos) << samples.body;
  limits.max_samples = 0;
  limits.max_series = 12;  // 15 series in 3 queries
  auto series = RemoteRead(*db_, ReadRequestOf(MatchAll(3)), limits);
  EXPECT_EQ(series.status, 422);
  EXPECT_NE(series.body.find("more than 12 series"), std::string::npos) << series.body;
  limits = {.max_queries = 0, .max_series = 0, .max_samples = 0, .max_bytes = 1000};
  auto bytes = RemoteRead(*db_, ReadRequestOf(MatchAll(1)), limits);
  EXPECT_EQ(bytes.status, 422);
  EXPECT_NE(bytes.body.find("exceed 1000 bytes"), std::string::npos) << bytes.body;
}

TEST_F(ApiTest, JsonApisAreBoundedInSelectorsResultsAndBytes) {
  QueryLimits limits{.max_queries = 2, .max_series = 3, .max_samples = 0, .max_bytes = 0};
  auto r = SeriesApi(*db_, Get("match[]=up&match[]=up&match[]=up"), limits);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(json::parse(r.body)["errorType"], "execution");
  r = SeriesApi(*db_, Get("match[]=%7B__name__%3D~%22.%2B%22%7D"), limits);  // 5 series
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(json::parse(r.body)["error"].get<std::string>().find("more than the limit 3"),
            std::string::npos);
  EXPECT_EQ(SeriesApi(*db_, Get("match[]=up"), limits).status, 200);
  limits.max_series = 2;
  EXPECT_EQ(LabelNamesApi(*db_, Get(""), limits).status, 422);  // 3 names
  limits = {.max_queries = 0, .max_series = 0, .max_samples = 0, .max_bytes = 20};
  EXPECT_EQ(LabelValuesApi(*db_, "__name__", Get(""), limits).status, 422);
}

}  // namespace
}  // namespace shardwise::tsdb::api
