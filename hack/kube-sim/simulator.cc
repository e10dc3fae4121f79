#include "hack/kube-sim/simulator.h"

#include "common/base64.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/log/log.h"
#include "hack/kube-sim/auth/auth_controllers.h"
#include "hack/kube-sim/auth/bootstrap_policy.h"
#include "hack/kube-sim/auth/escalation.h"
#include "hack/kube-sim/auth/request_info.h"
#include "hack/kube-sim/certs.h"
#include "hack/kube-sim/scheduler.h"

namespace shardwise::kubesim {
namespace {

Status WriteFile(const std::string& path, const std::string& data, bool private_file = false) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::IOError("cannot write " + tmp);
    out << data;
    if (!out.flush()) return Status::IOError("cannot write " + tmp);
  }
  if (private_file)
    std::filesystem::permissions(
        tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::IOError("cannot rename " + tmp + ": " + ec.message());
  return Status::OK();
}

}  // namespace

Simulator::Simulator(SimulatorOptions options)
    : options_(std::move(options)), cluster_(options_.watch_history), controllers_(cluster_) {}

Simulator::~Simulator() { Stop(); }

Status Simulator::MakePki() {
  // The serving certificate names every address clients may use: loopback, the listen
  // IPs, and the in-cluster names of the kubernetes Service.
  std::vector<std::string> ips = {"127.0.0.1"};
  for (const auto& addr : {options_.listen_address, options_.tls_listen_address}) {
    std::string host;
    int port = 0;
    if (addr.empty() || !http::ParseHostPort(addr, &host, &port).ok()) continue;
    if (!host.empty() && host != "0.0.0.0" && host != "::" && host != "localhost" &&
        std::find(ips.begin(), ips.end(), host) == ips.end())
      ips.push_back(host);
  }
  auto ca = GenerateCa("shardwise-kube-sim-ca");
  if (!ca.ok()) return ca.status();
  ca_ = ca.value();
  auto serving = IssueCert(ca_, {"kube-apiserver",
                                 {},
                                 ips,
                                 {"localhost", "kubernetes", "kubernetes.default",
                                  "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
                                 false});
  if (!serving.ok()) return serving.status();
  serving_ = serving.value();
  auto admin = IssueCert(ca_, {"kubernetes-admin", {kSystemMasters}, {}, {}, true});
  if (!admin.ok()) return admin.status();
  admin_ = admin.value();
  auto fp_ca = GenerateCa("front-proxy-ca");
  if (!fp_ca.ok()) return fp_ca.status();
  front_proxy_ca_ = fp_ca.value();
  auto fp_client = IssueCert(front_proxy_ca_, {"front-proxy-client", {}, {}, {}, true});
  if (!fp_client.ok()) return fp_client.status();
  front_proxy_client_ = fp_client.value();
  return Status::OK();
}

Status Simulator::Start() {
  if (options_.kubelet.nodes > 0) {
    // Pods and Services listen on these addresses: another local cluster on this machine
    // must not hand out the same ones.
    auto block = AddressBlock::Claim();
    if (!block.ok()) return block.status();
    addresses_.emplace(std::move(block).value());
    cluster_.set_service_ip_prefix(addresses_->service_prefix());
  }
  if (!options_.state_file.empty()) SHARDWISE_RETURN_IF_ERROR(LoadState());
  SHARDWISE_RETURN_IF_ERROR(MakePki());
  sa_tokens_ = std::make_unique<ServiceAccountTokens>(cluster_);
  authorizer_ = std::make_unique<RbacAuthorizer>(cluster_);
  std::map<std::string, UserInfo> static_tokens;
  for (const auto& [user, token] : options_.tokens) {
    UserInfo u;
    u.username = user;
    auto g = options_.token_groups.find(user);
    u.groups =
        g == options_.token_groups.end() ? std::vector<std::string>{kSystemMasters} : g->second;
    static_tokens[token] = u;
  }
  authenticator_ = std::make_unique<Authenticator>(*sa_tokens_, *authorizer_, static_tokens);
  auth_api_ = std::make_unique<AuthApi>(*sa_tokens_, *authorizer_);
  EnsureBootstrapPolicy(cluster_);

  controllers_.Add(NewGarbageCollector(cluster_));
  controllers_.Add(NewNamespaceController(cluster_, options_.namespace_deletion_delay_ms));
  controllers_.Add(NewStatefulSetController(cluster_));
  controllers_.Add(NewReplicaSetController(cluster_));
  controllers_.Add(NewDeploymentController(cluster_));
  controllers_.Add(NewDaemonSetController(cluster_));
  controllers_.Add(NewEndpointSliceController(cluster_));
  controllers_.Add(NewEndpointsController(cluster_));
  controllers_.Add(NewPdbController(cluster_));
  controllers_.Add(NewServiceAccountController(cluster_, ca_.cert_pem));
  controllers_.Add(NewTokenController(cluster_, *sa_tokens_, ca_.cert_pem));
  controllers_.Add(NewClusterRoleAggregationController(cluster_));
  AggregatorOptions agg;
  agg.front_proxy_client = front_proxy_client_;
  agg.front_proxy_ca_pem = front_proxy_ca_.cert_pem;
  agg.client_ca_pem = ca_.cert_pem;
  agg.check_interval = options_.apiservice_check_interval;
  aggregator_ = std::make_unique<Aggregator>(cluster_, agg);
  HpaOptions hpa;
  hpa.sync_period = options_.hpa_sync_period;
  hpa.metrics = options_.metrics_getter;
  // Custom and external metrics come through the aggregation layer, in process.
  if (!hpa.metrics)
    hpa.metrics = [this](const std::string& path) { return aggregator_->Get(path); };
  controllers_.Add(NewHpaController(cluster_, std::move(hpa)));
  if (options_.kubelet.nodes > 0) controllers_.Add(NewScheduler(cluster_));
  controllers_.Start();
  aggregator_->Start();

  ApiServerOptions api_opts;
  api_opts.authenticate = [this](const http::Request& req) {
    return authenticator_->Authenticate(req);
  };
  api_opts.authorize = [this](const Attributes& a) { return authorizer_->Authorize(a); };
  api_opts.handlers.push_back(
      [this](const http::Request& req, const UserInfo& user, http::ResponseWriter& w) {
        return auth_api_->Serve(req, user, w);
      });
  api_opts.handlers.push_back(
      [this](const http::Request& req, const UserInfo& user, http::ResponseWriter& w) {
        return aggregator_->Serve(req, user, w);
      });
  api_opts.handlers.push_back(
      [this](const http::Request& req, const UserInfo& user, http::ResponseWriter& w) {
        if (req.method != "POST" && req.method != "PUT" && req.method != "PATCH") return false;
        Attributes a = RequestAttributes(req, user);
        ApiError e;
        if (req.method == "PATCH") {
          if (a.group != "rbac.authorization.k8s.io") return false;  // no body to parse
          auto type = PatchTypeOf(req.Header("Content-Type"));
          auto body = ParseBody(req);
          // An unknown type or undecodable body is answered by the write itself (415/400).
          if (type && body.ok())
            e = CheckPatchEscalation(*authorizer_, cluster_, a, *type, body.value());
        } else {
          e = CheckEscalation(*authorizer_, cluster_, a, json::parse(req.body, nullptr, false));
        }
        if (e.ok()) return false;
        SendApiError(w, e);
        return true;
      });
  api_opts.extra_discovery = [this] { return aggregator_->DiscoveryEntries(); };
  api_opts.bookmark_interval = options_.bookmark_interval;
  api_opts.aggregated_discovery = options_.aggregated_discovery;
  api_opts.pod_log = [this](const http::Request& req, http::ResponseWriter& w,
                            const std::string& ns, const std::string& name) {
    if (kubelet_) return kubelet_->ServeLog(req, w, ns, name);
    json st = {
        {"kind", "Status"},
        {"apiVersion", "v1"},
        {"metadata", json::object()},
        {"status", "Failure"},
        {"message", "pod " + name + " is not running on a node (the simulator has no nodes)"},
        {"reason", "BadRequest"},
        {"code", 400}};
    w.Send(http::Response::Json(400, st.dump()));
  };
  api_ = std::make_unique<ApiServer>(cluster_, std::move(api_opts));

  if (!options_.listen_address.empty()) {
    http::Server::Options o;
    o.listen_address = options_.listen_address;
    http_ = std::make_unique<http::Server>(o);
    api_->Register(*http_);
    SHARDWISE_RETURN_IF_ERROR(http_->Start());
  }
  if (!options_.tls_listen_address.empty()) {
    std::string dir = options_.cert_dir;
    if (dir.empty()) {
      std::string tmpl =
          (std::filesystem::temp_directory_path() / "kube-sim-certs-XXXXXX").string();
      if (!mkdtemp(tmpl.data())) return Status::IOError("mkdtemp failed");
      dir = tmpl;
    }
    std::filesystem::create_directories(dir);
    SHARDWISE_RETURN_IF_ERROR(WriteFile(dir + "/ca.crt", ca_.cert_pem));
    SHARDWISE_RETURN_IF_ERROR(WriteFile(dir + "/tls.crt", serving_.cert_pem));
    SHARDWISE_RETURN_IF_ERROR(WriteFile(dir + "/tls.key", serving_.key_pem, true));
    SHARDWISE_RETURN_IF_ERROR(WriteFile(dir + "/front-proxy-ca.crt", front_proxy_ca_.cert_pem));
    http::Server::Options o;
    o.listen_address = options_.tls_listen_address;
    o.tls_cert_file = dir + "/tls.crt";
    o.tls_key_file = dir + "/tls.key";
    o.tls_client_ca_file = dir + "/ca.crt";
    o.tls_client_cert_optional = true;
    https_ = std::make_unique<http::Server>(o);
    api_->Register(*https_);
    SHARDWISE_RETURN_IF_ERROR(https_->Start());
  }
  if (options_.kubelet.nodes > 0) {
    KubeletOptions kopts = options_.kubelet;
    kopts.api_port = tls_port();
    kopts.ca_pem = ca_.cert_pem;
    kopts.pod_ip_prefix = addresses_->pod_prefix();
    kopts.node_ip_prefix = addresses_->node_prefix();
    if (!kopts.issue_token) kopts.issue_token = sa_tokens_->IssuerFn();
    kubelet_ = std::make_unique<Kubelet>(cluster_, std::move(kopts));
    SHARDWISE_RETURN_IF_ERROR(kubelet_->Start());
  }
  started_ = true;
  if (!options_.state_file.empty()) {
    saved_rv_ = cluster_.store().ResourceVersion();
    persist_thread_ = std::thread([this] { PersistLoop(); });
  }
  log::Info("kube-sim started", {{"http", url()}, {"https", tls_url()}});
  return Status::OK();
}

void Simulator::Stop() {
  if (!started_) return;
  started_ = false;
  api_->Shutdown();
  if (kubelet_) kubelet_->Stop();  // every pod stops within its grace period
  aggregator_->Stop();
  controllers_.Stop();
  cluster_.store().CloseAll();  // wakes watch streams so their connections can close
  if (http_) http_->Stop();
  if (https_) https_->Stop();
  {
    std::lock_guard<std::mutex> lock(persist_mu_);
    stopping_ = true;
  }
  persist_cv_.notify_all();
  if (persist_thread_.joinable()) persist_thread_.join();
  if (!options_.state_file.empty()) {
    Status s = SaveState();
    if (!s.ok()) log::Error("saving state failed", {{"error", s}});
  }
  log::Info("kube-sim stopped");
}

namespace {

// The host clients should dial for a listen address: its IP, or loopback for wildcards.
std::string DialHost(const std::string& listen_address) {
  std::string host;
  int port = 0;
  if (!http::ParseHostPort(listen_address, &host, &port).ok() || host.empty() ||
      host == "0.0.0.0" || host == "::")
    return "127.0.0.1";
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

std::string Simulator::url() const {
  return http_ ? "http://" + DialHost(options_.listen_address) + ":" + std::to_string(http_->port())
               : "";
}

std::string Simulator::tls_url() const {
  return https_ ? "https://" + DialHost(options_.tls_listen_address) + ":" +
                      std::to_string(https_->port())
                : "";
}

std::string Simulator::KubeconfigText(bool tls, const std::string& user_name,
                                      const std::string& user_body) const {
  std::ostringstream out;
  out << "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-sim\n  cluster:\n    server: "
      << (tls ? tls_url() : url()) << "\n";
  if (tls) out << "    certificate-authority-data: " << Base64Encode(ca_.cert_pem) << "\n";
  out << "contexts:\n- name: kube-sim\n  context:\n    cluster: kube-sim\n    user: " << user_name
      << "\n    namespace: default\n"
      << "current-context: kube-sim\nusers:\n- name: " << user_name << "\n  user:" << user_body;
  return out.str();
}

std::string Simulator::Kubeconfig(bool tls, const std::string& user) const {
  auto it = user.empty() ? options_.tokens.end() : options_.tokens.find(user);
  if (it != options_.tokens.end())
    return KubeconfigText(tls, user, "\n    token: " + it->second + "\n");
  if (tls)
    return KubeconfigText(tls, user.empty() ? "kubernetes-admin" : user,
                          "\n    client-certificate-data: " + Base64Encode(admin_.cert_pem) +
                              "\n    client-key-data: " + Base64Encode(admin_.key_pem) + "\n");
  return KubeconfigText(tls, user.empty() ? "kube-sim" : user, " {}\n");
}

std::string Simulator::KubeconfigWithToken(bool tls, const std::string& token) const {
  return KubeconfigText(tls, "token-user", "\n    token: " + token + "\n");
}

Status Simulator::WriteKubeconfig(const std::string& path, bool tls,
                                  const std::string& user) const {
  return WriteFile(path, Kubeconfig(tls, user), true);
}

Status Simulator::SaveState() {
  if (options_.state_file.empty()) return Status::OK();
  json snapshot = cluster_.Snapshot();
  uint64_t rv = snapshot.value("resourceVersion", uint64_t{0});
  SHARDWISE_RETURN_IF_ERROR(WriteFile(options_.state_file, snapshot.dump()));
  saved_rv_ = rv;
  return Status::OK();
}

Status Simulator::LoadState() {
  std::ifstream in(options_.state_file);
  if (!in) return Status::OK();  // first run
  json snapshot = json::parse(in, nullptr, false);
  if (snapshot.is_discarded() || !snapshot.is_object())
    return Status::Corruption("state file " + options_.state_file + " is not valid JSON");
  cluster_.Restore(snapshot);
  log::Info("state restored", {{"file", options_.state_file},
                               {"resource_version", cluster_.store().ResourceVersion()}});
  return Status::OK();
}

void Simulator::PersistLoop() {
  std::unique_lock<std::mutex> lock(persist_mu_);
  while (!stopping_) {
    persist_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
    if (stopping_) break;
    if (cluster_.store().ResourceVersion() == saved_rv_) continue;
    lock.unlock();
    Status s = SaveState();
    if (!s.ok()) log::Warn("saving state failed", {{"error", s}});
    lock.lock();
  }
}

}  // namespace shardwise::kubesim
