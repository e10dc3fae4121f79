#include "scraper/remotewrite/test_receiver.h"

#include <snappy.h>

namespace shardwise::remotewrite::testing {

Result<prometheus::WriteRequest> DecodeBody(std::string_view snappy_body) {
  std::string plain;
  if (!snappy::Uncompress(snappy_body.data(), snappy_body.size(), &plain)) {
    return Status::InvalidArgument("body is not snappy");
  }
  prometheus::WriteRequest req;
  if (!req.ParseFromString(plain)) return Status::InvalidArgument("body is not a WriteRequest");
  return req;
}

std::string SeriesString(const prometheus::TimeSeries& ts) {
  std::string s = "{";
  for (int i = 0; i < ts.labels_size(); ++i) {
    if (i > 0) s += ", ";
    s += ts.labels(i).name() + "=\"" + ts.labels(i).value() + "\"";
  }
  return s + "}";
}

void Collector::Add(const prometheus::WriteRequest& req) {
  {
    std::lock_guard lock(mu_);
    for (const auto& ts : req.timeseries()) {
      std::string series = SeriesString(ts);
      for (const auto& s : ts.samples()) samples_.push_back({series, s.timestamp(), s.value()});
    }
  }
  cv_.notify_all();
}

std::vector<ReceivedSample> Collector::Samples() const {
  std::lock_guard lock(mu_);
  return samples_;
}

size_t Collector::size() const {
  std::lock_guard lock(mu_);
  return samples_.size();
}

bool Collector::WaitFor(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return samples_.size() >= n; });
}

SendAttempt FakeTransport::Send(std::string_view snappy_body) {
  Result<prometheus::WriteRequest> req = DecodeBody(snappy_body);
  if (!req.ok()) return {{SendOutcome::kDrop, {}}, 400, req.status().ToString()};
  int attempt;
  {
    std::lock_guard lock(mu_);
    attempt = ++attempts_;
  }
  SendAttempt result{{SendOutcome::kDelivered, {}}, 204, ""};
  if (policy_) result = policy_(*req, attempt);
  if (result.verdict.outcome == SendOutcome::kDelivered) delivered_->Add(*req);
  return result;
}

bool WaitReady(http::Client& client, const std::string& url, std::chrono::seconds timeout) {
  return shardwise::testing::WaitFor(
      [&] {
        auto resp = client.DoSync({.url = url, .timeout = std::chrono::seconds(1)});
        return resp.ok() && resp->status == 200;
      },
      timeout);
}

}  // namespace shardwise::remotewrite::testing
