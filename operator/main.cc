// shardwise-operator: discovers scrape targets from ServiceMonitors/PodMonitors, assigns
// them to scraper shards, serves each scraper its plan and runs the scraper fleet of every
// ScrapePool. Several replicas may run; only the Lease holder reconciles and serves plans.
// Every replica is Ready once its caches synced; the leader labels its own pod
// shardwise.io/leader=true and the Service selects that label, so scrapers and the
// aggregation layer reach the leader (kube/leader_pod_label.h).
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/app/app.h"
#include "common/log/log.h"
#include "operator/certs/serving_certs.h"
#include "operator/custommetrics/api.h"
#include "operator/custommetrics/external_api.h"
#include "operator/custommetrics/fleet_provider.h"
#include "operator/custommetrics/object_lister.h"
#include "operator/custommetrics/plan_directory.h"
#include "operator/custommetrics/rules_file.h"
#include "operator/custommetrics/server.h"
#include "operator/custommetrics/workload_provider.h"
#include "operator/discovery/cache_trim.h"
#include "operator/endpoint/discovery_endpoint.h"
#include "operator/endpoint/scraper_auth.h"
#include "operator/endpoint/token_review.h"
#include "operator/kube/client.h"
#include "operator/kube/config.h"
#include "operator/kube/event_recorder.h"
#include "operator/kube/informer.h"
#include "operator/kube/leader_election.h"
#include "operator/kube/leader_pod_label.h"
#include "operator/pool/owned_objects.h"
#include "operator/pool/pool_controller.h"
#include "operator/pool/pool_snapshot.h"
#include "operator/ui/ui_api.h"

namespace {

using namespace shardwise;

const kube::GroupVersionResource kHpas{"autoscaling", "v2", "horizontalpodautoscalers"};

struct Watched {
  kube::GroupVersionResource gvr;
  bool namespaced_scope = true;  // watch only --namespace when set
  std::unique_ptr<kube::Informer> informer;
};

}  // namespace

int main(int argc, char** argv) {
  App app("shardwise-operator",
          "Kubernetes operator and adaptive scrape scheduler: discovers targets, spreads them "
          "over scraper shards and scales the fleet by load.",
          ":8080");
  std::string kubeconfig;
  std::string watch_namespace;
  std::string operator_url;
  std::string scraper_image = "shardwise/scraper:" + std::string(Version());
  bool leader_elect = true;
  std::string lease_namespace = "default";
  std::string identity;
  std::chrono::milliseconds resync{std::chrono::seconds(5)};
  std::chrono::milliseconds heartbeat_timeout{std::chrono::seconds(20)};
  std::chrono::milliseconds rebuild_wait{std::chrono::seconds(15)};
  std::chrono::milliseconds lease_duration{std::chrono::seconds(15)};
  std::string operator_namespace;
  std::string service_name = "shardwise-operator";
  std::string tls_cert_dir;
  std::string tls_secret = certs::kDefaultSecretName;
  bool tls_user_provided = false;
  std::chrono::milliseconds tls_leaf_validity{std::chrono::hours(24 * 90)};
  std::string custom_metrics_address = ":6443";
  std::chrono::milliseconds authz_cache_ttl{std::chrono::seconds(10)};
  std::string custom_metrics_config;
  std::chrono::milliseconds custom_metrics_relist{std::chrono::seconds(30)};
  std::chrono::milliseconds custom_metrics_query_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds custom_metrics_cache_ttl{std::chrono::seconds(15)};
  std::string discovery_auth = "serviceaccount-token";
  std::string operator_ca_config_map;
  bool web_ui = true;
  FlagSet& f = app.flags();
  f.String(
      "kubeconfig", &kubeconfig,
      "Path to a kubeconfig. Empty: in-cluster config, else $KUBECONFIG, else ~/.kube/config.");
  f.String("namespace", &watch_namespace, "Only watch this namespace (default: all namespaces).");
  f.String("operator-url", &operator_url,
           "URL at which scrapers reach this operator's discovery endpoint (default: "
           "https://<--service-name>.<--operator-namespace>.svc:<port of --web.listen-address>). "
           "With https (the default) the endpoint, /metrics and the probes are served over TLS "
           "with the operator's serving certificate (--tls.*; or --web.tls-cert-file/"
           "--web.tls-key-file), reloaded when it rotates; an http:// URL serves plain HTTP.");
  f.String("scraper.image", &scraper_image, "Container image of the scraper pods.");
  f.Bool("leader-elect", &leader_elect,
         "Elect a leader through a Lease so several replicas can run.");
  f.String("leader-election.namespace", &lease_namespace,
           "Namespace of the leader-election Lease.");
  f.String("leader-election.identity", &identity,
           "This replica's identity (default: POD_NAME or hostname).");
  f.Duration("leader-election.lease-duration", &lease_duration, "Leader-election lease duration.");
  f.Duration("resync", &resync, "How often every pool is reconciled even without changes.");
  f.String("discovery.authentication", &discovery_auth,
           "How the discovery endpoint authenticates callers: \"serviceaccount-token\" (a "
           "projected token with audience shardwise, verified by TokenReview; a scraper gets "
           "only its own plan and reports only its own load) or \"none\" (anyone who reaches "
           "the port; only for local development, see docs/security.md).");
  f.String("scraper.operator-ca-configmap", &operator_ca_config_map,
           "ConfigMap (key ca.crt, in each pool's namespace) with the CA of this operator's "
           "HTTPS certificate, mounted into scraper pods for --operator.ca-file (default with an "
           "https --operator-url: the operator's own, shardwise-ca).");
  f.Duration("heartbeat-timeout", &heartbeat_timeout,
             "A scraper that sent no load report for this long is down; a shard is Lost when "
             "all its scrapers are (pod status marks them down at once). With the scrapers' "
             "5s report interval, 20s tolerates three lost reports.");
  f.Duration("rebuild-wait", &rebuild_wait,
             "After a start or leader change, how long to wait for the scrapers' reports "
             "before assigning targets (placement is rebuilt from them).");
  f.String("operator-namespace", &operator_namespace,
           "Namespace the operator runs in: its TLS Secret and CA ConfigMap live there "
           "(default: $POD_NAMESPACE, else the kubeconfig's namespace).");
  f.String("service-name", &service_name,
           "Name of the operator's Service; its DNS names are the serving certificate's SANs.");
  f.String("tls.cert-dir", &tls_cert_dir,
           "Directory the serving certificate, key and CA bundle are written to "
           "(default: a directory of this process under $TMPDIR).");
  f.String("tls.secret", &tls_secret,
           "Secret holding the serving certificate (tls.crt, tls.key, ca.crt). Operator-managed "
           "unless --tls.user-provided.");
  f.Bool("tls.user-provided", &tls_user_provided,
         "The --tls.secret Secret is provided by the user (e.g. cert-manager): only read it.");
  f.Duration("tls.leaf-validity", &tls_leaf_validity,
             "Lifetime of operator-issued serving certificates (renewed at two thirds).");
  f.String("custom-metrics.listen-address", &custom_metrics_address,
           "HTTPS address of the custom metrics API (custom.metrics.k8s.io v1beta2/v1beta1, "
           "for HPAs through the aggregation layer); empty turns it off.");
  f.Bool("web.ui", &web_ui,
         "Serve the read-only web UI at / and its JSON at /api/v1/ui/ on the "
         "--web.listen-address port (pools, shard map, targets, handoffs, monitors, "
         "autoscaler history; addresses and labels, never credentials; docs/security.md).");
  f.Duration("custom-metrics.authorization-cache-ttl", &authz_cache_ttl,
             "How long a SubjectAccessReview decision is reused.");
  f.String("custom-metrics.config", &custom_metrics_config,
           "prometheus-adapter rules file (rules, externalRules; the adapter's format, unchanged) "
           "for any workload's metrics, evaluated over the scrapers' TSDBs and served as "
           "custom.metrics.k8s.io and external.metrics.k8s.io (docs/custom-metrics.md). Empty: "
           "only the fleet's own metrics. Re-read before every relist: changed rules (a "
           "ConfigMap update) are served without a restart; a file that does not load keeps "
           "the rules in use.");
  f.Duration("custom-metrics.relist-interval", &custom_metrics_relist,
             "How often the rules' seriesQuery lists the metrics that exist (the adapter's "
             "--metrics-relist-interval).");
  f.Duration("custom-metrics.query-timeout", &custom_metrics_query_timeout,
             "Deadline for the shards' answers to one metrics request; a shard that does not "
             "answer in time fails the metrics it holds.");
  f.Duration("custom-metrics.cache-ttl", &custom_metrics_cache_ttl,
             "How long an evaluated metricsQuery is reused (an HPA sync period).");
  if (auto code = app.Init(argc, argv)) return *code;

  // The workload rules are read before anything starts: a broken file is a clear error at
  // once, not a metric that never shows up. Later changes are followed while running.
  std::optional<custommetrics::AdapterConfig> adapter_config;
  std::optional<custommetrics::RulesFile> rules_file;
  if (!custom_metrics_config.empty()) {
    rules_file.emplace(custom_metrics_config);
    auto loaded = rules_file->Load();
    if (!loaded.ok()) {
      log::Error("cannot load --custom-metrics.config",
                 {{"file", custom_metrics_config}, {"err", loaded.status()}});
      return 2;
    }
    for (const auto& w : loaded->warnings) log::Warn(w, {{"file", custom_metrics_config}});
    log::Info("custom metrics rules loaded", {{"file", custom_metrics_config},
                                              {"rules", loaded->rules.size()},
                                              {"external_rules", loaded->external_rules.size()}});
    adapter_config = std::move(loaded).value();
  }

  auto config = kubeconfig.empty() ? kube::DefaultConfig() : kube::LoadKubeconfig(kubeconfig);
  if (!config.ok()) {
    log::Error("cannot load Kubernetes client configuration", {{"err", config.status()}});
    return 1;
  }
  auto client_or = kube::Client::Connect(*config);
  if (!client_or.ok()) {
    log::Error("cannot create Kubernetes client", {{"err", client_or.status()}});
    return 1;
  }
  kube::Client& client = **client_or;
  if (identity.empty()) {
    const char* pod = std::getenv("POD_NAME");
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    identity = pod ? pod : std::string(host) + "-" + std::to_string(getpid());
  }
  // In a pod (POD_NAME and POD_NAMESPACE from the downward API) the leader marks its own
  // pod. Started first: a restarted container keeps the pod's labels, so the label of a
  // former leader goes before anything can route to this replica.
  std::unique_ptr<kube::LeaderPodLabel> leader_label;
  {
    const char* pod = std::getenv("POD_NAME");
    const char* pod_ns = std::getenv("POD_NAMESPACE");
    if (leader_elect && pod && *pod && pod_ns && *pod_ns) {
      leader_label = std::make_unique<kube::LeaderPodLabel>(
          &client, kube::LeaderPodLabel::Options{.ns = pod_ns, .pod = pod});
      leader_label->Start();
    }
  }

  if (tls_cert_dir.empty()) {
    tls_cert_dir = (std::filesystem::temp_directory_path() /
                    ("shardwise-operator-tls-" + std::to_string(getpid())))
                       .string();
  }
  if (operator_namespace.empty()) {
    const char* ns = std::getenv("POD_NAMESPACE");
    operator_namespace = ns && *ns ? ns : client.DefaultNamespace();
  }
  // The serving certificates: reconciled now and then in the background, well before the
  // leaf is due (custom metrics API, discovery endpoint HTTPS, CA for the scrapers).
  certs::ServingCertificates::Options co;
  co.ns = operator_namespace;
  co.secret_name = tls_secret;
  co.user_provided = tls_user_provided;
  co.dns_names = certs::ServiceDnsNames(service_name, operator_namespace);
  co.cert_dir = tls_cert_dir;
  co.leaf_validity = std::chrono::duration_cast<std::chrono::seconds>(tls_leaf_validity);
  co.api_services = {"v1beta2.custom.metrics.k8s.io", "v1beta1.custom.metrics.k8s.io",
                     "v1beta1.external.metrics.k8s.io"};
  certs::ServingCertificates serving_certs(client, co);
  std::vector<std::function<void()>> on_certs_changed;  // listeners reload their TLS
  std::mutex tls_mu;
  std::condition_variable tls_cv;
  bool tls_stop = false;
  auto reconcile_certs = [&]() -> bool {
    bool changed = false;
    Status s = serving_certs.Reconcile(&changed);
    if (!s.ok()) {
      log::Warn("serving certificates not reconciled; retrying", {{"err", s}});
      return false;
    }
    if (changed) {
      log::Info("serving certificates written", {{"dir", tls_cert_dir}});
      for (auto& fn : on_certs_changed) fn();
    }
    return true;
  };
  bool certs_ready = reconcile_certs();

  // HTTPS unless scrapers are explicitly told a plain http:// URL. With --web.tls-cert-file the
  // user's files are served (App re-reads them every minute); otherwise the managed (or
  // user-provided Secret's) certificate, reloaded whenever Reconcile() rewrote it.
  const bool serve_tls = !operator_url.starts_with("http://");
  if (serve_tls && !app.server().tls()) {
    app.server().UseTls(serving_certs.cert_file(), serving_certs.key_file());
    // The listener cannot start without its certificate (the API may not answer yet).
    while (!certs_ready) {
      if (app.WaitForShutdown(std::chrono::seconds(5))) return 0;
      certs_ready = reconcile_certs();
    }
    on_certs_changed.push_back([&app] {
      Status s = app.server().ReloadTls();
      if (s.ok()) {
        log::Info("discovery endpoint serves the renewed certificate");
      } else {
        log::Error("discovery endpoint keeps its previous certificate", {{"err", s}});
      }
    });
  } else if (!serve_tls) {
    log::Warn(
        "the discovery endpoint serves plain HTTP (an http:// --operator-url): plans carry "
        "targets' credentials unencrypted over the pod network");
  }

  endpoint::PlanStore plans;
  endpoint::ReportStore reports;
  endpoint::DiscoveryEndpoint discovery(plans, reports);
  std::unique_ptr<endpoint::TokenReviewer> reviewer;
  std::unique_ptr<endpoint::ScraperAuth> scraper_auth;
  if (discovery_auth == "serviceaccount-token") {
    reviewer = std::make_unique<endpoint::TokenReviewer>(
        endpoint::TokenReviewer::KubernetesReview(&client, pool::kTokenAudience),
        endpoint::TokenReviewer::Options{});
    scraper_auth = std::make_unique<endpoint::ScraperAuth>(*reviewer);
    discovery.SetAuthorizer([&](const http::Request& r, const endpoint::Access& a) {
      return scraper_auth->Check(r, a);
    });
  } else if (discovery_auth == "none") {
    log::Warn(
        "the discovery endpoint authenticates nobody: anyone reaching it reads every "
        "scraper's plan, targets' credentials included (--discovery.authentication=none)");
  } else {
    log::Error("--discovery.authentication must be serviceaccount-token or none",
               {{"value", discovery_auth}});
    return 2;
  }
  discovery.Register(app.server());
  pool::SnapshotStore snapshots;  // the controller's state for the web UI
  if (web_ui) ui::Register(app.server(), snapshots);
  if (auto s = app.StartServer(); !s.ok()) {
    log::Error("cannot start HTTP server", {{"err", s}});
    return 1;
  }
  if (operator_url.empty()) {
    // A name the serving certificate covers (certs::ServiceDnsNames).
    operator_url = "https://" + service_name + "." + operator_namespace +
                   ".svc:" + std::to_string(app.server().port());
  }

  std::vector<Watched> watched;
  for (const auto& gvr :
       {kube::resources::kScrapePools, kube::resources::kServiceMonitors,
        kube::resources::kPodMonitors, kube::resources::kNamespaces, kube::resources::kServices,
        kube::resources::kEndpointSlices, kube::resources::kEndpoints, kube::resources::kPods,
        kube::resources::kSecrets, kube::resources::kConfigMaps, kHpas}) {
    bool cluster_scoped = gvr == kube::resources::kNamespaces;
    std::string ns = cluster_scoped ? "" : watch_namespace;
    kube::Informer::Options io;
    io.name = gvr.ToString();
    io.transform = [](kube::Object& o) { opdiscovery::TrimForDiscovery(o); };
    auto lw = std::make_shared<kube::ClientListerWatcher>(&client, gvr, ns);
    watched.push_back({gvr, !cluster_scoped, std::make_unique<kube::Informer>(lw, io)});
  }
  auto store = [&](const kube::GroupVersionResource& gvr) {
    for (auto& w : watched) {
      if (w.gvr == gvr) return &w.informer->store();
    }
    return static_cast<const kube::Store*>(nullptr);
  };
  pool::Caches caches{
      store(kube::resources::kScrapePools), store(kube::resources::kServiceMonitors),
      store(kube::resources::kPodMonitors), store(kube::resources::kNamespaces),
      store(kube::resources::kServices),    store(kube::resources::kEndpointSlices),
      store(kube::resources::kPods),        store(kube::resources::kSecrets),
      store(kube::resources::kConfigMaps),  store(kHpas),
      store(kube::resources::kEndpoints)};
  kube::EventRecorder events(&client, {});
  pool::PoolController::Options po;
  po.settings.operator_url = operator_url;
  po.settings.default_image = scraper_image;
  // Scrapers of an HTTPS operator verify it with the CA the operator publishes in every pool
  // namespace (certs::BuildCaConfigMap), unless told otherwise.
  if (operator_ca_config_map.empty() && operator_url.starts_with("https://")) {
    operator_ca_config_map = certs::kCaConfigMapName;
  }
  po.settings.operator_ca_config_map = operator_ca_config_map;
  po.resync = resync;
  po.heartbeat_timeout = heartbeat_timeout;
  po.rebuild_wait = rebuild_wait;
  po.ca_bundle = [&serving_certs] { return serving_certs.ca_bundle(); };
  po.snapshots = &snapshots;
  pool::PoolController controller(client, caches, plans, reports, events, po);

  // Handlers only enqueue. A pool change enqueues that pool; anything else may affect any
  // pool's targets, so it enqueues all of them (there are few pools).
  for (auto& w : watched) {
    kube::EventHandler h;
    if (w.gvr == kube::resources::kScrapePools) {
      h.on_add = [&](const kube::Object& o) { controller.Enqueue(kube::KeyOf(o)); };
      h.on_update = [&](const kube::Object&, const kube::Object& o) {
        controller.Enqueue(kube::KeyOf(o));
      };
      h.on_delete = [&](const kube::Object& o) { controller.Enqueue(kube::KeyOf(o)); };
    } else {
      h.on_add = [&](const kube::Object&) { controller.EnqueueAll(); };
      h.on_update = [&](const kube::Object&, const kube::Object&) { controller.EnqueueAll(); };
      h.on_delete = [&](const kube::Object&) { controller.EnqueueAll(); };
    }
    w.informer->AddEventHandler(std::move(h));
    w.informer->Start();
  }
  reports.OnReport([&](const endpoint::ShardKey& k) { controller.Enqueue(k.ns + "/" + k.pool); });

  std::atomic<bool> controller_started{false};
  // client-go's leader-election Events: reason LeaderElection on the Lease.
  const kube::ObjectReference lease_ref{.api_version = "coordination.k8s.io/v1",
                                        .kind = "Lease",
                                        .ns = lease_namespace,
                                        .name = "shardwise-operator"};
  auto start_leading = [&] {
    log::Info("leading: reconciling pools", {{"identity", identity}});
    if (!controller_started.exchange(true)) controller.Start();
    controller.EnqueueAll();
    if (leader_label) leader_label->Set(true);
    if (leader_elect)
      events.Record(lease_ref, "Normal", "LeaderElection", identity + " became leader");
  };
  // Cache-sync gate: nothing reconciles (and /readyz stays false) until every informer has
  // listed its resource. Reconciling from a partial cache would publish plans missing
  // targets, or empty ones. Once synced the replica can serve: Ready, leader or not.
  std::atomic<bool> stopping{false};
  std::unique_ptr<kube::LeaderElector> elector;
  auto start = [&] {
    auto since = std::chrono::steady_clock::now();
    auto last_log = since;
    for (auto& w : watched) {
      while (!w.informer->WaitForSync(std::chrono::milliseconds(500))) {
        if (stopping) return;
        if (std::chrono::steady_clock::now() - last_log >= std::chrono::seconds(30)) {
          log::Warn("waiting for the informer cache to sync",
                    {{"resource", w.gvr.ToString()},
                     {"seconds", std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::steady_clock::now() - since)
                                     .count()}});
          last_log = std::chrono::steady_clock::now();
        }
      }
    }
    log::Info("informer caches synced");
    app.SetReady(true);
    if (!leader_elect) {
      start_leading();
      return;
    }
    kube::LeaderElector::Config lc;
    lc.lease_namespace = lease_namespace;
    lc.lease_name = "shardwise-operator";
    lc.identity = identity;
    lc.lease_duration = lease_duration;
    lc.renew_deadline = lease_duration * 2 / 3;
    lc.retry_period = lease_duration * 2 / 15;
    kube::LeaderElector::Callbacks cb;
    cb.on_started_leading = start_leading;
    cb.on_stopped_leading = [&] {
      // Stop serving plans at once: another replica may already lead. Exiting lets the
      // Deployment restart us as a clean candidate, as controller-runtime does.
      log::Warn("lost leadership; exiting", {{"identity", identity}});
      if (leader_label) leader_label->Set(false);
      events.Record(lease_ref, "Normal", "LeaderElection", identity + " stopped leading");
      app.SetReady(false);
      App::RequestShutdown();
    };
    cb.on_new_leader = [&](const std::string& who) {
      log::Info("leader observed", {{"leader", who}});
    };
    elector = std::make_unique<kube::LeaderElector>(&client, lc, cb);
    elector->Start();
  };
  std::thread starter(start);

  // The custom metrics API: fleet metrics from the load reports, front-proxy authentication
  // configured from kube-system/extension-apiserver-authentication, SubjectAccessReviews.
  custommetrics::FleetMetricsProvider fleet_metrics(store(kube::resources::kScrapePools),
                                                    store(kube::resources::kPods), &reports,
                                                    heartbeat_timeout);
  custommetrics::RequestHeaderAuthenticator request_header;
  custommetrics::SubjectAccessReviewAuthorizer sar(client, authz_cache_ttl);
  // Any workload's metrics from the adapter rules, read from the shards' TSDBs.
  http::Client tsdb_client;
  custommetrics::PlanShardDirectory shard_directory(&plans, store(kube::resources::kPods),
                                                    pool::kScraperPort);
  custommetrics::ShardFanout fanout(&shard_directory, &tsdb_client, {custom_metrics_query_timeout});
  std::unique_ptr<custommetrics::WorkloadMetricsProvider> workload_metrics;
  std::vector<const custommetrics::MetricsProvider*> metric_providers{&fleet_metrics};
  std::vector<const custommetrics::ExternalMetricsProvider*> external_providers;
  if (adapter_config) {
    custommetrics::WorkloadMetricsProvider::Options wo;
    wo.relist_interval = custom_metrics_relist;
    wo.cache_ttl = custom_metrics_cache_ttl;
    wo.reload_rules = [&rules_file] { return rules_file->LoadIfChanged(); };
    workload_metrics = std::make_unique<custommetrics::WorkloadMetricsProvider>(
        std::move(*adapter_config), &fanout,
        custommetrics::MakeObjectLister(
            &client, {store(kube::resources::kPods), store(kube::resources::kServices),
                      store(kube::resources::kNamespaces)}),
        wo);
    metric_providers.push_back(workload_metrics.get());
    external_providers.push_back(workload_metrics.get());
    workload_metrics->Start();
  }
  custommetrics::CustomMetricsApi metrics_api(metric_providers, &request_header, &sar);
  custommetrics::ExternalMetricsApi external_api(external_providers, &request_header, &sar);
  const std::string requestheader_ca_file = tls_cert_dir + "/requestheader-ca.crt";
  std::unique_ptr<custommetrics::CustomMetricsServer> metrics_server;
  if (!custom_metrics_address.empty()) {
    metrics_server = std::make_unique<custommetrics::CustomMetricsServer>(
        custommetrics::CustomMetricsServer::Options{
            custom_metrics_address, serving_certs.cert_file(), serving_certs.key_file(),
            requestheader_ca_file},
        &metrics_api);
    metrics_server->SetExternalApi(&external_api);
  }
  std::atomic<bool> metrics_tls_changed{false};
  on_certs_changed.push_back([&] { metrics_tls_changed = true; });
  std::string requestheader_ca;
  // Why the custom metrics API is not serving, as last logged: it is retried every 5 s and
  // may wait for good (custom-metrics.yaml is optional), so each reason is logged once.
  std::string custom_metrics_waiting;
  auto waiting = [&](std::string_view msg, const Status& err) {
    std::string why = std::string(msg) + ": " + err.ToString();
    if (why == custom_metrics_waiting) return;
    custom_metrics_waiting = why;
    log::Warn(msg, {{"err", err}, {"hint", "kubectl apply -f manifests/custom-metrics.yaml"}});
  };
  // Reads the front-proxy configuration; (re)starts the HTTPS listener when its TLS changed.
  // False while it cannot serve yet (no front-proxy configuration or no right to read it:
  // custom-metrics.yaml is often applied after the operator started).
  auto refresh_custom_metrics = [&]() -> bool {
    if (!metrics_server) return true;
    auto cm = client.Get(kube::resources::kConfigMaps, "kube-system",
                         "extension-apiserver-authentication");
    if (!cm.ok()) {
      waiting("custom metrics API waits for kube-system/extension-apiserver-authentication",
              cm.status());
      return false;
    }
    auto config = custommetrics::RequestHeaderConfig::FromConfigMap(*cm);
    if (!config.ok()) {
      waiting("custom metrics API: no front-proxy configuration", config.status());
      return false;
    }
    custom_metrics_waiting.clear();
    if (config->client_ca_pem != requestheader_ca) {
      std::ofstream(requestheader_ca_file, std::ios::trunc) << config->client_ca_pem;
      requestheader_ca = config->client_ca_pem;
      metrics_tls_changed = true;
    }
    request_header.Update(*config);
    if (serving_certs.ca_bundle().empty()) return false;  // no serving certificate yet
    if (!metrics_server->running() || metrics_tls_changed.exchange(false)) {
      Status s = metrics_server->running() ? metrics_server->Reload() : metrics_server->Start();
      if (!s.ok()) {
        log::Error("cannot start the custom metrics API", {{"err", s}});
        metrics_tls_changed = true;
        return false;
      } else {
        log::Info("custom metrics API serving",
                  {{"port", metrics_server->port()}, {"group", custommetrics::kGroup}});
      }
    }
    return true;
  };

  std::thread tls_loop([&] {
    std::unique_lock lock(tls_mu);
    while (!tls_stop) {
      lock.unlock();
      bool ok = reconcile_certs();
      bool serving = refresh_custom_metrics();
      auto renew = serving_certs.renew_at();
      lock.lock();
      // Every minute (a deleted Secret or APIService comes back soon), sooner when due.
      auto wait = ok ? std::chrono::milliseconds(std::chrono::minutes(1))
                     : std::chrono::milliseconds(std::chrono::seconds(10));
      if (!serving) wait = std::min(wait, std::chrono::milliseconds(std::chrono::seconds(5)));
      auto until_due = std::chrono::duration_cast<std::chrono::milliseconds>(
          renew - std::chrono::system_clock::now());
      if (until_due.count() > 0) wait = std::min(wait, until_due);
      tls_cv.wait_for(lock, wait, [&] { return tls_stop; });
    }
  });

  app.WaitForShutdown();
  stopping = true;
  starter.join();
  {
    std::lock_guard lock(tls_mu);
    tls_stop = true;
  }
  tls_cv.notify_all();
  tls_loop.join();
  if (metrics_server) metrics_server->Stop();
  if (workload_metrics) workload_metrics->Stop();
  app.SetReady(false);
  if (elector) elector->Stop();
  // Off the pod before exiting: a Service must not keep routing to a replica that stopped
  // (the elector's Stop() released the lease and cleared the wanted state).
  if (leader_label && !leader_label->WaitSynced(std::chrono::seconds(2))) {
    log::Warn("exiting with the leader label possibly still on this pod");
  }
  if (leader_label) leader_label->Stop();
  controller.Stop();
  for (auto& w : watched) w.informer->Stop();
  // Events such as "stopped leading" are what a person reads after a failover; the pod's
  // grace period (30 s by default) leaves room to wait for a slow API server.
  if (!events.Flush(std::chrono::seconds(5))) log::Warn("exiting with Events not yet recorded");
  app.server().Stop();
  return 0;
}
