#include "hack/kube-sim/kubelet/kubelet.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "common/base64.h"
#include "common/json_field.h"
#include "common/log/log.h"
#include "common/quantity.h"
#include "hack/kube-sim/kubelet/container_log.h"
#include "hack/kube-sim/kubelet/env.h"
#include "hack/kube-sim/kubelet/events.h"
#include "hack/kube-sim/kubelet/launcher.h"
#include "hack/kube-sim/kubelet/memory_limits.h"
#include "hack/kube-sim/kubelet/prober.h"
#include "hack/kube-sim/kubelet/proxy.h"
#include "hack/kube-sim/scheduler.h"
#include "hack/kube-sim/time_util.h"

namespace shardwise::kubesim {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// The IPv4 addresses with a listening TCP socket on this host (/proc/net/tcp, state 0A).
std::set<std::string> HostListeningIps() {
  std::set<std::string> out;
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    if (!(fields >> slot >> local >> remote >> state) || state != "0A") continue;
    unsigned long addr = std::strtoul(local.substr(0, local.find(':')).c_str(), nullptr, 16);
    out.insert(std::to_string(addr & 255) + "." + std::to_string((addr >> 8) & 255) + "." +
               std::to_string((addr >> 16) & 255) + "." + std::to_string((addr >> 24) & 255));
  }
  return out;
}

constexpr char kComponent[] = "kubelet";
constexpr char kProvisioner[] = "kube-sim.shardwise.io/hostpath";

std::string Str(const json& v) { return v.is_string() ? v.get<std::string>() : ""; }

bool PodReadyCondition(const json& pod) {
  const json& conds = JsonField(pod, {"status", "conditions"});
  if (!conds.is_array()) return false;
  for (const auto& c : conds)
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

int ResolveTargetPort(const json& target, const json& pod) {
  if (target.is_number_integer()) return target.get<int>();
  std::string name = Str(target);
  for (const auto& c : JsonField(pod, {"spec", "containers"}).is_array()
                           ? JsonField(pod, {"spec", "containers"})
                           : json::array())
    for (const auto& p : c.value("ports", json::array()))
      if (p.value("name", "") == name) return p.value("containerPort", 0);
  return 0;
}

double Seconds(const json& v, double dflt) { return v.is_number() ? v.get<double>() : dflt; }

std::string Random6() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 12; ++i) out += kHex[rng() % 16];
  return out;
}

}  // namespace

struct ProbeState {
  json spec;  // null: no probe
  Clock::time_point next;
  int successes = 0;
  int failures = 0;
  bool in_flight = false;
  bool passed = false;
};

struct Kubelet::CtrRt {
  std::string name;
  bool init = false;
  json spec;
  pid_t pid = 0;
  std::string container_id;
  std::string started_at;
  Clock::time_point started_steady;
  int restart_count = 0;
  json state;
  json last_state = json::object();
  bool ever_started = false;
  bool done = false;  // exited and will not run again
  int exit_code = 0;
  std::map<int, std::shared_ptr<LogCapture>> logs;  // instance (restart count) -> capture
  double backoff_s = 0;
  std::optional<Clock::time_point> restart_at;
  Clock::time_point next_try;
  std::string last_error;
  ProbeState startup, liveness, readiness;
  bool started = false;  // startup probe passed (or none)
  std::optional<Clock::time_point> kill_deadline;
  EnvList env;
  std::thread hook;
  std::atomic<bool> hook_done{true};
  bool term_sent = false;
  int64_t memory_limit = 0;  // bytes; 0 = none
  bool oom_killed = false;   // the running instance was killed for exceeding it
  ~CtrRt() {
    if (hook.joinable()) hook.join();
  }
  bool Ready() const {
    return pid > 0 && started && (readiness.spec.is_null() || readiness.passed);
  }
};

struct Kubelet::PodRt {
  std::string uid, ns, name, node, dir, ip, host_ip;
  json pod;
  std::vector<std::unique_ptr<CtrRt>> inits, ctrs;
  std::unique_ptr<PodVolumes> volumes;
  bool setup_done = false;
  Clock::time_point next_setup;
  Clock::time_point next_volume_sync;
  std::string setup_error;
  size_t init_index = 0;
  bool initialized = false;
  bool init_failed = false;
  bool terminating = false;
  bool deleting = false;
  Clock::time_point term_deadline;
  bool gone = false;
  bool erase = false;
  json last_status;
  std::string start_time;
  std::string hosts;
  std::map<std::string, std::pair<std::string, std::string>> cond_times;
  CtrRt* Find(const std::string& c) {
    for (auto& x : ctrs)
      if (x->name == c) return x.get();
    for (auto& x : inits)
      if (x->name == c) return x.get();
    return nullptr;
  }
};

struct Kubelet::Impl {
  ServiceProxy proxy;
  Prober prober;
  std::map<std::string, std::pair<bool, std::string>> results;
};

Kubelet::Kubelet(Cluster& cluster, KubeletOptions options)
    : cluster_(cluster), options_(std::move(options)) {
  // A random /24 to start from: clusters started at the same moment rarely pick the same
  // addresses before their pods listen (AllocateIp skips addresses in use).
  next_ip_ = (std::random_device{}() % 200) * 256;
}

Kubelet::~Kubelet() { Stop(); }

std::optional<json> Kubelet::GetObject(const std::string& plural, const std::string& ns,
                                       const std::string& name) {
  return cluster_.store().Transact([&](ObjectStore::Txn& txn) -> std::optional<json> {
    const json* o = txn.Get("/" + plural, ns, name);
    if (!o) return std::nullopt;
    return *o;
  });
}

Status Kubelet::Start() {
  if (options_.nodes <= 0) return Status::OK();
  if (options_.data_dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "kube-sim-kubelet-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return Status::IOError("mkdtemp failed");
    options_.data_dir = tmpl;
  }
  std::error_code ec;
  fs::create_directories(options_.data_dir + "/pods", ec);
  fs::create_directories(options_.data_dir + "/pvc", ec);
  if (ec) return Status::IOError("creating " + options_.data_dir + ": " + ec.message());
  if (!options_.issue_token) {
    // Until a real issuer is wired: an opaque token the simulator does not verify.
    options_.issue_token = [](const std::string& ns, const std::string& sa,
                              const std::vector<std::string>&, long long exp, const std::string&,
                              const std::string&) -> Result<IssuedToken> {
      return IssuedToken{"kube-sim-placeholder." + Base64Encode(ns + ":" + sa) + "." + Random6(),
                         NowSeconds() + exp};
    };
  }
  utsname u{};
  uname(&u);
  TypePtr nt = cluster_.FindType("", "v1", "nodes");
  static const char* kZones[] = {"zone-a", "zone-b", "zone-c"};
  for (int i = 1; i <= options_.nodes; ++i) {
    std::string name = "node-" + std::to_string(i);
    std::string ip = options_.node_ip_prefix + std::to_string(1 + i);
    node_names_.insert(name);
    node_ips_[name] = ip;
    json node = {{"apiVersion", "v1"},
                 {"kind", "Node"},
                 {"metadata",
                  {{"name", name},
                   {"labels",
                    {{"kubernetes.io/hostname", name},
                     {"kubernetes.io/os", "linux"},
                     {"kubernetes.io/arch", "amd64"},
                     {"beta.kubernetes.io/os", "linux"},
                     {"beta.kubernetes.io/arch", "amd64"},
                     {"topology.kubernetes.io/region", "local"},
                     {"topology.kubernetes.io/zone", kZones[(i - 1) % 3]},
                     {"node.kubernetes.io/instance-type", "kube-sim"}}}}},
                 {"spec", {{"podCIDR", options_.pod_ip_prefix + "0.0/16"}}}};
    WriteContext ctx;
    ctx.field_manager = kComponent;
    cluster_.Create(*nt, "", node, ctx);  // AlreadyExists after a restore is fine
    auto current = cluster_.Get(*nt, "", name);
    if (!current.ok()) return Status::Internal("registering node " + name + " failed");
    json obj = current.value();
    json resources = {{"cpu", options_.node_cpu},
                      {"memory", options_.node_memory},
                      {"pods", options_.node_pods},
                      {"ephemeral-storage", "100Gi"}};
    std::string now = NowRfc3339();
    auto cond = [&](const char* type, const char* status, const char* reason, const char* msg) {
      return json{{"type", type},   {"status", status},         {"reason", reason},
                  {"message", msg}, {"lastHeartbeatTime", now}, {"lastTransitionTime", now}};
    };
    obj["status"] = {
        {"capacity", resources},
        {"allocatable", resources},
        {"conditions",
         {cond("MemoryPressure", "False", "KubeletHasSufficientMemory",
               "kubelet has sufficient memory available"),
          cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
          cond("PIDPressure", "False", "KubeletHasSufficientPID",
               "kubelet has sufficient PID available"),
          cond("Ready", "True", "KubeletReady", "kubelet is posting ready status")}},
        {"addresses",
         {{{"type", "InternalIP"}, {"address", ip}}, {{"type", "Hostname"}, {"address", name}}}},
        {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}},
        {"nodeInfo",
         {{"kubeletVersion", "v1.32.0"},
          {"kubeProxyVersion", "v1.32.0"},
          {"osImage", "shardwise kube-sim"},
          {"kernelVersion", std::string(u.release)},
          {"containerRuntimeVersion", "kubesim://0.1.0"},
          {"operatingSystem", "linux"},
          {"architecture", "amd64"},
          {"machineID", ""},
          {"systemUUID", ""},
          {"bootID", ""}}}};
    obj["metadata"].erase("resourceVersion");
    cluster_.Update(*nt, "", name, obj, ctx, "status");
  }
  impl_ = std::make_unique<Impl>();
  cluster_.set_graceful_pod_deletion(true);
  auto w = cluster_.store().Watch("", "", cluster_.store().ResourceVersion());
  if (!w.ok()) return Status::Internal("kubelet watch failed");
  watcher_ = w.value();
  stop_ = false;
  stopped_ = false;
  thread_ = std::thread([this] { Run(); });
  log::Info("kubelet started", {{"nodes", options_.nodes}, {"data_dir", options_.data_dir}});
  return Status::OK();
}

void Kubelet::Stop() {
  if (stopped_.exchange(true)) return;
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (watcher_) cluster_.store().StopWatch(watcher_);
  watcher_.reset();
  if (impl_) {
    impl_->proxy.Stop();
    impl_->prober.Stop();
  }
  cluster_.set_graceful_pod_deletion(false);
}

void Kubelet::Run() {
  last_refresh_ = Clock::now() - std::chrono::seconds(10);
  while (!stop_) {
    bool changed = false;
    if (watcher_) {
      auto e = watcher_->Next(std::chrono::milliseconds(100));
      while (e) {
        changed = true;
        e = watcher_->Next(std::chrono::milliseconds(0));
      }
      if (watcher_->closed()) {
        auto w = cluster_.store().Watch("", "", cluster_.store().ResourceVersion());
        if (w.ok()) watcher_ = w.value();
        changed = true;
      }
    }
    bool refresh = changed || Clock::now() - last_refresh_ > std::chrono::seconds(1);
    if (Clock::now() - last_lease_renewal_ >= std::chrono::seconds(10)) {
      RenewNodeLeases();
      ReclaimVolumes();
      PublishMetrics();
    }
    Tick(refresh);
  }
  // Shutdown: every pod stops as if its node were drained, within its grace period.
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [uid, p] : pods_) {
      if (p->terminating) continue;
      BeginTermination(
          *p, JsonField(p->pod, {"spec", "terminationGracePeriodSeconds"}).is_number_integer()
                  ? p->pod["spec"]["terminationGracePeriodSeconds"].get<long long>()
                  : 30);
      p->deleting = false;
    }
  }
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = pods_.begin(); it != pods_.end();) {
        StepTermination(*it->second);
        if (it->second->erase) {
          it = pods_.erase(it);
        } else {
          ++it;
        }
      }
      if (pods_.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void Kubelet::RenewNodeLeases() {
  last_lease_renewal_ = Clock::now();
  TypePtr lt = cluster_.FindType("coordination.k8s.io", "v1", "leases");
  TypePtr nt = cluster_.FindType("", "v1", "nodes");
  if (!lt || !nt) return;
  WriteContext ctx;
  ctx.field_manager = kComponent;
  const std::string now = NowMicroTime();
  for (const auto& name : node_names_) {
    auto lease = cluster_.Get(*lt, "kube-node-lease", name);
    if (lease.ok()) {
      json next = lease.value();
      next["spec"]["renewTime"] = now;
      cluster_.Update(*lt, "kube-node-lease", name, next, ctx);
      continue;
    }
    auto node = cluster_.Get(*nt, "", name);
    if (!node.ok()) continue;
    json obj = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata",
         {{"name", name},
          {"namespace", "kube-node-lease"},
          {"ownerReferences",
           json::array({{{"apiVersion", "v1"},
                         {"kind", "Node"},
                         {"name", name},
                         {"uid", node.value()["metadata"].value("uid", "")}}})}}},
        {"spec", {{"holderIdentity", name}, {"leaseDurationSeconds", 40}, {"renewTime", now}}}};
    cluster_.Create(*lt, "kube-node-lease", obj, ctx);
  }
}

void Kubelet::ReclaimVolumes() {
  TypePtr pvt = cluster_.FindType("", "v1", "persistentvolumes");
  if (!pvt) return;
  std::set<std::string> claims;
  std::vector<std::string> orphans;
  cluster_.store().Transact([&](ObjectStore::Txn& txn) {
    for (const json* c : txn.List("/persistentvolumeclaims", ""))
      claims.insert(Str(JsonField(*c, {"metadata", "uid"})));
    for (const json* pv : txn.List("/persistentvolumes", "")) {
      if (Str(JsonField(*pv, {"metadata", "annotations", "pv.kubernetes.io/provisioned-by"})) !=
          kProvisioner)
        continue;
      if (!claims.count(Str(JsonField(*pv, {"spec", "claimRef", "uid"}))))
        orphans.push_back(Str(JsonField(*pv, {"metadata", "name"})));
    }
    return 0;
  });
  for (const auto& name : orphans) cluster_.Delete(*pvt, "", name, DeleteOptions{});
}

void Kubelet::PublishMetrics() {
  TypePtr pmt = cluster_.FindType("metrics.k8s.io", "v1beta1", "pods");
  TypePtr nmt = cluster_.FindType("metrics.k8s.io", "v1beta1", "nodes");
  if (!pmt || !nmt) return;
  const auto now = Clock::now();
  const std::string stamp = NowRfc3339();
  auto usage = UsageByProcessGroup();
  struct Sum {
    double cores = 0;
    int64_t bytes = 0;
  };
  std::map<std::string, Sum> nodes;
  std::map<std::string, json> pods;  // "<ns>/<name>" -> PodMetrics
  std::map<std::string, std::pair<Clock::time_point, double>> seen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [uid, p] : pods_) {
      json containers = json::array();
      bool complete = true;
      for (const auto& c : p->ctrs) {
        if (c->pid <= 0) continue;
        const GroupUsage u = usage.count(c->pid) ? usage[c->pid] : GroupUsage{};
        const std::string key = uid + "/" + c->name;
        seen[key] = {now, u.cpu_seconds};
        auto prev = cpu_seen_.find(key);
        if (prev == cpu_seen_.end()) {
          complete = false;  // a rate needs two passes, as metrics-server's does
          continue;
        }
        double secs = std::chrono::duration<double>(now - prev->second.first).count();
        double cores = secs > 0 ? std::max(0.0, u.cpu_seconds - prev->second.second) / secs : 0;
        containers.push_back({{"name", c->name},
                              {"usage",
                               {{"cpu", std::to_string(static_cast<long long>(cores * 1e9)) + "n"},
                                {"memory", std::to_string(u.rss_bytes / 1024) + "Ki"}}}});
        nodes[p->node].cores += cores;
        nodes[p->node].bytes += u.rss_bytes;
      }
      if (!complete || containers.empty()) continue;
      json md = {{"name", p->name}, {"namespace", p->ns}, {"creationTimestamp", stamp}};
      const json& labels = JsonField(p->pod, {"metadata", "labels"});
      if (labels.is_object()) md["labels"] = labels;
      pods[p->ns + "/" + p->name] = {{"apiVersion", "metrics.k8s.io/v1beta1"},
                                     {"kind", "PodMetrics"},
                                     {"metadata", md},
                                     {"timestamp", stamp},
                                     {"window", "10s"},
                                     {"containers", containers}};
    }
  }
  cpu_seen_ = std::move(seen);
  WriteContext ctx;
  ctx.field_manager = "metrics-server";
  auto put = [&](const ResourceType& t, const std::string& ns, const std::string& name,
                 const json& obj) {
    if (!cluster_.Update(t, ns, name, obj, ctx).ok()) cluster_.Create(t, ns, obj, ctx);
  };
  for (const auto& [key, obj] : pods)
    put(*pmt, obj["metadata"]["namespace"], obj["metadata"]["name"], obj);
  for (const auto& key : pod_metrics_) {
    if (pods.count(key)) continue;
    size_t slash = key.find('/');
    cluster_.Delete(*pmt, key.substr(0, slash), key.substr(slash + 1), DeleteOptions{});
  }
  pod_metrics_.clear();
  for (const auto& [key, obj] : pods) pod_metrics_.insert(key);
  for (const auto& name : node_names_) {
    const Sum& s = nodes[name];
    json obj = {{"apiVersion", "metrics.k8s.io/v1beta1"},
                {"kind", "NodeMetrics"},
                {"metadata", {{"name", name}, {"creationTimestamp", stamp}}},
                {"timestamp", stamp},
                {"window", "10s"},
                {"usage",
                 {{"cpu", std::to_string(static_cast<long long>(s.cores * 1e9)) + "n"},
                  {"memory", std::to_string(s.bytes / 1024) + "Ki"}}}};
    put(*nmt, "", name, obj);
  }
}

void Kubelet::Tick(bool refresh) {
  std::lock_guard<std::mutex> lock(mu_);
  if (refresh) {
    try {
      Refresh();
    } catch (const std::exception& e) {
      log::Warn("kubelet: refresh failed", {{"error", e.what()}});
    }
  }
  impl_->results.merge(impl_->prober.TakeResults());
  EnforceMemoryLimits();
  for (auto it = pods_.begin(); it != pods_.end();) {
    try {
      StepPod(*it->second);
    } catch (const std::exception& e) {
      // A malformed pod spec must not take the node down: report and go on.
      log::Warn("kubelet: pod step failed",
                {{"pod", it->second->ns + "/" + it->second->name}, {"error", e.what()}});
    }
    if (it->second->erase) {
      it = pods_.erase(it);
    } else {
      ++it;
    }
  }
}

void Kubelet::Refresh() {
  last_refresh_ = Clock::now();
  std::vector<json> pods, services;
  cluster_.store().Transact([&](ObjectStore::Txn& txn) {
    for (const json* p : txn.List("/pods", "")) pods.push_back(*p);
    for (const json* s : txn.List("/services", "")) services.push_back(*s);
    return 0;
  });
  std::set<std::string> seen;
  for (const auto& pod : pods) {
    std::string node = Str(JsonField(pod, {"spec", "nodeName"}));
    if (!node_names_.count(node)) continue;
    std::string uid = Str(JsonField(pod, {"metadata", "uid"}));
    seen.insert(uid);
    auto it = pods_.find(uid);
    if (it == pods_.end()) {
      std::string phase = Str(JsonField(pod, {"status", "phase"}));
      if (phase == "Succeeded" || phase == "Failed") continue;
      auto p = std::make_unique<PodRt>();
      p->uid = uid;
      p->ns = Str(JsonField(pod, {"metadata", "namespace"}));
      p->name = Str(JsonField(pod, {"metadata", "name"}));
      p->node = node;
      p->dir = options_.data_dir + "/pods/" + uid;
      p->host_ip = node_ips_[node];
      p->volumes = std::make_unique<PodVolumes>(p->dir);
      p->start_time = NowRfc3339();
      auto add = [&](const json& list, bool init, std::vector<std::unique_ptr<CtrRt>>& out) {
        if (!list.is_array()) return;
        for (const auto& c : list) {
          auto ctr = std::make_unique<CtrRt>();
          ctr->name = c.value("name", "");
          ctr->init = init;
          ctr->spec = c;
          ctr->state = {{"waiting", {{"reason", init ? "PodInitializing" : "ContainerCreating"}}}};
          if (!init) {
            ctr->startup.spec = c.value("startupProbe", json());
            ctr->liveness.spec = c.value("livenessProbe", json());
            ctr->readiness.spec = c.value("readinessProbe", json());
          }
          out.push_back(std::move(ctr));
        }
      };
      add(JsonField(pod, {"spec", "initContainers"}), true, p->inits);
      add(JsonField(pod, {"spec", "containers"}), false, p->ctrs);
      if (p->inits.empty()) p->initialized = true;
      for (auto& c : p->inits) c->state = {{"waiting", {{"reason", "PodInitializing"}}}};
      if (!p->inits.empty()) {
        p->inits[0]->state = {{"waiting", {{"reason", "PodInitializing"}}}};
        for (auto& c : p->ctrs) c->state = {{"waiting", {{"reason", "PodInitializing"}}}};
      }
      it = pods_.emplace(uid, std::move(p)).first;
    }
    it->second->pod = pod;
  }
  for (auto& [uid, p] : pods_)
    if (!seen.count(uid)) p->gone = true;
  services_cache_ = services;
  pods_cache_ = pods;
  UpdateNetworking(pods, services);
}

std::string Kubelet::AllocateIp() {
  // Several local clusters may run on one machine (parallel e2e tests, a demo): an address
  // another one's pod listens on is skipped, so pods never collide on IP:port.
  const std::set<std::string> busy = HostListeningIps();
  for (int tries = 0; tries < 65536; ++tries) {
    uint32_t n = ++next_ip_ % 65536;
    if ((n & 255) == 0 || (n & 255) == 255) continue;
    std::string ip =
        options_.pod_ip_prefix + std::to_string(n >> 8) + "." + std::to_string(n & 255);
    if (busy.count(ip)) continue;
    if (used_ips_.insert(ip).second) return ip;
  }
  return "";
}

Status Kubelet::BindClaim(const json& claim, const std::string& host_dir) {
  // A StatefulSet's claims are created Bound (no provisioner runs); they still get their
  // PersistentVolume here, as a dynamically provisioned claim has (kubectl get pv, VOLUME).
  if (Str(JsonField(claim, {"status", "phase"})) == "Bound" &&
      !Str(JsonField(claim, {"spec", "volumeName"})).empty())
    return Status::OK();
  TypePtr pvt = cluster_.FindType("", "v1", "persistentvolumes");
  TypePtr pvct = cluster_.FindType("", "v1", "persistentvolumeclaims");
  const json& md = claim["metadata"];
  std::string ns = md.value("namespace", ""), name = md.value("name", "");
  std::string pv_name = "pvc-" + md.value("uid", "");
  json storage = JsonField(claim, {"spec", "resources", "requests", "storage"});
  if (storage.is_null()) storage = "1Gi";
  json modes = JsonField(claim, {"spec", "accessModes"});
  if (!modes.is_array()) modes = json::array({"ReadWriteOnce"});
  std::string sc = Str(JsonField(claim, {"spec", "storageClassName"}));
  WriteContext ctx;
  ctx.field_manager = "persistentvolume-controller";
  json pv = {
      {"metadata",
       {{"name", pv_name}, {"annotations", {{"pv.kubernetes.io/provisioned-by", kProvisioner}}}}},
      {"spec",
       {{"capacity", {{"storage", storage}}},
        {"accessModes", modes},
        {"persistentVolumeReclaimPolicy", "Delete"},
        {"storageClassName", sc},
        {"volumeMode", "Filesystem"},
        {"hostPath", {{"path", host_dir}, {"type", ""}}},
        {"claimRef",
         {{"kind", "PersistentVolumeClaim"},
          {"namespace", ns},
          {"name", name},
          {"uid", md.value("uid", "")},
          {"apiVersion", "v1"}}}}}};
  cluster_.Create(*pvt, "", pv, ctx);
  if (auto cur = cluster_.Get(*pvt, "", pv_name); cur.ok()) {
    json obj = cur.value();
    obj["status"] = {{"phase", "Bound"}};
    obj["metadata"].erase("resourceVersion");
    cluster_.Update(*pvt, "", pv_name, obj, ctx, "status");
  }
  auto patched = cluster_.Patch(*pvct, ns, name, PatchType::kMerge,
                                json{{"spec", {{"volumeName", pv_name}}},
                                     {"metadata",
                                      {{"annotations",
                                        {{"pv.kubernetes.io/bind-completed", "yes"},
                                         {"pv.kubernetes.io/bound-by-controller", "yes"}}}}}},
                                ctx);
  if (!patched.ok()) return Status::Unavailable("binding claim " + name + " failed");
  json obj = patched.value().object;
  obj["status"] = {
      {"phase", "Bound"}, {"accessModes", modes}, {"capacity", {{"storage", storage}}}};
  obj["metadata"].erase("resourceVersion");
  cluster_.Update(*pvct, ns, name, obj, ctx, "status");
  return Status::OK();
}

bool Kubelet::SetupPod(PodRt& p) {
  if (Clock::now() < p.next_setup) return false;
  bool host_network = JsonField(p.pod, {"spec", "hostNetwork"}) == json(true);
  if (p.ip.empty()) p.ip = host_network ? p.host_ip : AllocateIp();
  p.pod["status"]["podIP"] = p.ip;
  p.pod["status"]["podIPs"] = json::array({{{"ip", p.ip}}});
  p.pod["status"]["hostIP"] = p.host_ip;
  std::error_code ec;
  fs::create_directories(p.dir + "/logs", ec);
  VolumeContext vc;
  vc.pvc_root = options_.data_dir + "/pvc";
  vc.get = [&](const std::string& plural, const std::string& name) {
    return GetObject(plural, p.ns, name);
  };
  vc.bind_claim = [&](const json& claim, const std::string& dir) { return BindClaim(claim, dir); };
  vc.issue_token = options_.issue_token;
  vc.ca_pem = options_.ca_pem;
  Status s = p.volumes->Sync(p.pod, vc);
  if (!s.ok()) {
    if (s.message() != p.setup_error) {
      Event(p, "Warning", "FailedMount", "MountVolume.SetUp failed: " + s.message());
      p.setup_error = s.message();
    }
    p.next_setup = Clock::now() + std::chrono::seconds(1);
    return false;
  }
  p.setup_error.clear();
  p.hosts = HostsFile(p, pods_cache_, services_cache_);
  std::ofstream(p.dir + "/etc-hosts", std::ios::trunc) << p.hosts;
  p.setup_done = true;
  p.next_volume_sync = Clock::now() + std::chrono::seconds(1);
  return true;
}

void Kubelet::StartContainer(PodRt& p, CtrRt& c) {
  auto now = Clock::now();
  if (now < c.next_try) return;
  EnvSources src;
  src.config_map = [&](const std::string& n) { return GetObject("configmaps", p.ns, n); };
  src.secret = [&](const std::string& n) { return GetObject("secrets", p.ns, n); };
  for (const auto& s : services_cache_)
    if (Str(JsonField(s, {"metadata", "namespace"})) == p.ns) src.services.push_back(s);
  src.api_host = options_.api_host;
  src.api_port = options_.api_port;
  auto cpu = ParseQuantity(options_.node_cpu);
  auto memory = ParseQuantity(options_.node_memory);
  src.node_cpu = cpu.ok() ? static_cast<double>(cpu->milli) / 1000 : 1;
  src.node_memory = memory.ok() ? static_cast<double>(memory->milli) / 1000 : 0;
  auto fail = [&](const std::string& reason, const std::string& msg) {
    c.state = {{"waiting", {{"reason", reason}, {"message", msg}}}};
    if (c.last_error != msg) {
      Event(p, "Warning", "Failed", "Error: " + msg, c.name);
      c.last_error = msg;
    }
    c.next_try = now + std::chrono::seconds(1);
  };
  auto env = BuildContainerEnv(p.pod, c.spec, src);
  if (!env.ok()) return fail("CreateContainerConfigError", env.status().message());
  auto argv = BuildArgv(c.spec, options_.images, env.value());
  if (!argv.ok()) return fail("ErrImagePull", argv.status().message());

  auto memory_limit = MemoryLimitBytes(c.spec);
  if (!memory_limit.ok())
    return fail("CreateContainerConfigError", memory_limit.status().message());

  LaunchSpec spec;
  spec.argv = argv.value();
  spec.memory_max = MemoryMaxFileText(memory_limit.value());
  spec.env = env.value();
  spec.working_dir = c.spec.value("workingDir", "");
  std::string hostname = Str(JsonField(p.pod, {"spec", "hostname"}));
  spec.hostname = hostname.empty() ? p.name : hostname;
  if (spec.hostname.size() > 63) spec.hostname.resize(63);
  bool sa_mounted = false;
  for (const auto& m : c.spec.value("volumeMounts", json::array())) {
    std::string vol = m.value("name", "");
    std::string host = p.volumes->HostPath(vol);
    if (host.empty()) return fail("CreateContainerConfigError", "volume \"" + vol + "\" not found");
    std::string sub = m.value("subPath", "");
    if (!sub.empty()) {
      if (sub.find("..") != std::string::npos || sub[0] == '/')
        return fail("CreateContainerConfigError", "invalid subPath \"" + sub + "\"");
      host += "/" + sub;
      std::error_code ec;
      if (!fs::exists(host, ec)) fs::create_directories(host, ec);
    }
    std::string target = m.value("mountPath", "");
    if (target == kServiceAccountMountPath) sa_mounted = true;
    spec.mounts.push_back({host, target, m.value("readOnly", false)});
  }
  std::string sa_dir = p.volumes->HostPath(kServiceAccountVolume);
  if (!sa_mounted && !sa_dir.empty())
    spec.mounts.push_back({sa_dir, kServiceAccountMountPath, true});
  if (JsonField(p.pod, {"spec", "hostNetwork"}) != json(true))
    spec.mounts.push_back({p.dir + "/etc-hosts", "/etc/hosts", false});
  const json& psc = JsonField(p.pod, {"spec", "securityContext"});
  const json& csc = c.spec.value("securityContext", json::object());
  auto id = [&](const char* key) -> long long {
    if (csc.is_object() && csc.value(key, json()).is_number_integer())
      return csc[key].get<long long>();
    if (psc.is_object() && psc.value(key, json()).is_number_integer())
      return psc[key].get<long long>();
    return -1;
  };
  spec.uid = id("runAsUser");
  spec.gid = id("runAsGroup");
  if (psc.is_object()) {
    if (psc.value("fsGroup", json()).is_number_integer())
      spec.supplemental_groups.push_back(psc["fsGroup"].get<long long>());
    for (const auto& g : psc.value("supplementalGroups", json::array()))
      if (g.is_number_integer()) spec.supplemental_groups.push_back(g.get<long long>());
  }

  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return fail("RunContainerError", "pipe failed");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return fail("RunContainerError", "pipe failed");
  }
  auto pid = SpawnContainer(options_.launcher, spec, out[1], err[1]);
  ::close(out[1]);
  ::close(err[1]);
  if (!pid.ok()) {
    ::close(out[0]);
    ::close(err[0]);
    return fail("RunContainerError", pid.status().message());
  }
  if (c.ever_started) c.restart_count++;
  std::string log_dir = p.dir + "/logs/" + c.name;
  std::error_code ec;
  fs::create_directories(log_dir, ec);
  std::string log_path = log_dir + "/" + std::to_string(c.restart_count) + ".log";
  fs::remove(log_path, ec);
  c.logs[c.restart_count] = std::make_shared<LogCapture>(log_path, out[0], err[0]);
  // Keep only the current and the previous instance's logs, as the kubelet does.
  while (c.logs.size() > 2) c.logs.erase(c.logs.begin());
  c.pid = pid.value();
  c.memory_limit = memory_limit.value();
  c.oom_killed = false;
  c.env = env.value();
  c.container_id = "kubesim://" + std::to_string(c.pid);
  c.started_at = NowRfc3339();
  c.started_steady = now;
  c.state = {{"running", {{"startedAt", c.started_at}}}};
  c.ever_started = true;
  c.restart_at.reset();
  c.kill_deadline.reset();
  c.last_error.clear();
  c.term_sent = false;
  c.started = c.startup.spec.is_null();
  for (ProbeState* ps : {&c.startup, &c.liveness, &c.readiness}) {
    ps->successes = ps->failures = 0;
    ps->in_flight = false;
    ps->passed = false;
    ps->next =
        now +
        std::chrono::milliseconds(static_cast<long>(
            Seconds(ps->spec.is_object() ? ps->spec.value("initialDelaySeconds", json(0)) : json(0),
                    0) *
            1000));
  }
  Event(p, "Normal", "Started", "Started container " + c.name, c.name);
}

void Kubelet::ReapContainer(PodRt& p, CtrRt& c) {
  if (c.pid <= 0) return;
  int status = 0;
  pid_t r = ::waitpid(c.pid, &status, WNOHANG);
  if (r == 0) return;
  // Whatever the container left behind in its process group goes with it.
  ::kill(-c.pid, SIGKILL);
  int code = 0;
  if (r < 0) {
    code = 137;
  } else if (WIFEXITED(status)) {
    code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    code = 128 + WTERMSIG(status);
  }
  json term = {{"exitCode", code},
               {"reason", c.oom_killed ? "OOMKilled"
                          : code == 0  ? "Completed"
                                       : "Error"},
               {"startedAt", c.started_at},
               {"finishedAt", NowRfc3339()},
               {"containerID", c.container_id}};
  c.pid = 0;
  c.exit_code = code;
  c.state = {{"terminated", term}};
  c.kill_deadline.reset();
  AfterExit(p, c);
}

void Kubelet::EnforceMemoryLimits() {
  // Four times a second, and only while some running container has a limit: one pass
  // over /proc costs about a millisecond per few hundred processes.
  auto now = Clock::now();
  if (now < next_memory_check_) return;
  next_memory_check_ = now + std::chrono::milliseconds(250);
  bool any = false;
  for (auto& [uid, p] : pods_)
    for (auto* list : {&p->inits, &p->ctrs})
      for (auto& c : *list) any = any || (c->pid > 0 && c->memory_limit > 0 && !c->oom_killed);
  if (!any) return;
  auto rss = RssByProcessGroup();
  for (auto& [uid, p] : pods_) {
    for (auto* list : {&p->inits, &p->ctrs}) {
      for (auto& c : *list) {
        if (c->pid <= 0 || c->memory_limit <= 0 || c->oom_killed) continue;
        auto used = rss.find(c->pid);  // the container's process group
        if (used == rss.end() || used->second <= c->memory_limit) continue;
        log::Info("kubelet: container exceeded its memory limit; killed (OOMKilled)",
                  {{"pod", p->ns + "/" + p->name},
                   {"container", c->name},
                   {"rss_bytes", used->second},
                   {"limit_bytes", c->memory_limit}});
        c->oom_killed = true;
        ::kill(-c->pid, SIGKILL);
      }
    }
  }
}

void Kubelet::AfterExit(PodRt& p, CtrRt& c) {
  std::string policy = Str(JsonField(p.pod, {"spec", "restartPolicy"}));
  if (policy.empty()) policy = "Always";
  if (c.init && policy == "Always") policy = "OnFailure";
  bool restart =
      !p.terminating && (policy == "Always" || (policy == "OnFailure" && c.exit_code != 0));
  if (!restart) {
    c.done = true;
    if (c.init && c.exit_code != 0) p.init_failed = true;
    return;
  }
  c.last_state = c.state;
  const double base = 10 * options_.backoff_scale, max = 300 * options_.backoff_scale;
  auto ran = std::chrono::duration<double>(Clock::now() - c.started_steady).count();
  if (ran > 2 * max) c.backoff_s = 0;
  double delay = c.backoff_s;
  c.backoff_s = c.backoff_s == 0 ? base : std::min(c.backoff_s * 2, max);
  c.restart_at = Clock::now() + std::chrono::milliseconds(static_cast<long>(delay * 1000));
  if (delay > 0) {
    std::string pretty = std::to_string(static_cast<long>(std::ceil(delay))) + "s";
    std::string msg = "back-off " + pretty + " restarting failed container=" + c.name +
                      " pod=" + p.name + "_" + p.ns + "(" + p.uid + ")";
    c.state = {{"waiting", {{"reason", "CrashLoopBackOff"}, {"message", msg}}}};
    Event(p, "Warning", "BackOff",
          "Back-off restarting failed container " + c.name + " in pod " + p.name + "_" + p.ns +
              "(" + p.uid + ")",
          c.name);
  }
}

void Kubelet::RunProbes(PodRt& p, CtrRt& c) {
  if (c.pid <= 0) return;
  auto now = Clock::now();
  struct Kind {
    const char* name;
    ProbeState* state;
  };
  for (Kind k : {Kind{"startup", &c.startup}, Kind{"liveness", &c.liveness},
                 Kind{"readiness", &c.readiness}}) {
    ProbeState& ps = *k.state;
    if (!ps.spec.is_object()) continue;
    bool is_startup = std::string(k.name) == "startup";
    if (is_startup == c.started) continue;  // startup runs alone until it passes
    std::string key = p.uid + "/" + c.name + "/" + k.name + "/" + std::to_string(c.restart_count);
    auto res = impl_->results.find(key);
    if (res != impl_->results.end()) {
      bool ok = res->second.first;
      std::string detail = res->second.second;
      impl_->results.erase(res);
      ps.in_flight = false;
      int success_threshold = ps.spec.value("successThreshold", 1);
      int failure_threshold = ps.spec.value("failureThreshold", 3);
      if (ok) {
        ps.successes++;
        ps.failures = 0;
        if (ps.successes >= success_threshold) ps.passed = true;
        if (is_startup) c.started = true;
      } else {
        ps.failures++;
        ps.successes = 0;
        std::string pretty = k.name;
        pretty[0] = static_cast<char>(std::toupper(pretty[0]));
        Event(p, "Warning", "Unhealthy", pretty + " probe failed: " + detail, c.name);
        if (ps.failures >= failure_threshold) {
          ps.passed = false;
          if (!std::string(k.name).empty() && std::string(k.name) != "readiness" &&
              !c.kill_deadline) {
            Event(p, "Normal", "Killing",
                  "Container " + c.name + " failed " + k.name + " probe, will be restarted",
                  c.name);
            ::kill(-c.pid, SIGTERM);
            double grace = Seconds(JsonField(p.pod, {"spec", "terminationGracePeriodSeconds"}), 30);
            if (ps.spec.value("terminationGracePeriodSeconds", json()).is_number())
              grace = ps.spec["terminationGracePeriodSeconds"].get<double>();
            c.kill_deadline = now + std::chrono::milliseconds(static_cast<long>(grace * 1000));
            return;
          }
        }
      }
    }
    if (ps.in_flight || now < ps.next) continue;
    ProbeTask task;
    task.key = key;
    task.probe = ps.spec;
    task.pod_ip = p.ip;
    task.container = c.spec;
    task.container_pid = c.pid;
    task.env = c.env;
    task.launcher = options_.launcher;
    impl_->prober.Submit(std::move(task));
    ps.in_flight = true;
    ps.next = now + std::chrono::milliseconds(static_cast<long>(
                        Seconds(ps.spec.value("periodSeconds", json(10)), 10) * 1000));
  }
}

void Kubelet::BeginTermination(PodRt& p, long long grace) {
  p.terminating = true;
  p.deleting = true;
  if (grace < 0) grace = 0;
  p.term_deadline = Clock::now() + std::chrono::seconds(grace);
  for (auto* list : {&p.inits, &p.ctrs}) {
    for (auto& c : *list) {
      c->restart_at.reset();
      if (c->pid <= 0) {
        c->done = true;
        continue;
      }
      Event(p, "Normal", "Killing", "Stopping container " + c->name, c->name);
      const json& pre = JsonField(c->spec, {"lifecycle", "preStop"});
      if (grace > 0 && pre.is_object() && !p.gone) {
        ProbeTask task;
        task.probe = pre;
        task.pod_ip = p.ip;
        task.container = c->spec;
        task.container_pid = c->pid;
        task.env = c->env;
        task.launcher = options_.launcher;
        c->hook_done = false;
        CtrRt* ctr = c.get();
        double limit = static_cast<double>(grace);
        c->hook = std::thread([ctr, task, limit] {
          std::string detail;
          RunProbe(task, limit, &detail);
          ctr->hook_done = true;
        });
      } else {
        ::kill(-c->pid, grace > 0 ? SIGTERM : SIGKILL);
        c->term_sent = true;
      }
    }
  }
}

void Kubelet::StepTermination(PodRt& p) {
  auto now = Clock::now();
  bool all_done = true;
  for (auto* list : {&p.inits, &p.ctrs}) {
    for (auto& c : *list) {
      ReapContainer(p, *c);
      if (c->pid > 0 && !c->term_sent && c->hook_done) {
        if (c->hook.joinable()) c->hook.join();
        ::kill(-c->pid, SIGTERM);
        c->term_sent = true;
      }
      if (c->pid > 0 && now >= p.term_deadline) ::kill(-c->pid, SIGKILL);
      if (c->pid > 0 || !c->hook_done) all_done = false;
    }
  }
  if (!all_done) return;
  for (auto* list : {&p.inits, &p.ctrs})
    for (auto& c : *list)
      if (c->hook.joinable()) c->hook.join();
  bool delete_object = p.deleting && !p.gone && !stop_;
  CleanupPod(p);
  if (delete_object) {
    TypePtr pt = cluster_.FindType("", "v1", "pods");
    DeleteOptions del;
    del.grace_period_seconds = 0;
    del.precondition_uid = p.uid;
    cluster_.Delete(*pt, p.ns, p.name, del);
  }
  p.erase = true;
}

void Kubelet::CleanupPod(PodRt& p) {
  for (auto* list : {&p.inits, &p.ctrs}) {
    for (auto& c : *list) {
      if (c->pid > 0) {
        ::kill(-c->pid, SIGKILL);
        ::waitpid(c->pid, nullptr, 0);
        c->pid = 0;
      }
    }
  }
  if (!p.ip.empty() && p.ip != p.host_ip) used_ips_.erase(p.ip);
  if (stop_) return;  // the data directory stays for inspection after a shutdown
  std::error_code ec;
  fs::remove_all(p.dir, ec);
}

void Kubelet::StepPod(PodRt& p) {
  const json& md = p.pod.value("metadata", json::object());
  if (p.gone && !p.terminating) BeginTermination(p, 0);
  if (!p.terminating && md.contains("deletionTimestamp")) {
    json grace_v = md.value("deletionGracePeriodSeconds", json(30));
    long long grace = grace_v.is_number_integer() ? grace_v.get<long long>() : 30;
    BeginTermination(p, grace);
  }
  if (p.terminating && p.deleting && md.contains("deletionTimestamp")) {
    // A second delete may shorten the grace period (kubectl delete --grace-period=N).
    json grace_v = md.value("deletionGracePeriodSeconds", json());
    if (grace_v.is_number_integer()) {
      auto deadline = Clock::now() + std::chrono::seconds(std::max(0LL, grace_v.get<long long>()));
      if (deadline < p.term_deadline) p.term_deadline = deadline;
    }
  }
  if (p.terminating) {
    StepTermination(p);
    if (!p.erase && !p.gone) WriteStatus(p);
    return;
  }
  if (!p.setup_done) {
    if (!SetupPod(p)) {
      WriteStatus(p);
      return;
    }
  } else if (Clock::now() >= p.next_volume_sync) {
    // Refresh configMap/secret/projected contents and rotate tokens.
    p.next_volume_sync = Clock::now() + std::chrono::seconds(1);
    VolumeContext vc;
    vc.pvc_root = options_.data_dir + "/pvc";
    vc.get = [&](const std::string& plural, const std::string& name) {
      return GetObject(plural, p.ns, name);
    };
    vc.bind_claim = [&](const json& claim, const std::string& dir) {
      return BindClaim(claim, dir);
    };
    vc.issue_token = options_.issue_token;
    vc.ca_pem = options_.ca_pem;
    Status s = p.volumes->Sync(p.pod, vc);
    if (!s.ok()) log::Debug("volume refresh failed", {{"pod", p.ns + "/" + p.name}, {"error", s}});
  }
  auto now = Clock::now();
  for (auto* list : {&p.inits, &p.ctrs}) {
    for (auto& c : *list) {
      ReapContainer(p, *c);
      if (c->pid > 0 && c->kill_deadline && now >= *c->kill_deadline) ::kill(-c->pid, SIGKILL);
    }
  }
  auto runnable = [&](CtrRt& c) {
    return c.pid <= 0 && !c.done && (!c.restart_at || now >= *c.restart_at);
  };
  if (!p.initialized && !p.init_failed) {
    while (p.init_index < p.inits.size()) {
      CtrRt& c = *p.inits[p.init_index];
      if (c.done && c.exit_code == 0) {
        ++p.init_index;
        continue;
      }
      if (runnable(c)) StartContainer(p, c);
      break;
    }
    if (p.init_index == p.inits.size()) {
      p.initialized = true;
      for (auto& c : p.ctrs) c->state = {{"waiting", {{"reason", "ContainerCreating"}}}};
    }
  }
  if (p.initialized) {
    for (auto& c : p.ctrs) {
      if (runnable(*c)) StartContainer(p, *c);
      RunProbes(p, *c);
    }
  }
  WriteStatus(p);
}

json Kubelet::BuildStatus(PodRt& p) {
  json status = json::object();
  bool all_done = !p.ctrs.empty();
  bool all_ok = true, any_started = false;
  for (auto& c : p.ctrs) {
    all_done = all_done && c->done;
    all_ok = all_ok && c->exit_code == 0;
    any_started = any_started || c->ever_started;
  }
  std::string phase = "Pending";
  if (p.init_failed) {
    phase = "Failed";
  } else if (p.initialized && all_done) {
    phase = all_ok ? "Succeeded" : "Failed";
  } else if (p.initialized && any_started) {
    phase = "Running";
  }
  status["phase"] = phase;
  auto cond = [&](const std::string& type, bool value, const std::string& reason,
                  const std::string& message) {
    std::string v = value ? "True" : "False";
    auto& t = p.cond_times[type];
    if (t.first != v) t = {v, NowRfc3339()};
    json c = {{"type", type},
              {"status", v},
              {"lastProbeTime", nullptr},
              {"lastTransitionTime", t.second}};
    if (!reason.empty()) c["reason"] = reason;
    if (!message.empty()) c["message"] = message;
    return c;
  };
  std::vector<std::string> unready, uninit;
  for (auto& c : p.ctrs)
    if (!c->Ready()) unready.push_back(c->name);
  for (size_t i = p.init_index; i < p.inits.size() && !p.initialized; ++i)
    uninit.push_back(p.inits[i]->name);
  auto list = [](const std::vector<std::string>& v) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + v[i];
    return out + "]";
  };
  json conds = json::array();
  conds.push_back(cond("PodReadyToStartContainers", p.setup_done, "", ""));
  conds.push_back(cond("Initialized", p.initialized,
                       p.initialized ? "" : "ContainersNotInitialized",
                       p.initialized ? "" : "containers with incomplete status: " + list(uninit)));
  bool ready = unready.empty() && phase == "Running";
  std::string why =
      phase == "Succeeded" || phase == "Failed" ? "PodCompleted" : "ContainersNotReady";
  std::string msg = why == "PodCompleted" ? "" : "containers with unready status: " + list(unready);
  conds.push_back(cond("Ready", ready, ready ? "" : why, ready ? "" : msg));
  conds.push_back(cond("ContainersReady", ready, ready ? "" : why, ready ? "" : msg));
  // PodScheduled belongs to the scheduler.
  const json& api_conds = JsonField(p.pod, {"status", "conditions"});
  if (api_conds.is_array())
    for (const auto& c : api_conds)
      if (c.value("type", "") == "PodScheduled") conds.push_back(c);
  status["conditions"] = conds;
  status["hostIP"] = p.host_ip;
  status["hostIPs"] = json::array({{{"ip", p.host_ip}}});
  if (!p.ip.empty()) {
    status["podIP"] = p.ip;
    status["podIPs"] = json::array({{{"ip", p.ip}}});
  }
  status["startTime"] = p.start_time;
  status["qosClass"] = "BestEffort";
  auto render = [&](const std::vector<std::unique_ptr<CtrRt>>& cs) {
    json out = json::array();
    for (auto& c : cs) {
      json s = {{"name", c->name},
                {"state", c->state},
                {"lastState", c->last_state},
                {"ready", c->Ready()},
                {"restartCount", c->restart_count},
                {"image", c->spec.value("image", "")},
                {"imageID", ""},
                {"started", c->pid > 0 && c->started}};
      if (!c->container_id.empty()) s["containerID"] = c->container_id;
      out.push_back(s);
    }
    return out;
  };
  if (!p.inits.empty()) status["initContainerStatuses"] = render(p.inits);
  status["containerStatuses"] = render(p.ctrs);
  return status;
}

void Kubelet::WriteStatus(PodRt& p) {
  json status = BuildStatus(p);
  if (status == p.last_status) return;
  TypePtr pt = cluster_.FindType("", "v1", "pods");
  auto cur = cluster_.Get(*pt, p.ns, p.name);
  if (!cur.ok() || Str(JsonField(cur.value(), {"metadata", "uid"})) != p.uid) return;
  json obj = cur.value();
  obj["status"] = status;
  obj["metadata"].erase("resourceVersion");
  WriteContext ctx;
  ctx.field_manager = kComponent;
  if (cluster_.Update(*pt, p.ns, p.name, obj, ctx, "status").ok()) {
    p.last_status = status;
    p.pod["status"] = status;
  }
}

void Kubelet::UpdateNetworking(const std::vector<json>& pods, const std::vector<json>& services) {
  std::map<std::string, std::vector<std::string>> table;
  for (const auto& svc : services) {
    const json& spec = svc.value("spec", json::object());
    std::string ip = Str(spec.value("clusterIP", json("")));
    if (ip.empty() || ip == "None" || ip.rfind("127.", 0) != 0) continue;
    std::string ns = Str(JsonField(svc, {"metadata", "namespace"}));
    const json& selector = spec.value("selector", json());
    for (const auto& port : spec.value("ports", json::array())) {
      if (port.value("protocol", "TCP") != "TCP") continue;
      std::string frontend = ip + ":" + std::to_string(port.value("port", 0));
      auto& backends = table[frontend];
      if (!selector.is_object() || selector.empty()) continue;
      for (const auto& pod : pods) {
        if (Str(JsonField(pod, {"metadata", "namespace"})) != ns) continue;
        if (!JsonField(pod, {"metadata", "deletionTimestamp"}).is_null()) continue;
        std::string pip = Str(JsonField(pod, {"status", "podIP"}));
        if (pip.empty() || !PodReadyCondition(pod)) continue;
        if (!Selector::FromLabelSelector(json{{"matchLabels", selector}}).Matches(pod)) continue;
        int target = ResolveTargetPort(port.value("targetPort", port.value("port", json(0))), pod);
        if (target > 0) backends.push_back(pip + ":" + std::to_string(target));
      }
    }
  }
  impl_->proxy.Update(table);
  for (auto& [uid, p] : pods_) {
    if (!p->setup_done || p->terminating) continue;
    std::string hosts = HostsFile(*p, pods, services);
    if (hosts == p->hosts) continue;
    // In place: the file is bind-mounted, so a rename would leave containers on the old one.
    std::ofstream(p->dir + "/etc-hosts", std::ios::in | std::ios::out | std::ios::trunc) << hosts;
    p->hosts = hosts;
  }
}

std::string Kubelet::HostsFile(const PodRt& p, const std::vector<json>& pods,
                               const std::vector<json>& services) const {
  std::string out =
      "# Kubernetes-managed hosts file (shardwise kube-sim).\n127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n";
  std::string hostname = Str(JsonField(p.pod, {"spec", "hostname"}));
  if (hostname.empty()) hostname = p.name;
  std::string subdomain = Str(JsonField(p.pod, {"spec", "subdomain"}));
  if (!subdomain.empty()) {
    out += p.ip + "\t" + hostname + "." + subdomain + "." + p.ns + ".svc.cluster.local\t" +
           hostname + "\n";
  } else {
    out += p.ip + "\t" + hostname + "\n";
  }
  out +=
      "127.0.0.1\tkubernetes.default.svc.cluster.local kubernetes.default.svc kubernetes.default";
  out += p.ns == "default" ? " kubernetes\n" : "\n";
  auto names = [&](const std::string& svc, const std::string& ns) {
    std::string n =
        svc + "." + ns + ".svc.cluster.local " + svc + "." + ns + ".svc " + svc + "." + ns;
    if (ns == p.ns) n += " " + svc;
    return n;
  };
  for (const auto& svc : services) {
    std::string name = Str(JsonField(svc, {"metadata", "name"}));
    std::string ns = Str(JsonField(svc, {"metadata", "namespace"}));
    if (ns == "default" && name == "kubernetes") continue;
    std::string ip = Str(JsonField(svc, {"spec", "clusterIP"}));
    if (ip.empty()) continue;
    if (ip != "None") {
      out += ip + "\t" + names(name, ns) + "\n";
      continue;
    }
    // Headless: the Service name resolves to its ready pods; each pod with this Service as
    // subdomain gets <hostname>.<service> names.
    const json& selector = JsonField(svc, {"spec", "selector"});
    for (const auto& pod : pods) {
      if (Str(JsonField(pod, {"metadata", "namespace"})) != ns) continue;
      std::string pip = Str(JsonField(pod, {"status", "podIP"}));
      if (pip.empty() || !JsonField(pod, {"metadata", "deletionTimestamp"}).is_null()) continue;
      if (selector.is_object() && !selector.empty() && PodReadyCondition(pod) &&
          Selector::FromLabelSelector(json{{"matchLabels", selector}}).Matches(pod))
        out += pip + "\t" + names(name, ns) + "\n";
      if (Str(JsonField(pod, {"spec", "subdomain"})) == name) {
        std::string h = Str(JsonField(pod, {"spec", "hostname"}));
        if (h.empty()) h = Str(JsonField(pod, {"metadata", "name"}));
        out += pip + "\t" + names(h + "." + name, ns) + "\n";
      }
    }
  }
  return out;
}

void Kubelet::Event(const PodRt& p, const std::string& type, const std::string& reason,
                    const std::string& message, const std::string& container) {
  RecordPodEvent(cluster_, p.pod, type, reason, message, kComponent,
                 container.empty() ? "" : "spec.containers{" + container + "}");
}

void Kubelet::ServeLog(const http::Request& req, http::ResponseWriter& w, const std::string& ns,
                       const std::string& name) {
  auto bad = [&](const std::string& msg) {
    json st = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
               {"status", "Failure"}, {"message", msg},     {"reason", "BadRequest"},
               {"code", 400}};
    w.Send(http::Response::Json(400, st.dump()));
  };
  TypePtr pt = cluster_.FindType("", "v1", "pods");
  auto api_pod = cluster_.Get(*pt, ns, name);
  if (!api_pod.ok()) {
    json st = {{"kind", "Status"},
               {"apiVersion", "v1"},
               {"metadata", json::object()},
               {"status", "Failure"},
               {"message", "pods \"" + name + "\" not found"},
               {"reason", "NotFound"},
               {"details", {{"name", name}, {"kind", "pods"}}},
               {"code", 404}};
    return w.Send(http::Response::Json(404, st.dump()));
  }
  const json& pod = api_pod.value();
  std::string container = req.Param("container");
  const json& ctrs = JsonField(pod, {"spec", "containers"});
  if (container.empty()) {
    if (ctrs.is_array() && ctrs.size() == 1) {
      container = ctrs[0].value("name", "");
    } else {
      std::string names;
      if (ctrs.is_array())
        for (const auto& c : ctrs) names += (names.empty() ? "" : " ") + c.value("name", "");
      return bad("a container name must be specified for pod " + name + ", choose one of: [" +
                 names + "]");
    }
  }
  bool previous = req.Param("previous") == "true";
  LogOptions opts;
  opts.follow = req.Param("follow") == "true";
  opts.timestamps = req.Param("timestamps") == "true";
  try {
    if (!req.Param("tailLines").empty()) opts.tail_lines = std::stoll(req.Param("tailLines"));
    if (!req.Param("limitBytes").empty()) opts.limit_bytes = std::stoll(req.Param("limitBytes"));
    if (!req.Param("sinceSeconds").empty())
      opts.since = std::chrono::system_clock::now() -
                   std::chrono::seconds(std::stoll(req.Param("sinceSeconds")));
  } catch (...) {
    return bad("invalid log options");
  }
  if (!req.Param("sinceTime").empty()) {
    auto t = ParseRfc3339Nano(req.Param("sinceTime"));
    if (!t) return bad("invalid sinceTime");
    opts.since = *t;
  }
  std::shared_ptr<LogCapture> capture;
  std::string waiting_reason = "ContainerCreating";
  {
    std::lock_guard<std::mutex> lock(mu_);
    PodRt* p = nullptr;
    auto it = pods_.find(Str(JsonField(pod, {"metadata", "uid"})));
    if (it != pods_.end()) p = it->second.get();
    CtrRt* c = p ? p->Find(container) : nullptr;
    bool known = false;
    for (const char* list : {"containers", "initContainers"}) {
      const json& cs = JsonField(pod, {"spec", list});
      if (cs.is_array())
        for (const auto& x : cs) known = known || x.value("name", "") == container;
    }
    if (!known) return bad("container " + container + " is not valid for pod " + name);
    if (c) {
      if (c->state.contains("waiting"))
        waiting_reason = Str(c->state["waiting"].value("reason", json("")));
      int instance = previous ? c->restart_count - 1 : c->restart_count;
      auto l = c->logs.find(instance);
      if (l != c->logs.end() && (previous || c->ever_started)) capture = l->second;
    }
  }
  if (!capture) {
    if (previous)
      return bad("previous terminated container \"" + container + "\" in pod \"" + name +
                 "\" not found");
    return bad("container \"" + container + "\" in pod \"" + name +
               "\" is waiting to start: " + waiting_reason);
  }
  if (!opts.follow) {
    std::string body;
    ReadLogs(
        capture->path(), opts,
        [&](const std::string& s) {
          body += s;
          return true;
        },
        [] { return true; }, [] { return false; });
    return w.Send(http::Response::Text(200, body));
  }
  if (!w.BeginStream(200, {{"Content-Type", "text/plain"}})) return;
  ReadLogs(
      capture->path(), opts, [&](const std::string& s) { return w.Write(s); },
      [&] { return capture->done(); }, [&] { return stop_.load() || w.ClientGone(); });
  w.End();
}

}  // namespace shardwise::kubesim
