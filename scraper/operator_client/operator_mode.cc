#include "scraper/operator_client/operator_mode.h"

#include <cstdlib>

namespace shardwise::opclient {

void OperatorModeOptions::FromEnvironment() {
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return v == nullptr ? std::string() : std::string(v);
  };
  if (pod_namespace.empty()) pod_namespace = env("POD_NAMESPACE");
  if (pod_name.empty()) pod_name = env("POD_NAME");
}

Status OperatorModeOptions::Validate() const {
  if (!operator_url.starts_with("http://") && !operator_url.starts_with("https://")) {
    return Status::InvalidArgument("operator URL must start with http:// or https://, got \"" +
                                   operator_url + "\"");
  }
  if (pod_namespace.empty()) return Status::InvalidArgument("pod namespace (POD_NAMESPACE) unset");
  if (pod_name.empty()) return Status::InvalidArgument("pod name (POD_NAME) unset");
  if (data_dir.empty()) return Status::InvalidArgument("data dir unset");
  if (report_interval.count() <= 0) return Status::InvalidArgument("report interval must be > 0");
  return http::ValidateHttpClientConfig(http, "operator");
}

namespace {

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

OperatorMode::OperatorMode(OperatorModeOptions options, scrape::ScrapeManager& manager,
                           http::Client& client)
    : options_(std::move(options)),
      applier_(PlanApplier::Options{options_.data_dir, options_.base_config}, manager) {
  const std::string url = TrimSlash(options_.operator_url);
  PlanClient::Options pc;
  pc.operator_url = url;
  pc.pod_namespace = options_.pod_namespace;
  pc.pod_name = options_.pod_name;
  pc.data_dir = options_.data_dir;
  pc.wait = options_.plan_wait;
  pc.max_backoff = options_.max_backoff;
  pc.http = options_.http;
  plan_client_ =
      std::make_unique<PlanClient>(std::move(pc), client, [this](const plan::ScrapePlan& p) {
        Status st = applier_.Apply(p);
        if (st.ok() && options_.on_plan_applied) options_.on_plan_applied(p);
        // Tell the operator at once: a drained shard, a handoff's progress or a failure.
        if (reporter_) reporter_->Poke();
        return st;
      });

  LoadReporter::Options lr;
  lr.operator_url = url;
  lr.pod_namespace = options_.pod_namespace;
  lr.pod_name = options_.pod_name;
  lr.interval = options_.report_interval;
  lr.scrape_slots = options_.scrape_slots;
  lr.remote_write_lag_seconds = options_.remote_write_lag_seconds;
  lr.http = options_.http;
  reporter_ = std::make_unique<LoadReporter>(std::move(lr), manager, applier_, client);
}

OperatorMode::~OperatorMode() { Stop(); }

Status OperatorMode::Start() {
  SHARDWISE_RETURN_IF_ERROR(options_.Validate());
  if (started_) return Status::OK();
  started_ = true;
  plan_client_->Start();
  reporter_->Start();
  return Status::OK();
}

void OperatorMode::Stop() {
  plan_client_->Stop();
  reporter_->Stop();
}

}  // namespace shardwise::opclient
