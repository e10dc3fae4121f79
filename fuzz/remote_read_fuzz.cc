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

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "common/http/message.h"
#include "common/prompb/remote.pb.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_database.h"
#include "scraper/tsdb/api/handlers.h"

namespace tsdb = shardwise::tsdb;
using shardwise::fuzz::Check;

namespace {

const tsdb::DB& Database() { return shardwise::fuzz::FuzzDatabase({"api", "node", "db"}); }

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
