// The TSDB's read endpoints, as plain functions from a request to a response so they can
// be tested without a server, plus RegisterHttpHandlers() to mount them:
//
//   POST /api/v1/read                 Prometheus remote read: snappy-compressed protobuf
//                                     ReadRequest in, ReadResponse (SAMPLES) out.
//   GET|POST /api/v1/series           match[]=<selector>..., start, end
//   GET|POST /api/v1/labels           [match[]...], start, end
//   GET /api/v1/label/<name>/values   [match[]...], start, end
//
// JSON answers have Prometheus's shape: {"status":"success","data":...} or
// {"status":"error","errorType":"bad_data","error":"..."} with HTTP 400. Malformed input
// (including parameters that are not UTF-8) is a 400; the writers never throw (bytes that
// are not UTF-8 in stored labels are replaced by U+FFFD).
//
// Every request is bounded by QueryLimits: over a bound the answer is 422 with the reason
// (remote read: text; JSON APIs: errorType "execution"), counted in
// shardwise_query_limit_exceeded_total{api,limit}.
#pragma once

#include "common/http/message.h"
#include "scraper/tsdb/db.h"

namespace shardwise::http {
class Server;
}

namespace shardwise::tsdb::api {

// 0 = unlimited.
struct QueryLimits {
  size_t max_queries = 100;              // remote read queries, or match[] selectors, per request
  size_t max_series = 1'000'000;         // series returned (summed over a remote read's queries);
                                         // also label names/values returned
  size_t max_samples = 50'000'000;       // remote read samples, summed over the queries
  size_t max_bytes = size_t{256} << 20;  // response bytes before compression
};

http::Response RemoteRead(const DB& db, const http::Request& request,
                          const QueryLimits& limits = {});
http::Response SeriesApi(const DB& db, const http::Request& request,
                         const QueryLimits& limits = {});
http::Response LabelNamesApi(const DB& db, const http::Request& request,
                             const QueryLimits& limits = {});
// `name` is the label name taken from the path.
http::Response LabelValuesApi(const DB& db, std::string_view name, const http::Request& request,
                              const QueryLimits& limits = {});

// Mounts all of the above; `db` must outlive the server. Methods: remote read POST, series
// and labels GET/POST, label values GET (else 405 with Allow).
void RegisterHttpHandlers(http::Server& server, const DB& db, QueryLimits limits = {});

// Prometheus API time parameter: RFC 3339 or Unix seconds with a fraction; milliseconds.
Result<int64_t> ParseTime(std::string_view text);

}  // namespace shardwise::tsdb::api
