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
// {"status":"error","errorType":"bad_data","error":"..."} with HTTP 400.
#pragma once

#include "common/http/message.h"
#include "scraper/tsdb/db.h"

namespace shardwise::http {
class Server;
}

namespace shardwise::tsdb::api {

http::Response RemoteRead(const DB& db, const http::Request& request);
http::Response SeriesApi(const DB& db, const http::Request& request);
http::Response LabelNamesApi(const DB& db, const http::Request& request);
// `name` is the label name taken from the path.
http::Response LabelValuesApi(const DB& db, std::string_view name, const http::Request& request);

// Mounts all of the above; `db` must outlive the server.
void RegisterHttpHandlers(http::Server& server, const DB& db);

// Prometheus API time parameter: RFC 3339 or Unix seconds with a fraction; milliseconds.
Result<int64_t> ParseTime(std::string_view text);

}  // namespace shardwise::tsdb::api
