// The head's cardinality, as Prometheus's TSDB status: where to look first when memory
// jumps. GET /api/v1/status/tsdb[?limit=N] answers Prometheus's shape —
//   {"status":"success","data":{
//     "headStats":{"numSeries","numLabelPairs","chunkCount","minTime","maxTime"},
//     "seriesCountByMetricName":[{"name","value"}...],     top N metric names by series
//     "labelValueCountByLabelName":[...],                   top N label names by distinct values
//     "seriesCountByLabelName":[...],                       top N label names by series
//     "seriesCountByLabelValuePair":[{"name":"job=api","value"}...]}}  top N pairs by series
// N defaults to 10 (at most 10000). Computed from the postings index on request (one pass
// over the label pairs, no series read); nothing is kept between requests.
#pragma once

#include <nlohmann/json.hpp>

#include "common/http/message.h"
#include "scraper/tsdb/head.h"

namespace shardwise::tsdb::api {

nlohmann::json TsdbStatusJson(const Head& head, size_t limit);
http::Response TsdbStatusApi(const Head& head, const http::Request& request);

}  // namespace shardwise::tsdb::api
