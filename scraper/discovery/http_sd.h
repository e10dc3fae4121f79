// HttpSdSource: Prometheus http_sd_configs. GETs `url` every `refresh_interval`; the body is
// a JSON list of target groups (Content-Type application/json, status 200).
// Conditional requests: the last ETag is sent as If-None-Match, and 304 keeps the last set.
// A failed refresh (network, non-200, bad JSON) keeps the last good set, is logged, counted
// and visible through last_error(). Every group gets the label __meta_url.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "common/http/client.h"
#include "scraper/discovery/periodic.h"
#include "scraper/discovery/source.h"

namespace shardwise::sd {

struct HttpSdConfig {
  std::string url;
  std::chrono::milliseconds refresh_interval{std::chrono::minutes(1)};
  bool operator==(const HttpSdConfig&) const = default;
};

class HttpSdSource : public TargetSource {
 public:
  HttpSdSource(HttpSdConfig config, http::Client& client);
  ~HttpSdSource() override { Stop(); }
  void Start(UpdateFn update) override;
  void Stop() override;

  // One refresh (blocking). Exposed for tests; Start() runs it periodically.
  // Returns the refresh's own outcome; the reported set is unchanged on error.
  Status Refresh();
  Status last_error() const;

 private:
  HttpSdConfig config_;
  http::Client& client_;
  UpdateFn update_;
  mutable std::mutex mu_;
  std::string etag_;
  std::vector<TargetGroup> last_good_;
  bool reported_ = false;
  Status last_error_;
  Periodic periodic_;
};

}  // namespace shardwise::sd
