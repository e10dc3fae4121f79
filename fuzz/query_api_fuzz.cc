// libFuzzer target for the scraper's label and series APIs (scraper/tsdb/api):
// /api/v1/series, /api/v1/labels and /api/v1/label/<name>/values with arbitrary query
// strings, form bodies and label names, answered from a small in-memory database with
// small limits, so the fuzzer reaches the limit paths too.
//
// Input: byte 0 picks the API (mod 3) and GET or POST form (bit 2); the rest is
// "<label name>\n<query string>\n<form body>".
//
// Invariants: 200, 400 or 422 only; every answer is JSON with Prometheus's envelope
// (the writers never throw, whatever bytes come in or are stored); nothing crashes.
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_http.h"
#include "scraper/tsdb/api/handlers.h"
#include "scraper/tsdb/db.h"

namespace tsdb = shardwise::tsdb;
using shardwise::fuzz::Check;

namespace {

char database_dir[] = "/tmp/shardwise-query-api-fuzz-XXXXXX";

void RemoveDatabaseDir() {
  std::error_code ignored;
  std::filesystem::remove_all(database_dir, ignored);
}

const tsdb::DB& Database() {
  static tsdb::DB* db = [] {
    const char* dir = mkdtemp(database_dir);
    Check(dir != nullptr, "temporary directory");
    std::atexit(RemoveDatabaseDir);
    tsdb::DBOptions options;
    options.retention_interval = std::chrono::milliseconds(0);
    auto opened = tsdb::DB::Open(dir, options);
    Check(opened.ok(), "database opens");
    auto app = (*opened)->NewAppender();
    const char* jobs[] = {"api", "node", "db\xff"};  // one value that is not UTF-8
    for (int i = 0; i < 12; ++i) {
      shardwise::Labels labels{{"__name__", i % 2 ? "up" : "http_requests_total"},
                               {"code", std::to_string(200 + i % 3 * 100)},
                               {"instance", "10.0.0." + std::to_string(i) + ":9100"},
                               {"job", jobs[i % 3]}};
      shardwise::storage::SeriesRef ref = 0;
      for (int64_t t = 0; t < 5; ++t) {
        Check(app->Append(ref, labels, 1000 * t, static_cast<double>(i * t)).ok(), "append");
      }
    }
    Check(app->Commit().ok(), "commit");
    return opened->release();
  }();
  return *db;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int api = data[0] % 3;
  const bool post = data[0] & 4;
  auto parts = shardwise::fuzz::SplitParts(
      std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), 3);
  shardwise::http::Request req;
  req.method = post ? "POST" : "GET";
  req.query = parts[1];
  if (post) {
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    req.body = parts[2];
  }
  tsdb::api::QueryLimits limits{
      .max_queries = 4, .max_series = 8, .max_samples = 0, .max_bytes = 2048};
  shardwise::http::Response r;
  switch (api) {
    case 0:
      r = tsdb::api::SeriesApi(Database(), req, limits);
      break;
    case 1:
      r = tsdb::api::LabelNamesApi(Database(), req, limits);
      break;
    default:
      r = tsdb::api::LabelValuesApi(Database(), parts[0], req, limits);
      break;
  }
  Check(r.status == 200 || r.status == 400 || r.status == 422, "200, 400 or 422");
  auto body = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  Check(body.is_object() && body.contains("status"), "a JSON envelope");
  Check((body["status"] == "success") == (r.status == 200), "success exactly on 200");
  return 0;
}
