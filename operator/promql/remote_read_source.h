// A SampleSource over one scraper's Prometheus remote-read endpoint (/api/v1/read,
// snappy-compressed protobuf, SAMPLES responses). Every Select is one HTTP request bounded by
// `timeout`: a slow or dead scraper gives DeadlineExceeded / Unavailable naming the URL,
// never a hang. An answer over `max_body_bytes` is ResourceExhausted.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/http/client.h"
#include "operator/promql/engine.h"

namespace shardwise::promql {

class RemoteReadSource : public SampleSource {
 public:
  // `client` must outlive the source; `url` is the full endpoint URL.
  RemoteReadSource(http::Client& client, std::string url, std::chrono::milliseconds timeout,
                   size_t max_body_bytes = size_t{256} << 20)
      : client_(client), url_(std::move(url)), timeout_(timeout), max_body_(max_body_bytes) {}

  Result<std::vector<Series>> Select(const std::vector<Matcher>& matchers, int64_t mint,
                                     int64_t maxt) override;

 private:
  http::Client& client_;
  std::string url_;
  std::chrono::milliseconds timeout_;
  size_t max_body_;
};

}  // namespace shardwise::promql
