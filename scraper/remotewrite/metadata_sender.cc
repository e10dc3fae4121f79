#include "scraper/remotewrite/metadata_sender.h"

#include <algorithm>

#include "common/log/log.h"
#include "common/metrics/registry.h"
#include "common/varint.h"
#include "scraper/remotewrite/encoder.h"

namespace shardwise::remotewrite {
namespace {

// Field tags (field number << 3 | wire type).
constexpr char kTagMetadata = (3 << 3) | 2;  // WriteRequest.metadata
constexpr char kTagType = (1 << 3) | 0;      // MetricMetadata.type
constexpr char kTagFamily = (2 << 3) | 2;    // MetricMetadata.metric_family_name
constexpr char kTagHelp = (4 << 3) | 2;      // MetricMetadata.help
constexpr char kTagUnit = (5 << 3) | 2;      // MetricMetadata.unit

// proto3: empty strings and the zero enum value are not written.
void PutString(std::string* out, char tag, std::string_view s) {
  if (s.empty()) return;
  out->push_back(tag);
  AppendVarint(out, s.size());
  out->append(s);
}

struct Metrics {
  metrics::CounterFamily& sent;
  metrics::CounterFamily& failed;
  static Metrics& Get() {
    static Metrics* m = [] {
      auto& r = metrics::Registry::Default();
      return new Metrics{
          r.AddCounterFamily("shardwise_remote_write_metadata_sent_total",
                             "Metric metadata entries delivered to the endpoint.", {"remote_name"}),
          r.AddCounterFamily("shardwise_remote_write_metadata_failed_total",
                             "Metric metadata entries not delivered (dropped or given up).",
                             {"remote_name"}),
      };
    }();
    return *m;
  }
};

}  // namespace

void EncodeMetadataRequest(std::span<const storage::MetricMetadata> metadata, std::string* out) {
  out->clear();
  std::string entry;
  for (const storage::MetricMetadata& m : metadata) {
    entry.clear();
    if (m.type != storage::MetricType::kUnknown) {
      entry.push_back(kTagType);
      AppendVarint(&entry, static_cast<uint64_t>(m.type));
    }
    PutString(&entry, kTagFamily, m.family);
    PutString(&entry, kTagHelp, m.help);
    PutString(&entry, kTagUnit, m.unit);
    out->push_back(kTagMetadata);
    AppendVarint(out, entry.size());
    out->append(entry);
  }
}

MetadataSender::MetadataSender(EndpointConfig config, std::unique_ptr<Transport> transport,
                               Source source)
    : config_(std::move(config)), transport_(std::move(transport)), source_(std::move(source)) {}

MetadataSender::~MetadataSender() { Stop(); }

void MetadataSender::Start() {
  if (!config_.metadata.send || thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void MetadataSender::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MetadataSender::Run() {
  const auto interval = config_.metadata.send_interval;
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    SendOnce();
    lock.lock();
  }
}

size_t MetadataSender::SendOnce() {
  const std::vector<storage::MetricMetadata> all = source_();
  const auto give_up = std::chrono::steady_clock::now() + config_.metadata.send_interval;
  const size_t per_request = static_cast<size_t>(config_.metadata.max_samples_per_send);
  size_t delivered = 0;
  for (size_t i = 0; i < all.size(); i += per_request) {
    std::span<const storage::MetricMetadata> batch(all.data() + i,
                                                   std::min(per_request, all.size() - i));
    if (SendBatch(batch, give_up)) {
      delivered += batch.size();
      Metrics::Get().sent.With({config_.name}).Inc(static_cast<double>(batch.size()));
    } else {
      Metrics::Get().failed.With({config_.name}).Inc(static_cast<double>(batch.size()));
    }
  }
  return delivered;
}

bool MetadataSender::SendBatch(std::span<const storage::MetricMetadata> batch,
                               std::chrono::steady_clock::time_point give_up) {
  std::string raw, body;
  EncodeMetadataRequest(batch, &raw);
  SnappyCompress(raw, &body);
  Backoff backoff(config_.queue.min_backoff, config_.queue.max_backoff);
  for (;;) {
    SendAttempt attempt = transport_->Send(body);
    if (attempt.verdict.outcome == SendOutcome::kDelivered) return true;
    if (attempt.verdict.outcome == SendOutcome::kDrop) {
      log::Warn("remote write endpoint refused metadata; dropped", {{"remote_name", config_.name},
                                                                    {"status", attempt.http_status},
                                                                    {"entries", batch.size()},
                                                                    {"err", attempt.error}});
      return false;
    }
    auto wait = attempt.verdict.retry_after.value_or(backoff.Next());
    std::unique_lock lock(mu_);
    if (stopping_ || std::chrono::steady_clock::now() + wait >= give_up) return false;
    if (cv_.wait_for(lock, wait, [this] { return stopping_; })) return false;
  }
}

}  // namespace shardwise::remotewrite
