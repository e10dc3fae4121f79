// RemoteWriter: the scraper's remote-write subsystem, one QueueManager per endpoint, all
// tailing the same WAL. This is what scraper/main.cc wires:
//
//   RemoteWriter rw(endpoints, {.external_labels = ..., .cursor_dir = data_dir + "/remote-write"},
//                   db_wal_source, http::Client::Shared());
//   SHARDWISE_RETURN_IF_ERROR(rw.Start());
//   rw.RegisterMetrics(metrics::Registry::Default());
//   ... on SIGTERM, after the last scrape was committed:
//   rw.Flush(steady_clock::now() + 30s); rw.Stop();
//
// Endpoints are independent: a dead receiver delays only its own queue. They share one
// copy of each series' labels (SeriesStore: ids of the label pairs the TSDB head interned),
// freed once the slowest has read the series' removal.
//
// Reconfigure() applies a new endpoint list and external labels while running (the
// operator's plan carries them): endpoints whose configuration (EndpointConfig::source) and
// labels are unchanged keep their queues untouched; changed ones restart from their durable
// cursor (same name, same WAL position); removed ones stop and release their WAL position;
// new ones start like at startup (from their cursor if one exists, else the WAL's start).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/http/client.h"
#include "common/labels.h"
#include "common/metrics/registry.h"
#include "scraper/remotewrite/config.h"
#include "scraper/remotewrite/queue_manager.h"

namespace shardwise::remotewrite {

struct RemoteWriterOptions {
  Labels external_labels;
  // HA replicas: added like an external label (e.g. {"__replica__", "0"}).
  std::optional<Label> replica_label;
  std::string cursor_dir;  // created if missing; empty: cursors are not persisted
  std::chrono::milliseconds cursor_sync_interval{1000};
  std::chrono::milliseconds reshard_interval{10000};
  // Reconfigure: how long a changed or removed endpoint may take to send what it has read.
  std::chrono::milliseconds reconfigure_flush_timeout{2000};
};

class RemoteWriter {
 public:
  RemoteWriter(std::vector<EndpointConfig> endpoints, RemoteWriterOptions options, WalSource& wal,
               http::Client& client);
  // For tests: endpoints with a transport of the caller's choosing.
  RemoteWriter(std::vector<std::pair<EndpointConfig, std::unique_ptr<Transport>>> endpoints,
               RemoteWriterOptions options, WalSource& wal);
  ~RemoteWriter();

  Status Start();
  // Flushes every endpoint concurrently; the first error, if any.
  Status Flush(std::chrono::steady_clock::time_point deadline);
  void Stop();

  // Adds a collector for shardwise_remote_write_* (per remote_name, url). Safe to keep
  // after this writer is destroyed: it then reports nothing.
  void RegisterMetrics(metrics::Registry& registry);

  // Safe to use until this writer is destroyed (queues that Reconfigure stops stay alive).
  std::vector<const QueueManager*> queues() const;
  // The encoded labels every queue shares (one block per series, not one per endpoint).
  const SeriesStore& series_store() const { return *store_; }

  // Call after Start(). On an error (a queue that cannot start) the other endpoints are
  // applied and the first error returned.
  Status Reconfigure(std::vector<EndpointConfig> endpoints, Labels external_labels);
  // How Reconfigure makes transports for new endpoints (default: HTTP through the client
  // given to the constructor). For tests.
  using TransportFactory = std::function<std::unique_ptr<Transport>(const EndpointConfig&)>;
  void SetTransportFactory(TransportFactory factory) { make_transport_ = std::move(factory); }

 private:
  struct Queues {
    std::mutex mu;
    std::vector<std::unique_ptr<QueueManager>> list;
  };
  std::unique_ptr<QueueManager> Make(EndpointConfig config, std::unique_ptr<Transport> transport);
  void Add(EndpointConfig config, std::unique_ptr<Transport> transport);

  RemoteWriterOptions options_;
  WalSource& wal_;
  TransportFactory make_transport_;
  std::shared_ptr<SeriesStore> store_ = std::make_shared<SeriesStore>();
  std::shared_ptr<Queues> queues_ = std::make_shared<Queues>();
  std::mutex reconfigure_mu_;                           // one Reconfigure at a time
  std::vector<std::unique_ptr<QueueManager>> retired_;  // stopped; queues() may point here
};

// Writes the metrics of `queues` (exposed for tests).
void WriteMetrics(const std::vector<const QueueManager*>& queues, metrics::Writer& w);
// Writes the shared label store's size (process-wide, no endpoint labels).
void WriteStoreMetrics(const SeriesStore& store, metrics::Writer& w);

}  // namespace shardwise::remotewrite
