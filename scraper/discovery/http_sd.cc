#include "scraper/discovery/http_sd.h"

#include "common/log/log.h"
#include "scraper/discovery/sd_metrics.h"

namespace shardwise::sd {

HttpSdSource::HttpSdSource(HttpSdConfig config, http::Client& client)
    : config_(std::move(config)), client_(client) {}

void HttpSdSource::Start(UpdateFn update) {
  update_ = std::move(update);
  periodic_.Start(config_.refresh_interval, [this] {
    Status st = Refresh();
    if (!st.ok()) {
      log::Warn("http_sd: refresh failed, keeping the last good targets",
                {{"url", config_.url}, {"err", st}});
    }
  });
}

void HttpSdSource::Stop() { periodic_.Stop(); }

Status HttpSdSource::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

Status HttpSdSource::Refresh() {
  SdMetrics::Get().refreshes.With({"http"}).Inc();
  http::ClientRequest req;
  req.url = config_.url;
  req.headers.emplace_back("Accept", "application/json");
  req.headers.emplace_back("User-Agent", "Shardwise");
  {
    std::lock_guard lock(mu_);
    if (!etag_.empty()) req.headers.emplace_back("If-None-Match", etag_);
  }
  req.timeout = std::chrono::milliseconds(30000);
  req.max_body_bytes = 64 << 20;
  req.accept_gzip = true;

  auto fail = [this](Status st) {
    SdMetrics::Get().refresh_failures.With({"http"}).Inc();
    std::lock_guard lock(mu_);
    last_error_ = st;
    return st;
  };

  Result<http::ClientResponse> resp = client_.DoSync(std::move(req));
  if (!resp.ok()) return fail(resp.status().WithContext("http_sd " + config_.url));
  if (resp->status == 304) {
    std::lock_guard lock(mu_);
    last_error_ = Status::OK();
    return Status::OK();
  }
  if (resp->status != 200) {
    return fail(Status::Unavailable("http_sd " + config_.url + ": server returned HTTP status " +
                                    std::to_string(resp->status)));
  }
  std::string_view content_type = resp->Header("Content-Type");
  if (content_type.substr(0, content_type.find(';')) != "application/json") {
    return fail(Status::InvalidArgument("http_sd " + config_.url + ": unsupported content type \"" +
                                        std::string(content_type) + "\""));
  }
  Result<std::vector<TargetGroup>> groups = ParseTargetGroupsJson(resp->body, config_.url);
  if (!groups.ok()) return fail(groups.status().WithContext("http_sd " + config_.url));
  for (auto& group : groups.value()) {
    LabelsBuilder b(group.labels);
    b.Set("__meta_url", config_.url);
    group.labels = b.Build();
  }

  bool changed;
  {
    std::lock_guard lock(mu_);
    etag_ = std::string(resp->Header("ETag"));
    last_error_ = Status::OK();
    changed = !reported_ || groups.value() != last_good_;
    reported_ = true;
    last_good_ = groups.value();
  }
  if (changed && update_) update_(std::move(groups).value());
  return Status::OK();
}

}  // namespace shardwise::sd
