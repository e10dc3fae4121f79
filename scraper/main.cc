// shardwise-scraper: scrapes Prometheus targets into an embedded TSDB and remote-writes
// everything it stores. Targets come from a Prometheus-style config file (static_configs,
// file_sd, http_sd) and/or from the Shardwise operator (--operator-url), which also hands
// targets over between shards without gaps.
//
// Shutdown (SIGTERM/SIGINT): stop taking plans, stop scraping, flush every remote-write
// queue (bounded by --remote-write.drain-timeout), persist cursors, exit 0 — which is how a
// shard drains before it is scaled away.
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "common/allocator.h"
#include "common/app/app.h"
#include "common/duration.h"
#include "common/http/client.h"
#include "common/log/log.h"
#include "scraper/operator_client/operator_mode.h"
#include "scraper/remotewrite/config.h"
#include "scraper/remotewrite/metadata_sender.h"
#include "scraper/remotewrite/remote_writer.h"
#include "scraper/remotewrite/tsdb_wal_source.h"
#include "scraper/scrape/config.h"
#include "scraper/scrape/scrape_manager.h"
#include "scraper/tsdb/api/handlers.h"
#include "scraper/tsdb/db.h"
#include "scraper/tsdb/metrics.h"
#include "scraper/ui/pages.h"

int main(int argc, char** argv) {
  using namespace shardwise;
  App app("shardwise-scraper",
          "Scrapes Prometheus targets into an embedded TSDB (WAL + head) and remote-writes "
          "them, standalone from a config file or as a shard of a Shardwise ScrapePool.",
          ":9091");
  std::string config_file;
  std::string data_dir = "data";
  tsdb::DBOptions dbo;
  dbo.retention = std::chrono::hours(2);
  dbo.wal_segment_size = 64 << 20;
  dbo.max_wal_bytes = uint64_t{4} << 30;
  std::string wal_fsync = "1s";
  std::string operator_url;
  std::string operator_token_file;
  std::string operator_ca_file;
  std::string replica_label;
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds report_interval{std::chrono::seconds(5)};
  size_t scrape_workers = 2;
  tsdb::api::QueryLimits query_limits;
  FlagSet& f = app.flags();
  f.String("config.file", &config_file,
           "Prometheus-style YAML: global (scrape defaults, external_labels), scrape_configs, "
           "remote_write. Optional with --operator-url.");
  f.String("storage.tsdb.path", &data_dir,
           "Directory of the embedded TSDB (WAL, checkpoints, "
           "remote-write cursors, the last operator plan).");
  f.Duration("storage.tsdb.retention.time", &dbo.retention, "How long samples stay in the head.");
  f.Size("storage.tsdb.wal-segment-size", &dbo.wal_segment_size, "WAL segment size in bytes.");
  f.Size("storage.tsdb.wal-max-size", &dbo.max_wal_bytes,
         "Cap on the WAL's bytes on disk: segments, checkpoint and the space reserved for the "
         "next checkpoint (0: none). Past it the oldest segments are deleted even if remote "
         "write has not sent them (counted in "
         "shardwise_tsdb_wal_segments_dropped_unacknowledged_total), so a dead receiver "
         "cannot fill the disk. A segment size above a quarter of the cap is lowered to it.");
  f.String("storage.tsdb.wal-fsync", &wal_fsync,
           "When the WAL is fsynced: \"batch\" (every scrape's commit) or a duration such as "
           "\"1s\" (at most that much committed data is lost on a machine crash).");
  f.Size("storage.tsdb.max-series", &dbo.max_series,
         "Refuse new series beyond this many (0: no limit).");
  f.String("operator-url", &operator_url,
           "The Shardwise operator's discovery endpoint. The scraper's identity comes from "
           "POD_NAME and POD_NAMESPACE.");
  f.String("operator.token-file", &operator_token_file,
           "File with the token sent to the operator as Authorization: Bearer: the projected "
           "ServiceAccount token with audience shardwise. Re-read when it changes (rotation).");
  f.String("operator.ca-file", &operator_ca_file,
           "PEM CA bundle that verifies the operator's HTTPS certificate (the CA ConfigMap the "
           "operator publishes). Empty: the system roots.");
  f.Duration("operator.report-interval", &report_interval,
             "How often the load report (also the heartbeat) goes to the operator. Keep it "
             "well below the operator's --heartbeat-timeout (20s).");
  f.String("remote-write.replica-label", &replica_label,
           "Add this label with the pod's replica index to everything sent (HA pairs).");
  f.Duration("remote-write.drain-timeout", &drain_timeout,
             "On shutdown, how long to keep sending what is still unsent.");
  f.Size("scrape.workers", &scrape_workers, "Threads that parse and store scrapes.");
  f.Size("query.max-queries", &query_limits.max_queries,
         "Remote read queries, or match[] selectors of /api/v1/series and labels, per request "
         "(422 beyond; 0: no limit).");
  f.Size("query.max-series", &query_limits.max_series,
         "Series one request may return, summed over a remote read's queries; also label names "
         "or values returned (422 beyond; 0: no limit).");
  f.Size("query.max-samples", &query_limits.max_samples,
         "Samples one remote read may return, summed over its queries (422 beyond; 0: no "
         "limit).");
  f.Size("query.max-bytes", &query_limits.max_bytes,
         "Bytes of one query API response before compression (422 beyond; 0: no limit).");
  if (auto code = app.Init(argc, argv)) return *code;

  scrape::Config config;
  if (!config_file.empty()) {
    auto loaded = scrape::LoadConfigFile(config_file);
    if (!loaded.ok()) {
      log::Error("cannot load config", {{"file", config_file}, {"err", loaded.status()}});
      return 1;
    }
    config = std::move(loaded).value();
  } else if (operator_url.empty()) {
    log::Error("nothing to scrape: give --config.file and/or --operator-url");
    return 2;
  }
  std::vector<remotewrite::EndpointConfig> endpoints;
  if (config.raw && config.raw["remote_write"]) {
    auto rw = remotewrite::ParseRemoteWriteConfig(config.raw["remote_write"]);
    if (!rw.ok()) {
      log::Error("invalid remote_write config", {{"file", config_file}, {"err", rw.status()}});
      return 1;
    }
    endpoints = std::move(rw).value();
  }

  if (wal_fsync == "batch") {
    dbo.fsync_policy = tsdb::FsyncPolicy::kEveryBatch;
  } else {
    dbo.fsync_policy = tsdb::FsyncPolicy::kInterval;
    auto d = ParseDuration(wal_fsync);
    if (!d.ok()) {
      log::Error("invalid --storage.tsdb.wal-fsync", {{"err", d.status()}});
      return 2;
    }
    dbo.fsync_interval = *d;
  }
  auto start = std::chrono::steady_clock::now();
  auto db_or = tsdb::DB::Open(data_dir, dbo);
  if (!db_or.ok()) {
    log::Error("cannot open TSDB", {{"dir", data_dir}, {"err", db_or.status()}});
    return 1;
  }
  tsdb::DB& db = **db_or;
  log::Info("TSDB opened",
            {{"dir", data_dir},
             {"seconds",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}});

  // Targets see which scraper pod scrapes them (in their access logs; the end-to-end tests
  // count each shard's scrapes by it): "shardwise/0.1.0 (shardwise-main-0-1)".
  http::Client::Options client_options;
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') {
    client_options.user_agent += std::string(" (") + pod + ")";
  }
  http::Client client(client_options);
  remotewrite::TsdbWalSource wal_source(db);
  remotewrite::RemoteWriterOptions rwo;
  rwo.external_labels = config.global.external_labels;
  rwo.cursor_dir = data_dir + "/remote-write";
  if (!replica_label.empty()) {
    const char* pod = std::getenv("POD_NAME");
    std::string replica = "0";
    if (pod != nullptr) {
      // shardwise-<pool>-<replica>-<shard>: the replica is the second number from the right.
      std::string p(pod);
      size_t last = p.rfind('-');
      size_t prev = last == std::string::npos ? std::string::npos : p.rfind('-', last - 1);
      if (prev != std::string::npos) replica = p.substr(prev + 1, last - prev - 1);
    }
    rwo.replica_label = Label{replica_label, replica};
  }
  remotewrite::RemoteWriter writer(endpoints, rwo, wal_source, client);
  if (auto s = writer.Start(); !s.ok()) {
    log::Error("cannot start remote write", {{"err", s}});
    return 1;
  }
  writer.RegisterMetrics(metrics::Registry::Default());
  tsdb::RegisterLabelPairMetrics(metrics::Registry::Default(), storage::LabelPairTable::Process());
  allocator::RegisterMetrics(metrics::Registry::Default());

  scrape::ScrapeManager::Options mo;
  mo.worker_threads = scrape_workers;
  scrape::ScrapeManager manager(mo, db, client);
  if (auto s = manager.ApplyConfig(config); !s.ok()) {
    log::Error("invalid scrape config", {{"err", s}});
    return 1;
  }

  // Metric metadata per endpoint (metadata_config), from every active target.
  std::mutex metadata_mu;
  std::vector<std::unique_ptr<remotewrite::MetadataSender>> metadata_senders;
  auto start_metadata_senders = [&](const std::vector<remotewrite::EndpointConfig>& eps) {
    std::lock_guard lock(metadata_mu);
    for (auto& sender : metadata_senders) sender->Stop();
    metadata_senders.clear();
    for (const auto& ep : eps) {
      if (!ep.metadata.send) continue;
      metadata_senders.push_back(std::make_unique<remotewrite::MetadataSender>(
          ep, std::make_unique<remotewrite::HttpTransport>(ep, client),
          [&manager] { return manager.MetadataList(); }));
      metadata_senders.back()->Start();
    }
  };
  start_metadata_senders(endpoints);

  std::unique_ptr<opclient::OperatorMode> operator_mode;
  if (!operator_url.empty()) {
    opclient::OperatorModeOptions oo;
    oo.operator_url = operator_url;
    oo.data_dir = data_dir;
    oo.report_interval = report_interval;
    oo.scrape_slots = static_cast<double>(scrape_workers);
    oo.base_config = config;
    if (!operator_token_file.empty()) {
      oo.http.authorization = http::Authorization{.credentials_file = operator_token_file};
    }
    oo.http.tls_config.ca_file = operator_ca_file;
    oo.FromEnvironment();
    // The slowest endpoint's shardwise_remote_write_lag_seconds (now minus its newest
    // acknowledged sample); 0 while no endpoint has had a sample acknowledged.
    oo.remote_write_lag_seconds = [&writer] {
      double lag = 0;
      for (const auto* q : writer.queues()) {
        auto st = q->Stats();
        if (st.lag_seconds) lag = std::max(lag, *st.lag_seconds);
      }
      return lag;
    };
    // ScrapePool changes to remoteWrite and externalLabels come with the plan: the queues
    // follow them without a restart (unchanged endpoints keep theirs, with their cursors).
    std::string applied_remote_write = "null";
    Labels applied_external_labels = config.global.external_labels;
    oo.on_plan_applied = [&, applied_remote_write,
                          applied_external_labels](const plan::ScrapePlan& p) mutable {
      if (!p.remote_write) return;
      std::string wanted = p.remote_write->dump();
      if (wanted == applied_remote_write && p.external_labels == applied_external_labels) return;
      auto eps = remotewrite::ParseRemoteWriteConfig(wanted);  // JSON is YAML
      if (!eps.ok()) {
        log::Error("the plan's remote_write is invalid; keeping the current endpoints",
                   {{"err", eps.status()}});
        return;
      }
      if (Status s = writer.Reconfigure(*eps, p.external_labels); !s.ok()) {
        log::Error("remote write reconfigured with errors", {{"err", s}});
      }
      start_metadata_senders(*eps);
      applied_remote_write = std::move(wanted);
      applied_external_labels = p.external_labels;
      log::Info("remote write follows the plan", {{"endpoints", eps->size()}});
    };
    operator_mode = std::make_unique<opclient::OperatorMode>(oo, manager, client);
    if (auto s = operator_mode->Start(); !s.ok()) {
      log::Error("cannot start operator mode", {{"err", s}});
      return 1;
    }
  }

  tsdb::api::RegisterHttpHandlers(app.server(), db, query_limits);
  scraper_ui::RegisterPages(app.server(), db.head());  // /targets, /tsdb-status
  app.AddReadinessDetail([&db] { return db.wal_health().ToString(); });
  app.server().HandleExact("/api/v1/targets",
                           http::Methods({"GET", "HEAD"}, http::Simple([&](const http::Request&) {
                                           return http::Response::Json(200, manager.TargetsJson());
                                         })));
  if (auto s = app.StartServer(); !s.ok()) {
    log::Error("cannot start HTTP server", {{"err", s}});
    return 1;
  }
  app.SetReady(true);
  log::Info("scraping", {{"jobs", config.scrape_configs.size()},
                         {"remote_write_endpoints", endpoints.size()},
                         {"operator", operator_url.empty() ? "-" : operator_url}});

  app.WaitForShutdown();
  if (operator_mode) operator_mode->Stop();
  {
    std::lock_guard lock(metadata_mu);
    for (auto& sender : metadata_senders) sender->Stop();
  }
  manager.Stop();
  auto drain_deadline = std::chrono::steady_clock::now() + drain_timeout;
  if (auto s = writer.Flush(drain_deadline); !s.ok()) {
    log::Warn("remote write not fully drained at shutdown", {{"err", s}});
  }
  writer.Stop();
  app.server().Stop();
  log::Info("stopped");
  return 0;
}
