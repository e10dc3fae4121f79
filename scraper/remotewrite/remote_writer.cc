#include "scraper/remotewrite/remote_writer.h"

#include <filesystem>
#include <future>
#include <map>
#include <set>

#include "common/log/log.h"

namespace shardwise::remotewrite {

RemoteWriter::RemoteWriter(std::vector<EndpointConfig> endpoints, RemoteWriterOptions options,
                           WalSource& wal, http::Client& client)
    : options_(std::move(options)), wal_(wal) {
  make_transport_ = [&client](const EndpointConfig& ep) {
    return std::make_unique<HttpTransport>(ep, client);
  };
  for (auto& ep : endpoints) {
    auto transport = std::make_unique<HttpTransport>(ep, client);
    Add(std::move(ep), std::move(transport));
  }
}

RemoteWriter::RemoteWriter(
    std::vector<std::pair<EndpointConfig, std::unique_ptr<Transport>>> endpoints,
    RemoteWriterOptions options, WalSource& wal)
    : options_(std::move(options)), wal_(wal) {
  for (auto& [ep, transport] : endpoints) Add(std::move(ep), std::move(transport));
}

RemoteWriter::~RemoteWriter() {
  Stop();
  std::lock_guard lock(queues_->mu);
  queues_->list.clear();
}

std::unique_ptr<QueueManager> RemoteWriter::Make(EndpointConfig config,
                                                 std::unique_ptr<Transport> transport) {
  QueueOptions q;
  q.endpoint = std::move(config);
  LabelsBuilder external(options_.external_labels);
  if (options_.replica_label)
    external.Set(options_.replica_label->name, options_.replica_label->value);
  q.external_labels = external.Build();
  q.cursor_dir = options_.cursor_dir;
  q.cursor_sync_interval = options_.cursor_sync_interval;
  q.reshard_interval = options_.reshard_interval;
  q.series_store = store_;
  return std::make_unique<QueueManager>(std::move(q), wal_, std::move(transport));
}

void RemoteWriter::Add(EndpointConfig config, std::unique_ptr<Transport> transport) {
  auto queue = Make(std::move(config), std::move(transport));
  std::lock_guard lock(queues_->mu);
  queues_->list.push_back(std::move(queue));
}

Status RemoteWriter::Reconfigure(std::vector<EndpointConfig> endpoints, Labels external_labels) {
  std::lock_guard reconfiguring(reconfigure_mu_);
  const bool labels_changed = external_labels != options_.external_labels;
  options_.external_labels = std::move(external_labels);
  std::map<std::string, const EndpointConfig*> wanted;
  for (const auto& ep : endpoints) wanted[ep.name] = &ep;

  // Split the running queues into kept and stopping, without holding the list's lock while
  // queues stop (the metrics collector takes it).
  std::vector<std::unique_ptr<QueueManager>> kept, stopping;
  std::set<std::string> running;
  {
    std::lock_guard lock(queues_->mu);
    for (auto& q : queues_->list) {
      auto it = wanted.find(q->name());
      bool same = it != wanted.end() && !labels_changed && it->second->source == q->source();
      if (same) running.insert(q->name());
      (same ? kept : stopping).push_back(std::move(q));
    }
    queues_->list = std::move(kept);
  }
  for (auto& q : stopping) {
    // What is already read goes out first (briefly: a dead receiver must not hold up the
    // others); Stop persists the cursor of what the receiver acknowledged, so a queue
    // restarted under the same name resumes there. A removed endpoint lets the WAL go.
    (void)q->Flush(std::chrono::steady_clock::now() + options_.reconfigure_flush_timeout);
    q->Stop();
    const bool removed = !wanted.count(q->name());
    log::Info(removed ? "remote write endpoint removed" : "remote write endpoint reconfigured",
              {{"remote_name", q->name()}, {"url", q->url()}});
    if (removed) wal_.Release(q->ConsumerName());
    retired_.push_back(std::move(q));
  }
  Status first = Status::OK();
  for (auto& ep : endpoints) {
    if (running.count(ep.name)) continue;
    auto transport = make_transport_(ep);
    auto queue = Make(std::move(ep), std::move(transport));
    Status st = queue->Start();
    if (!st.ok()) {
      if (first.ok()) first = st.WithContext("remote write " + queue->name());
      retired_.push_back(std::move(queue));
      continue;
    }
    log::Info("remote write endpoint started", {{"remote_name", queue->name()}});
    std::lock_guard lock(queues_->mu);
    queues_->list.push_back(std::move(queue));
  }
  return first;
}

Status RemoteWriter::Start() {
  if (!options_.cursor_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options_.cursor_dir, ec);
    if (ec) return Status::IOError("create " + options_.cursor_dir + ": " + ec.message());
  }
  std::lock_guard lock(queues_->mu);
  for (auto& q : queues_->list) {
    Status st = q->Start();
    if (!st.ok()) return st.WithContext("remote write " + q->name());
  }
  return Status::OK();
}

Status RemoteWriter::Flush(std::chrono::steady_clock::time_point deadline) {
  std::lock_guard lock(queues_->mu);
  std::vector<std::future<Status>> results;
  for (auto& q : queues_->list) {
    results.push_back(
        std::async(std::launch::async, [&q, deadline] { return q->Flush(deadline); }));
  }
  Status first = Status::OK();
  for (auto& r : results) {
    Status st = r.get();
    if (first.ok() && !st.ok()) first = st;
  }
  return first;
}

void RemoteWriter::Stop() {
  // Concurrently: each queue may wait up to its WAL poll interval for its reader.
  std::lock_guard lock(queues_->mu);
  std::vector<std::future<void>> done;
  for (auto& q : queues_->list) {
    done.push_back(std::async(std::launch::async, [&q] { q->Stop(); }));
  }
  for (auto& d : done) d.get();
}

std::vector<const QueueManager*> RemoteWriter::queues() const {
  std::lock_guard lock(queues_->mu);
  std::vector<const QueueManager*> out;
  for (auto& q : queues_->list) out.push_back(q.get());
  return out;
}

void RemoteWriter::RegisterMetrics(metrics::Registry& registry) {
  std::weak_ptr<Queues> weak = queues_;
  std::weak_ptr<SeriesStore> weak_store = store_;
  registry.AddCollector([weak, weak_store](metrics::Writer& w) {
    std::shared_ptr<Queues> queues = weak.lock();
    if (!queues) return;
    {
      std::lock_guard lock(queues->mu);
      std::vector<const QueueManager*> list;
      for (auto& q : queues->list) list.push_back(q.get());
      WriteMetrics(list, w);
    }
    if (std::shared_ptr<SeriesStore> store = weak_store.lock()) WriteStoreMetrics(*store, w);
  });
}

void WriteStoreMetrics(const SeriesStore& store, metrics::Writer& w) {
  const SeriesStore::Usage u = store.usage();
  w.Family("shardwise_remote_write_label_blocks",
           "Label sets held for remote write (blocks of label pair ids), shared by every "
           "endpoint (one per series per distinct labelling).",
           "gauge");
  w.Sample("shardwise_remote_write_label_blocks", {}, static_cast<double>(u.blocks));
  w.Family("shardwise_remote_write_label_bytes",
           "Bytes in those label sets (the pairs' strings are the process's, shared with the "
           "TSDB head).",
           "gauge");
  w.Sample("shardwise_remote_write_label_bytes", {}, static_cast<double>(u.bytes));
}

void WriteMetrics(const std::vector<const QueueManager*>& queues, metrics::Writer& w) {
  if (queues.empty()) return;
  std::vector<QueueStats> stats;
  for (const QueueManager* q : queues) stats.push_back(q->Stats());
  struct Def {
    const char* name;
    const char* help;
    const char* type;
    std::optional<double> (*get)(const QueueStats&);
  };
  static const Def kDefs[] = {
      {"shardwise_remote_write_samples_in_total",
       "Samples read from the WAL for this endpoint (after the resume cursor).", "counter",
       [](const QueueStats& s) -> std::optional<double> {
         return static_cast<double>(s.samples_in);
       }},
      {"shardwise_remote_write_samples_sent_total", "Samples delivered (2xx).", "counter",
       [](const QueueStats& s) -> std::optional<double> {
         return static_cast<double>(s.samples_sent);
       }},
      {"shardwise_remote_write_samples_failed_total",
       "Samples dropped because the receiver rejected them with a non-retryable status.", "counter",
       [](const QueueStats& s) -> std::optional<double> {
         return static_cast<double>(s.samples_failed);
       }},
      {"shardwise_remote_write_samples_retried_total",
       "Samples resent after a retryable failure (5xx, 429, network).", "counter",
       [](const QueueStats& s) -> std::optional<double> {
         return static_cast<double>(s.samples_retried);
       }},
      {"shardwise_remote_write_samples_dropped_total",
       "Samples never sent: series unknown or removed by write relabeling.", "counter",
       [](const QueueStats& s) -> std::optional<double> {
         return static_cast<double>(s.samples_dropped);
       }},
      {"shardwise_remote_write_wal_segments_skipped_total",
       "WAL segments deleted by the size cap before this endpoint sent them (data lost).",
       "counter",
       [](const QueueStats& s) -> std::optional<double> {
         return static_cast<double>(s.wal_segments_skipped);
       }},
      {"shardwise_remote_write_bytes_sent_total", "Compressed request bytes delivered.", "counter",
       [](const QueueStats& s) -> std::optional<double> {
         return static_cast<double>(s.bytes_sent);
       }},
      {"shardwise_remote_write_pending_samples", "Samples queued or in flight.", "gauge",
       [](const QueueStats& s) -> std::optional<double> {
         return static_cast<double>(s.pending_samples);
       }},
      {"shardwise_remote_write_highest_timestamp_read_seconds",
       "Newest sample timestamp read from the WAL.", "gauge",
       [](const QueueStats& s) -> std::optional<double> {
         return static_cast<double>(s.highest_read_timestamp_ms) / 1e3;
       }},
      {"shardwise_remote_write_highest_timestamp_sent_seconds",
       "Newest sample timestamp delivered.", "gauge",
       [](const QueueStats& s) -> std::optional<double> {
         return static_cast<double>(s.highest_sent_timestamp_ms) / 1e3;
       }},
      {"shardwise_remote_write_lag_seconds",
       "Now minus the timestamp of the newest sample the receiver acknowledged; absent until "
       "the first is.",
       "gauge", [](const QueueStats& s) { return s.lag_seconds; }},
      {"shardwise_remote_write_requests_cancelled_total",
       "Requests in flight aborted at shutdown (the drain deadline passed).", "counter",
       [](const QueueStats& s) -> std::optional<double> {
         return static_cast<double>(s.requests_cancelled);
       }},
      {"shardwise_remote_write_shards", "Current number of sending shards.", "gauge",
       [](const QueueStats& s) -> std::optional<double> {
         return static_cast<double>(s.current_shards);
       }},
      {"shardwise_remote_write_shards_desired", "Shards the queue would like to run.", "gauge",
       [](const QueueStats& s) -> std::optional<double> {
         return static_cast<double>(s.desired_shards);
       }},
      {"shardwise_remote_write_cursor_segment", "WAL segment of the acknowledged cursor.", "gauge",
       [](const QueueStats& s) -> std::optional<double> {
         return static_cast<double>(s.cursor.segment);
       }},
      {"shardwise_remote_write_cursor_offset", "Offset in that segment of the cursor.", "gauge",
       [](const QueueStats& s) -> std::optional<double> {
         return static_cast<double>(s.cursor.offset);
       }},
      {"shardwise_remote_write_series", "Series known to this endpoint's WAL reader.", "gauge",
       [](const QueueStats& s) -> std::optional<double> { return static_cast<double>(s.series); }},
  };
  for (const Def& d : kDefs) {
    w.Family(d.name, d.help, d.type);
    for (size_t i = 0; i < queues.size(); ++i) {
      std::optional<double> v = d.get(stats[i]);
      if (!v) continue;
      w.Sample(d.name, {{"remote_name", queues[i]->name()}, {"url", queues[i]->url()}}, *v);
    }
  }
}

}  // namespace shardwise::remotewrite
