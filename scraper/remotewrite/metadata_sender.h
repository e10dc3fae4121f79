// MetadataSender: sends metric metadata to one remote-write endpoint, as Prometheus does
// under `metadata_config` (remote write 1.0).
//
// Every send_interval (the first one send_interval after Start, as Prometheus's ticker), the
// sender asks its source for the metadata of every active target — deduplicated, ordered by
// family — and posts it as WriteRequests holding only `metadata` (field 3), at most
// max_samples_per_send entries each. Types map to the wire's MetricMetadata.MetricType
// (counter → COUNTER, gaugehistogram → GAUGEHISTOGRAM, unknown → UNKNOWN). Metadata is not
// subject to write_relabel_configs and carries no external labels, as in Prometheus.
//
// A batch the receiver refuses for good (4xx) is dropped; retryable failures (5xx, 429
// when configured, network errors) are retried with the endpoint's queue backoff until the
// batch is delivered, the next round is due (it resends the fresh list anyway) or Stop().
// Metadata never blocks samples: it has its own thread and its own requests.
//
// Thread-safe. Counts go to shardwise_remote_write_metadata_{sent,failed}_total{remote_name}.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "scraper/remotewrite/config.h"
#include "scraper/remotewrite/transport.h"
#include "scraper/storage/metadata.h"

namespace shardwise::remotewrite {

// A WriteRequest with `metadata` only; the bytes libprotobuf would produce.
void EncodeMetadataRequest(std::span<const storage::MetricMetadata> metadata, std::string* out);

class MetadataSender {
 public:
  using Source = std::function<std::vector<storage::MetricMetadata>()>;

  // `config` gives name, metadata_config and backoff; `source` is called on the sender's
  // thread and must stay callable until Stop().
  MetadataSender(EndpointConfig config, std::unique_ptr<Transport> transport, Source source);
  ~MetadataSender();
  MetadataSender(const MetadataSender&) = delete;
  MetadataSender& operator=(const MetadataSender&) = delete;

  // No-op when metadata_config.send is false.
  void Start();
  void Stop();

  // One round now, on the calling thread: entries delivered (tests, shutdown).
  size_t SendOnce();

 private:
  void Run();
  // False when the batch could not be delivered (dropped, or given up at `give_up`).
  bool SendBatch(std::span<const storage::MetricMetadata> batch,
                 std::chrono::steady_clock::time_point give_up);

  const EndpointConfig config_;
  const std::unique_ptr<Transport> transport_;
  const Source source_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace shardwise::remotewrite
