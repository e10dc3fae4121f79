#include "hack/kube-sim/simulator.h"

#include "common/base64.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/http/client.h"
#include "common/log/log.h"
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

Status Simulator::Start() {
  if (!options_.state_file.empty()) SHARDWISE_RETURN_IF_ERROR(LoadState());
  controllers_.Add(NewGarbageCollector(cluster_));
  controllers_.Add(NewNamespaceController(cluster_, options_.namespace_deletion_delay_ms));
  controllers_.Add(NewStatefulSetController(cluster_));
  controllers_.Add(NewReplicaSetController(cluster_));
  controllers_.Add(NewDeploymentController(cluster_));
  controllers_.Add(NewDaemonSetController(cluster_));
  controllers_.Add(NewEndpointSliceController(cluster_));
  controllers_.Add(NewEndpointsController(cluster_));
  controllers_.Add(NewPdbController(cluster_));
  HpaOptions hpa;
  hpa.sync_period = options_.hpa_sync_period;
  hpa.metrics = options_.metrics_getter;
  if (!hpa.metrics) hpa.metrics = [this](const std::string& path) { return GetOwnApi(path); };
  controllers_.Add(NewHpaController(cluster_, std::move(hpa)));
  if (options_.kubelet.nodes > 0) controllers_.Add(NewScheduler(cluster_));
  controllers_.Start();

  ApiServerOptions api_opts;
  for (const auto& [user, token] : options_.tokens) api_opts.tokens[token] = user;
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
    auto certs = GenerateServingCerts({"127.0.0.1"}, {"localhost"});
    if (!certs.ok()) return certs.status();
    std::string dir = options_.cert_dir;
    if (dir.empty()) {
      std::string tmpl =
          (std::filesystem::temp_directory_path() / "kube-sim-certs-XXXXXX").string();
      if (!mkdtemp(tmpl.data())) return Status::IOError("mkdtemp failed");
      dir = tmpl;
    }
    std::filesystem::create_directories(dir);
    ca_pem_ = certs.value().ca_pem;
    SHARDWISE_RETURN_IF_ERROR(WriteFile(dir + "/ca.crt", certs.value().ca_pem));
    SHARDWISE_RETURN_IF_ERROR(WriteFile(dir + "/tls.crt", certs.value().cert_pem));
    SHARDWISE_RETURN_IF_ERROR(WriteFile(dir + "/tls.key", certs.value().key_pem, true));
    http::Server::Options o;
    o.listen_address = options_.tls_listen_address;
    o.tls_cert_file = dir + "/tls.crt";
    o.tls_key_file = dir + "/tls.key";
    https_ = std::make_unique<http::Server>(o);
    api_->Register(*https_);
    SHARDWISE_RETURN_IF_ERROR(https_->Start());
  }
  if (options_.kubelet.nodes > 0) {
    KubeletOptions kopts = options_.kubelet;
    kopts.api_port = tls_port();
    kopts.ca_pem = ca_pem_;
    kubelet_ = std::make_unique<Kubelet>(cluster_, std::move(kopts));
    SHARDWISE_RETURN_IF_ERROR(kubelet_->Start());
  }
  started_ = true;
  serving_ = true;
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
  serving_ = false;
  api_->Shutdown();
  if (kubelet_) kubelet_->Stop();  // every pod stops within its grace period
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

std::string Simulator::url() const {
  return http_ ? "http://127.0.0.1:" + std::to_string(http_->port()) : "";
}

std::string Simulator::tls_url() const {
  return https_ ? "https://127.0.0.1:" + std::to_string(https_->port()) : "";
}

std::string Simulator::Kubeconfig(bool tls, const std::string& user) const {
  std::ostringstream out;
  out << "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-sim\n  cluster:\n    server: "
      << (tls ? tls_url() : url()) << "\n";
  if (tls) out << "    certificate-authority-data: " << Base64Encode(ca_pem_) << "\n";
  out << "contexts:\n- name: kube-sim\n  context:\n    cluster: kube-sim\n    user: "
      << (user.empty() ? "kube-sim" : user) << "\n    namespace: default\n"
      << "current-context: kube-sim\nusers:\n- name: " << (user.empty() ? "kube-sim" : user)
      << "\n  user:";
  auto it = user.empty() ? options_.tokens.end() : options_.tokens.find(user);
  if (it != options_.tokens.end()) {
    out << "\n    token: " << it->second << "\n";
  } else {
    out << " {}\n";
  }
  return out.str();
}

Status Simulator::WriteKubeconfig(const std::string& path, bool tls,
                                  const std::string& user) const {
  return WriteFile(path, Kubeconfig(tls, user), true);
}

Result<std::pair<int, std::string>> Simulator::GetOwnApi(const std::string& path_and_query) {
  if (!serving_) return Status::Unavailable("the simulator is not serving");
  if (!metrics_client_) metrics_client_ = std::make_unique<http::Client>();
  http::ClientRequest req;
  req.url = (http_ ? url() : tls_url()) + path_and_query;
  req.timeout = std::chrono::seconds(5);
  if (!http_) req.tls.ca_pem = ca_pem_;
  // The first configured user's token: the admin of the kubeconfig.
  if (!options_.tokens.empty()) req.bearer_token = options_.tokens.begin()->second;
  auto r = metrics_client_->DoSync(std::move(req));
  if (!r.ok()) return r.status();
  return std::make_pair(r->status, std::move(r->body));
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
