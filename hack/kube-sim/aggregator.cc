#include "hack/kube-sim/aggregator.h"

#include <deque>
#include <optional>
#include <set>

#include "common/base64.h"
#include "common/log/log.h"
#include "hack/kube-sim/api_server.h"
#include "hack/kube-sim/time_util.h"
#include "hack/kube-sim/url_path.h"

namespace shardwise::kubesim {
namespace {

constexpr char kApiServices[] = "apiregistration.k8s.io/apiservices";

std::string EncodePath(const std::string& path) {
  std::string out;
  for (const auto& seg : SplitPath(path)) out += "/" + http::PercentEncode(seg);
  return out.empty() ? "/" : out;
}

std::string Str(const json& o, const char* k) {
  if (!o.is_object()) return "";
  auto it = o.find(k);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

bool IsHopHeader(const std::string& name) {
  std::string n = name;
  for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n == "authorization" || n == "host" || n == "connection" || n == "content-length" ||
         n == "transfer-encoding" || n == "keep-alive" || n == "upgrade" || n == "expect" ||
         n.rfind("impersonate-", 0) == 0 || n.rfind("x-remote-", 0) == 0;
}

json Unavailable(const std::string& message) {
  return ApiError(503, "ServiceUnavailable", message).ToStatus();
}

// Relays one proxied response: the client's callbacks (on its loop thread) queue what
// arrives; the connection's thread writes it out.
struct Relay {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<std::pair<int, http::Headers>> head;
  std::deque<std::string> chunks;
  std::optional<Result<http::ClientResponse>> done;
};

}  // namespace

Aggregator::Aggregator(Cluster& cluster, AggregatorOptions options)
    : cluster_(cluster), options_(std::move(options)) {}

Aggregator::~Aggregator() { Stop(); }

void Aggregator::Start() {
  PublishAuthConfigMap();
  thread_ = std::thread([this] { Loop(); });
}

void Aggregator::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Aggregator::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    CheckNow();
    lock.lock();
    cv_.wait_for(lock, options_.check_interval, [&] { return stopping_; });
  }
}

void Aggregator::PublishAuthConfigMap() {
  TypePtr t = cluster_.FindType("", "v1", "configmaps");
  json data = {{"client-ca-file", options_.client_ca_pem},
               {"requestheader-allowed-names", "[\"front-proxy-client\"]"},
               {"requestheader-client-ca-file", options_.front_proxy_ca_pem},
               {"requestheader-extra-headers-prefix", "[\"X-Remote-Extra-\"]"},
               {"requestheader-group-headers", "[\"X-Remote-Group\"]"},
               {"requestheader-username-headers", "[\"X-Remote-User\"]"}};
  auto current = cluster_.Get(*t, "kube-system", "extension-apiserver-authentication");
  if (current.ok() && current.value().value("data", json()) == data) return;
  WriteContext ctx;
  ctx.field_manager = "kube-apiserver";
  if (current.ok()) {
    json cm = current.value();
    cm["data"] = data;
    cluster_.Update(*t, "kube-system", "extension-apiserver-authentication", cm, ctx);
  } else {
    cluster_.Create(*t, "kube-system",
                    {{"apiVersion", "v1"},
                     {"kind", "ConfigMap"},
                     {"metadata", {{"name", "extension-apiserver-authentication"}}},
                     {"data", data}},
                    ctx);
  }
}

std::optional<json> Aggregator::FindApiService(const std::string& group,
                                               const std::string& version) {
  return cluster_.store().Transact([&](ObjectStore::Txn& txn) -> std::optional<json> {
    const json* a = txn.Get(kApiServices, "", version + "." + group);
    if (!a) return std::nullopt;
    return *a;
  });
}

Result<Aggregator::Backend> Aggregator::Resolve(const json& apiservice, Condition* why) {
  const json& spec = apiservice.value("spec", json::object());
  const json& svc_ref = spec.value("service", json());
  std::string ns = Str(svc_ref, "namespace"), name = Str(svc_ref, "name");
  int port =
      svc_ref.value("port", json(443)).is_number_integer() ? svc_ref.value("port", 443) : 443;
  auto fail = [&](const char* reason, std::string message) -> Result<Backend> {
    *why = {false, reason, message};
    return Status::Unavailable(message);
  };
  TypePtr svc_type = cluster_.FindType("", "v1", "services");
  auto svc = cluster_.Get(*svc_type, ns, name);
  if (!svc.ok())
    return fail("ServiceNotFound", "service/" + name + " in \"" + ns + "\" is not present");
  std::optional<json> sport;
  const json ports = svc.value().value("spec", json::object()).value("ports", json::array());
  for (const auto& p : ports)
    if (p.is_object() && p.value("port", json()) == port) sport = p;
  if (!sport)
    return fail("ServicePortError", "service/" + name + " in \"" + ns +
                                        "\" is not listening on port " + std::to_string(port));
  std::string port_name = Str(*sport, "name");
  std::string ip;
  int target = 0;
  // Endpoints first, then EndpointSlices (whichever the cluster has).
  TypePtr ep_type = cluster_.FindType("", "v1", "endpoints");
  auto eps = cluster_.Get(*ep_type, ns, name);
  if (eps.ok()) {
    for (const auto& subset : eps.value().value("subsets", json::array())) {
      if (!ip.empty()) break;
      const json& addrs = subset.value("addresses", json::array());
      if (!addrs.is_array() || addrs.empty()) continue;
      for (const auto& p : subset.value("ports", json::array()))
        if (Str(p, "name") == port_name && p.value("port", json()).is_number_integer()) {
          ip = Str(addrs[0], "ip");
          target = p["port"].get<int>();
        }
    }
  }
  if (ip.empty()) {
    cluster_.store().Transact([&](ObjectStore::Txn& txn) {
      for (const json* slice : txn.List("discovery.k8s.io/endpointslices", ns)) {
        json labels = slice->value("metadata", json::object()).value("labels", json::object());
        if (!labels.is_object() || labels.value("kubernetes.io/service-name", "") != name) continue;
        int sp = 0;
        for (const auto& p : slice->value("ports", json::array()))
          if (Str(p, "name") == port_name && p.value("port", json()).is_number_integer())
            sp = p["port"].get<int>();
        if (sp == 0) continue;
        for (const auto& e : slice->value("endpoints", json::array())) {
          const json& cond = e.value("conditions", json::object());
          if (cond.is_object() && cond.value("ready", json(true)) == false) continue;
          const json& a = e.value("addresses", json::array());
          if (!a.is_array() || a.empty() || !a[0].is_string()) continue;
          ip = a[0].get<std::string>();
          target = sp;
          return 0;
        }
      }
      return 0;
    });
  }
  if (ip.empty())
    return fail("MissingEndpoints", "endpoints for service/" + name + " in \"" + ns +
                                        "\" have no addresses with port name \"" + port_name +
                                        "\"");
  Backend b;
  b.url = "https://" + (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" +
          std::to_string(target);
  b.tls.server_name = name + "." + ns + ".svc";
  b.tls.insecure_skip_verify = spec.value("insecureSkipTLSVerify", false) == true;
  std::string bundle = Str(spec, "caBundle");
  if (!bundle.empty()) {
    auto pem = Base64Decode(bundle);
    if (pem.ok()) b.tls.ca_pem = pem.value();
  }
  b.tls.cert_pem = options_.front_proxy_client.cert_pem;
  b.tls.key_pem = options_.front_proxy_client.key_pem;
  return b;
}

http::ClientRequest Aggregator::BackendRequest(const Backend& b, const std::string& method,
                                               const std::string& path, const std::string& query,
                                               const UserInfo& user) {
  http::ClientRequest r;
  r.method = method;
  r.url = b.url + EncodePath(path) + (query.empty() ? "" : "?" + query);
  r.tls = b.tls;
  r.headers.emplace_back("X-Remote-User", user.username);
  for (const auto& g : user.groups) r.headers.emplace_back("X-Remote-Group", g);
  for (const auto& [k, values] : user.extra)
    for (const auto& v : values)
      r.headers.emplace_back("X-Remote-Extra-" + http::PercentEncode(k), v);
  return r;
}

bool Aggregator::Serve(const http::Request& req, const UserInfo& user, http::ResponseWriter& w) {
  std::vector<std::string> seg = SplitPath(req.path);
  if (seg.size() < 3 || seg[0] != "apis") return false;
  auto apiservice = FindApiService(seg[1], seg[2]);
  if (!apiservice) return false;
  const json& svc = apiservice->value("spec", json::object()).value("service", json());
  if (!svc.is_object()) return false;  // Local: served by the simulator itself
  std::string name = Str(apiservice->value("metadata", json::object()), "name");
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = available_.find(name);
    if (it != available_.end() && !it->second) {
      SendApiObject(w, 503, Unavailable("service unavailable"));
      return true;
    }
  }
  Condition why;
  auto backend = Resolve(*apiservice, &why);
  if (!backend.ok()) {
    SendApiObject(w, 503, Unavailable("service unavailable"));
    return true;
  }
  http::ClientRequest out = BackendRequest(backend.value(), req.method, req.path, req.query, user);
  for (const auto& [k, v] : req.headers)
    if (!IsHopHeader(k)) out.headers.emplace_back(k, v);
  out.body = req.body;
  bool watch =
      req.Param("watch") == "true" || req.Param("watch") == "1" || req.Param("follow") == "true";
  out.timeout = watch ? std::chrono::milliseconds(0) : std::chrono::milliseconds(60000);

  auto filter = [](const http::Headers& in) {
    http::Headers h;
    for (const auto& [k, v] : in)
      if (!IsHopHeader(k)) h.emplace_back(k, v);
    return h;
  };
  if (!watch) {
    auto resp = client_.DoSync(std::move(out));
    if (!resp.ok()) {
      log::Warn("aggregated API backend failed",
                {{"apiservice", name}, {"error", resp.status().message()}});
      SendApiObject(w, 503,
                    Unavailable("error trying to reach service: " + resp.status().message()));
      return true;
    }
    http::Response r;
    r.status = resp.value().status;
    r.headers = filter(resp.value().headers);
    r.body = std::move(resp.value().body);
    w.Send(std::move(r));
    return true;
  }
  // A watch: relayed as it arrives. The client reports the status only at the end, so a
  // stream that sends data is taken as 200 (a failing watch answers at once, without data).
  auto relay = std::make_shared<Relay>();
  auto id = client_.DoStream(
      std::move(out),
      [relay](std::string_view data) {
        std::lock_guard<std::mutex> lock(relay->mu);
        if (!relay->head)
          relay->head.emplace(200, http::Headers{{"Content-Type", "application/json"}});
        relay->chunks.emplace_back(data);
        relay->cv.notify_all();
        return true;
      },
      [relay](Result<http::ClientResponse> r) {
        std::lock_guard<std::mutex> lock(relay->mu);
        relay->done.emplace(std::move(r));
        relay->cv.notify_all();
      });
  bool started = false;
  std::unique_lock<std::mutex> lock(relay->mu);
  while (true) {
    relay->cv.wait_for(lock, std::chrono::milliseconds(200), [&] {
      return relay->done.has_value() || !relay->chunks.empty() ||
             (!started && relay->head.has_value());
    });
    if (!started && relay->head) {
      auto [status, headers] = *relay->head;
      lock.unlock();
      started = true;
      bool ok = w.BeginStream(status, filter(headers));
      lock.lock();
      if (!ok) break;
    }
    while (started && !relay->chunks.empty()) {
      std::string chunk = std::move(relay->chunks.front());
      relay->chunks.pop_front();
      lock.unlock();
      bool ok = w.Write(chunk);
      lock.lock();
      if (!ok) {
        relay->done.emplace(Status::Aborted("client gone"));
        break;
      }
    }
    if (relay->done && relay->chunks.empty()) break;
    if (w.ClientGone()) break;
  }
  bool finished = relay->done.has_value();
  std::optional<Result<http::ClientResponse>> result = relay->done;
  lock.unlock();
  if (!finished) {
    client_.Cancel(id);
    lock.lock();
    relay->cv.wait(lock, [&] { return relay->done.has_value(); });
    lock.unlock();
  }
  if (started) {
    w.End();
    return true;
  }
  if (result && result->ok()) {
    // No data: the status and headers came with `done`.
    http::Response resp;
    resp.status = result->value().status;
    resp.headers = filter(result->value().headers);
    w.Send(std::move(resp));
    return true;
  }
  std::string err = result ? result->status().message() : "aborted";
  log::Warn("aggregated API backend failed", {{"apiservice", name}, {"error", err}});
  SendApiObject(w, 503, Unavailable("error trying to reach service: " + err));
  return true;
}

Result<std::pair<int, std::string>> Aggregator::Get(const std::string& path_and_query) {
  size_t q = path_and_query.find('?');
  std::string path = path_and_query.substr(0, q);
  std::string query = q == std::string::npos ? "" : path_and_query.substr(q + 1);
  std::vector<std::string> seg = SplitPath(path);
  if (seg.size() < 3 || seg[0] != "apis") return Status::InvalidArgument("not an /apis path");
  auto apiservice = FindApiService(seg[1], seg[2]);
  if (!apiservice) return Status::NotFound("no APIService for " + seg[1] + "/" + seg[2]);
  Condition why;
  auto backend = Resolve(*apiservice, &why);
  if (!backend.ok()) return backend.status();
  UserInfo hpa;
  hpa.username = "system:serviceaccount:kube-system:horizontal-pod-autoscaler";
  hpa.groups = ServiceAccountGroups("kube-system");
  http::ClientRequest r =
      BackendRequest(backend.value(), "GET", http::PercentDecode(path), query, hpa);
  r.headers.emplace_back("Accept", "application/json");
  auto resp = client_.DoSync(r);
  if (!resp.ok()) return resp.status();
  return std::make_pair(resp.value().status, resp.value().body);
}

std::vector<json> Aggregator::DiscoveryEntries() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<json> out;
  for (const auto& [gv, resources] : discovery_) {
    size_t slash = gv.find('/');
    out.push_back({{"group", gv.substr(0, slash)},
                   {"version", gv.substr(slash + 1)},
                   {"resources", resources}});
  }
  return out;
}

void Aggregator::CheckNow() {
  PublishAuthConfigMap();
  std::vector<json> services;
  cluster_.store().Transact([&](ObjectStore::Txn& txn) {
    for (const json* a : txn.List(kApiServices, "")) services.push_back(*a);
    return 0;
  });
  std::set<std::string> names;
  for (const auto& a : services) {
    names.insert(Str(a.value("metadata", json::object()), "name"));
    CheckOne(a);
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = available_.begin(); it != available_.end();)
    it = names.count(it->first) ? std::next(it) : available_.erase(it);
  // Discovery keeps only group-versions of APIServices that still exist.
  for (auto it = discovery_.begin(); it != discovery_.end();) {
    size_t slash = it->first.find('/');
    std::string name = it->first.substr(slash + 1) + "." + it->first.substr(0, slash);
    it = names.count(name) && available_[name] ? std::next(it) : discovery_.erase(it);
  }
}

void Aggregator::CheckOne(const json& apiservice) {
  const json& spec = apiservice.value("spec", json::object());
  std::string name = Str(apiservice.value("metadata", json::object()), "name");
  std::string group = Str(spec, "group"), version = Str(spec, "version");
  Condition c;
  if (!spec.value("service", json()).is_object()) {
    c = {true, "Local", "Local APIServices are always available"};
  } else if (auto backend = Resolve(apiservice, &c); backend.ok()) {
    UserInfo self;
    self.username = "system:kube-aggregator";
    self.groups = {kSystemMasters, kAuthenticated};
    http::ClientRequest r =
        BackendRequest(backend.value(), "GET", "/apis/" + group + "/" + version, "", self);
    r.headers.emplace_back("Accept", "application/json");
    r.timeout = std::chrono::milliseconds(5000);
    auto resp = client_.DoSync(r);
    std::string url = backend.value().url + "/apis/" + group + "/" + version;
    if (!resp.ok()) {
      c = {false, "FailedDiscoveryCheck",
           "failing or missing response from " + url + ": " + resp.status().message()};
    } else if (resp.value().status / 100 != 2) {
      c = {false, "FailedDiscoveryCheck",
           "failing or missing response from " + url + ": bad status from " + url + ": " +
               std::to_string(resp.value().status)};
    } else {
      c = {true, "Passed", "all checks passed"};
      json doc = json::parse(resp.value().body, nullptr, false);
      std::lock_guard<std::mutex> lock(mu_);
      discovery_[group + "/" + version] =
          doc.is_object() && doc.contains("resources") ? doc["resources"] : json::array();
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    available_[name] = c.available;
  }
  SetCondition(apiservice, c);
}

void Aggregator::SetCondition(const json& apiservice, const Condition& c) {
  std::string name = Str(apiservice.value("metadata", json::object()), "name");
  json conditions = apiservice.value("status", json::object()).value("conditions", json::array());
  if (!conditions.is_array()) conditions = json::array();
  std::string status = c.available ? "True" : "False";
  json* existing = nullptr;
  for (auto& cond : conditions)
    if (cond.is_object() && cond.value("type", "") == "Available") existing = &cond;
  if (existing && existing->value("status", "") == status &&
      existing->value("reason", "") == c.reason && existing->value("message", "") == c.message)
    return;
  json cond = {{"type", "Available"},
               {"status", status},
               {"reason", c.reason},
               {"message", c.message},
               {"lastTransitionTime", existing && existing->value("status", "") == status
                                          ? existing->value("lastTransitionTime", NowRfc3339())
                                          : NowRfc3339()}};
  if (existing) {
    *existing = cond;
  } else {
    conditions.push_back(cond);
  }
  json updated = apiservice;
  updated["status"] = {{"conditions", conditions}};
  TypePtr t = cluster_.FindType("apiregistration.k8s.io", "v1", "apiservices");
  WriteContext ctx;
  ctx.field_manager = "kube-apiserver";
  auto r = cluster_.Update(*t, "", name, updated, ctx, "status");
  if (!r.ok())
    log::Debug("APIService status update failed", {{"name", name}, {"error", r.error().message()}});
}

}  // namespace shardwise::kubesim
