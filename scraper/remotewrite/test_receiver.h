// Test helpers: decoding remote-write bodies and collecting what a receiver got.
// Used by the remotewrite tests only (links libprotobuf through shardwise_prompb).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/client.h"
#include "common/prompb/remote.pb.h"
#include "common/status.h"
#include "common/testing/local_process.h"
#include "scraper/remotewrite/transport.h"

namespace shardwise::remotewrite::testing {

struct ReceivedSample {
  std::string series;  // {a="1", b="2"} in wire order
  int64_t t_ms;
  double value;
  bool operator==(const ReceivedSample&) const = default;
  auto operator<=>(const ReceivedSample& o) const {
    if (auto c = series <=> o.series; c != 0) return c;
    return t_ms <=> o.t_ms;
  }
};

// Snappy-decompresses and parses a body; InvalidArgument when either fails.
Result<prometheus::WriteRequest> DecodeBody(std::string_view snappy_body);
std::string SeriesString(const prometheus::TimeSeries& ts);

// Collects delivered samples; thread-safe; lets a test wait for a count with a deadline.
class Collector {
 public:
  void Add(const prometheus::WriteRequest& req);
  std::vector<ReceivedSample> Samples() const;
  size_t size() const;
  // True once at least `n` samples arrived, false at the deadline.
  bool WaitFor(size_t n, std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<ReceivedSample> samples_;
};

// A Transport that decodes every body and answers with `policy` (default: delivered).
class FakeTransport : public Transport {
 public:
  using Policy = std::function<SendAttempt(const prometheus::WriteRequest&, int attempt)>;
  explicit FakeTransport(Collector* delivered, Policy policy = {})
      : delivered_(delivered), policy_(std::move(policy)) {}
  SendAttempt Send(std::string_view snappy_body) override;
  int attempts() const {
    std::lock_guard lock(mu_);
    return attempts_;
  }

 private:
  Collector* delivered_;
  Policy policy_;
  mutable std::mutex mu_;
  int attempts_ = 0;
};

using shardwise::testing::ChildProcess;
using shardwise::testing::FindOnPath;
using shardwise::testing::FreePort;
// Polls `url` until it answers 200 or `timeout` passes.
bool WaitReady(http::Client& client, const std::string& url, std::chrono::seconds timeout);

}  // namespace shardwise::remotewrite::testing
