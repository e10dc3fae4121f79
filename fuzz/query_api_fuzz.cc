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
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_database.h"
#include "fuzz/fuzz_http.h"
#include "scraper/tsdb/api/handlers.h"

namespace tsdb = shardwise::tsdb;
using shardwise::fuzz::Check;

namespace {

const tsdb::DB& Database() {
  // One job value is not UTF-8: the answers must stay valid JSON.
  return shardwise::fuzz::FuzzDatabase({"api", "node", "db\xff"});
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
