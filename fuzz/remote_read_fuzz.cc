// libFuzzer target for the remote-read endpoint (scraper/tsdb/api RemoteRead): snappy
// decompression, protobuf parsing and matcher building from an arbitrary request body,
// answered from a small in-memory database. The first byte picks the body: even, the rest
// as sent; odd, the rest snappy-compressed first, so the fuzzer reaches the protobuf and
// matcher code without having to learn snappy's framing.
//
// Invariants: every body gets 200, 400 or 422 (over a query limit; small limits here so
// the fuzzer reaches them) and nothing crashes; a 200 answer is a snappy-compressed
// ReadResponse with one result per query; a 400 or 422 answer says why.
#include <snappy.h>
#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "common/http/message.h"
#include "common/prompb/remote.pb.h"
#include "fuzz/fuzz_check.h"
#include "scraper/tsdb/api/handlers.h"
#include "scraper/tsdb/db.h"

namespace tsdb = shardwise::tsdb;
using shardwise::fuzz::Check;

namespace {

char database_dir[] = "/tmp/shardwise-remote-read-fuzz-XXXXXX";

void RemoveDatabaseDir() {
  std::error_code ignored;
  std::filesystem::remove_all(database_dir, ignored);
}

// Opened once per process in a fresh directory (removed at exit); a handful of series to
// match against. The database itself lives until the process ends.
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
    const char* jobs[] = {"api", "node", "db"};
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
  shardwise::http::Request request;
  request.method = "POST";
  request.path = "/api/v1/read";
  const char* rest = reinterpret_cast<const char*>(data) + 1;
  if (data[0] & 1) {
    snappy::Compress(rest, size - 1, &request.body);
  } else {
    request.body.assign(rest, size - 1);
  }

  tsdb::api::QueryLimits limits{
      .max_queries = 8, .max_series = 20, .max_samples = 50, .max_bytes = 4096};
  const shardwise::http::Response response = tsdb::api::RemoteRead(Database(), request, limits);
  if (response.status == 400 || response.status == 422) {
    Check(!response.body.empty(), "a rejected request says why");
    return 0;
  }
  Check(response.status == 200, "only 200 or 400");
  std::string raw_request, raw_response;
  Check(snappy::Uncompress(request.body.data(), request.body.size(), &raw_request),
        "200 only for snappy bodies");
  prometheus::ReadRequest parsed_request;
  Check(parsed_request.ParseFromString(raw_request), "200 only for valid ReadRequests");
  Check(snappy::Uncompress(response.body.data(), response.body.size(), &raw_response),
        "the answer is snappy-compressed");
  prometheus::ReadResponse parsed_response;
  Check(parsed_response.ParseFromString(raw_response), "the answer is a ReadResponse");
  Check(parsed_response.results_size() == parsed_request.queries_size(), "one result per query");
  return 0;
}
