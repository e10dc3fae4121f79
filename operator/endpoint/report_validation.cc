#include "operator/endpoint/report_validation.h"

#include <cmath>
#include <string>

namespace shardwise::endpoint {
namespace {

Status CheckNumber(double v, double max, const std::string& what) {
  if (!std::isfinite(v) || v < 0 || v > max) {
    return Status::InvalidArgument(what + " must be a number in [0, " + std::to_string(max) + "]");
  }
  return Status::OK();
}

}  // namespace

Status ValidateReport(const ShardKey& key, std::string_view pod, const plan::LoadReport& r) {
  if (r.pod != pod) {
    return Status::InvalidArgument("report.pod \"" + r.pod.substr(0, 100) +
                                   "\" is not the pod it was posted for");
  }
  if (r.shard != key.shard || r.replica != key.replica) {
    // A scraper without a plan yet reports shard 0 replica 0: only a contradiction counts.
    if (r.plan_generation != 0) {
      return Status::InvalidArgument("report.shard/replica do not match the pod name");
    }
  }
  if (r.per_target.size() > kMaxReportTargets) {
    return Status::InvalidArgument("report.perTarget has more than " +
                                   std::to_string(kMaxReportTargets) + " entries");
  }
  SHARDWISE_RETURN_IF_ERROR(CheckNumber(r.active_series, kMaxSeriesPerReport, "activeSeries"));
  SHARDWISE_RETURN_IF_ERROR(
      CheckNumber(r.samples_per_second, kMaxSamplesPerSecond, "samplesPerSecond"));
  SHARDWISE_RETURN_IF_ERROR(CheckNumber(r.saturation, 1.0, "saturation"));
  SHARDWISE_RETURN_IF_ERROR(CheckNumber(r.remote_write_lag_seconds, 1e9, "remoteWriteLagSeconds"));
  if (r.targets != r.per_target.size()) {
    return Status::InvalidArgument("report.targets does not match report.perTarget");
  }
  if (r.plan_error.size() > kMaxErrorBytes) {
    return Status::InvalidArgument("report.planError is too long");
  }
  for (size_t i = 0; i < r.per_target.size(); ++i) {
    const plan::TargetLoad& t = r.per_target[i];
    std::string path = "report.perTarget[" + std::to_string(i) + "]";
    if (i > 0 && r.per_target[i - 1].id >= t.id) {
      return Status::InvalidArgument(path + ": ids must be sorted and unique");
    }
    SHARDWISE_RETURN_IF_ERROR(CheckNumber(t.series, kMaxSeriesPerTarget, path + ".series"));
    if (t.last_success_unix_ms < 0) {
      return Status::InvalidArgument(path + ".lastSuccessUnixMs must not be negative");
    }
    if (t.last_error.size() > kMaxErrorBytes) {
      return Status::InvalidArgument(path + ".lastError is too long");
    }
  }
  return Status::OK();
}

}  // namespace shardwise::endpoint
