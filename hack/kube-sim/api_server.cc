#include "hack/kube-sim/api_server.h"

#include <yaml-cpp/yaml.h>

#include "common/log/log.h"
#include "hack/kube-sim/auth/request_info.h"
#include "hack/kube-sim/discovery.h"
#include "hack/kube-sim/table.h"
#include "hack/kube-sim/url_path.h"

namespace shardwise::kubesim {
namespace {

constexpr char kV2Discovery[] =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
constexpr char kV2Beta1Discovery[] =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void SendJson(http::ResponseWriter& w, int code, const json& body,
              const std::vector<std::string>& warnings = {},
              const std::string& content_type = "application/json") {
  http::Response r;
  r.status = code;
  r.body = body.dump();
  r.headers.emplace_back("Content-Type", content_type);
  r.headers.emplace_back("Cache-Control", "no-cache, private");
  for (const auto& warning : warnings) r.headers.emplace_back("Warning", "299 - " + Quote(warning));
  w.Send(std::move(r));
}

void SendError(http::ResponseWriter& w, const ApiError& e) { SendJson(w, e.code(), e.ToStatus()); }

json YamlToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& e : n) a.push_back(YamlToJson(e));
      return a;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted
      if (s == "true" || s == "True") return true;
      if (s == "false" || s == "False") return false;
      if (s == "null" || s == "~" || s.empty()) return nullptr;
      json num = json::parse(s, nullptr, false);
      if (!num.is_discarded() && num.is_number()) return num;
      return s;
    }
    default:
      return nullptr;
  }
}

ApiResult<json> ParseBodyImpl(const http::Request& req) {
  std::string_view ct = req.Header("Content-Type");
  if (ct.find("protobuf") != std::string_view::npos || ct.find("cbor") != std::string_view::npos) {
    return ApiError::UnsupportedMediaType(
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json, application/yaml");
  }
  if (req.body.empty()) return json();
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_discarded()) return body;
  try {
    return YamlToJson(YAML::Load(req.body));
  } catch (const std::exception& e) {
    return ApiError::BadRequest(std::string("the body of the request could not be decoded: ") +
                                e.what());
  }
}

bool Truthy(const std::string& v) { return v == "true" || v == "1"; }

ApiResult<ListOptions> ParseListOptions(const http::Request& req, const ResourceType& t) {
  ListOptions o;
  auto labels = Selector::ParseLabels(req.Param("labelSelector"));
  if (!labels.ok()) return labels.error();
  o.labels = labels.value();
  auto fields = Selector::ParseFields(req.Param("fieldSelector"));
  if (!fields.ok()) return fields.error();
  o.fields = fields.value();
  if (ApiError e = CheckFieldLabels(o.fields, t.group, t.kind, t.builtin); !e.ok()) return e;
  std::string limit = req.Param("limit");
  if (!limit.empty()) o.limit = std::atol(limit.c_str());
  o.continue_token = req.Param("continue");
  o.resource_version = req.Param("resourceVersion");
  o.resource_version_match = req.Param("resourceVersionMatch");
  return o;
}

WriteContext ContextFrom(const http::Request& req) {
  WriteContext ctx;
  ctx.field_manager = req.Param("fieldManager");
  ctx.user_agent = std::string(req.Header("User-Agent"));
  std::string fv = req.Param("fieldValidation");
  if (fv == "Strict" || fv == "Ignore" || fv == "Warn") ctx.field_validation = fv;
  ctx.dry_run = req.Param("dryRun") == "All";
  ctx.force = Truthy(req.Param("force"));
  return ctx;
}

std::optional<PatchType> PatchTypeOfImpl(std::string_view ct) {
  if (ct.find("application/merge-patch+json") == 0) return PatchType::kMerge;
  if (ct.find("application/json-patch+json") == 0) return PatchType::kJson;
  if (ct.find("application/strategic-merge-patch+json") == 0) return PatchType::kStrategic;
  if (ct.find("application/apply-patch+yaml") == 0 || ct.find("application/apply-patch+json") == 0)
    return PatchType::kApply;
  return std::nullopt;
}

}  // namespace

ApiResult<json> ParseBody(const http::Request& req) { return ParseBodyImpl(req); }

std::optional<PatchType> PatchTypeOf(std::string_view content_type) {
  return PatchTypeOfImpl(content_type);
}

struct ApiServer::Route {
  std::string group, version, ns, plural, name, subresource;
};

ApiServer::ApiServer(Cluster& cluster, ApiServerOptions options)
    : cluster_(cluster), options_(std::move(options)) {}

void ApiServer::Register(http::Server& server) {
  server.Handle("/", [this](const http::Request& req, http::ResponseWriter& w) { Handle(req, w); });
}

void ApiServer::Shutdown() { shutting_down_ = true; }

void SendApiObject(http::ResponseWriter& w, int code, const json& body) { SendJson(w, code, body); }

void SendApiError(http::ResponseWriter& w, const ApiError& e) { SendError(w, e); }

void ApiServer::Handle(const http::Request& req, http::ResponseWriter& w) {
  UserInfo user{"system:unsecured", "", {kSystemMasters, kAuthenticated}, {}};
  if (options_.authenticate) {
    auto who = options_.authenticate(req);
    if (!who.ok()) return SendError(w, who.error());
    user = std::move(who.value());
  }
  log::Debug(
      "request",
      {{"method", req.method}, {"path", req.path}, {"query", req.query}, {"user", user.username}});
  if (options_.authorize) {
    Attributes attrs = RequestAttributes(req, user);
    Decision d = options_.authorize(attrs);
    if (!d.allowed) return SendError(w, Forbidden(attrs, d.reason));
  }
  for (const auto& handler : options_.handlers)
    if (handler(req, user, w)) return;
  const std::vector<std::string> seg = SplitPath(req.path);
  const std::string_view accept = req.Header("Accept");
  auto types = cluster_.Types();

  if (seg.empty()) {
    return SendJson(w, 200, {{"paths", {"/api", "/apis", "/version", "/openapi/v3", "/healthz"}}});
  }
  if (seg[0] == "healthz" || seg[0] == "livez" || seg[0] == "readyz") {
    // kube-apiserver's checks: "?verbose" lists them ("kubectl get --raw '/readyz?verbose'"),
    // "/readyz/<check>" answers one.
    std::vector<std::string> checks = {"ping", "log", "etcd"};
    if (seg[0] == "readyz") {
      checks.push_back("informer-sync");
      checks.push_back("shutdown");
    }
    if (seg.size() == 2) {
      if (std::find(checks.begin(), checks.end(), seg[1]) == checks.end())
        return SendError(w, ApiError::PathNotFound());
      return w.Send(http::Response::Text(200, "ok"));
    }
    std::string body = "ok";
    if (req.query.find("verbose") != std::string::npos) {
      body.clear();
      for (const auto& check : checks) body += "[+]" + check + " ok\n";
      body += seg[0] + " check passed\n";
    }
    return w.Send(http::Response::Text(200, body));
  }
  if (seg[0] == "version" && seg.size() == 1) return SendJson(w, 200, VersionInfo());
  if (seg[0] == "openapi") {
    if (seg.size() >= 2 && seg[1] == "v3") {
      if (seg.size() == 2) return SendJson(w, 200, OpenApiV3Index(types));
      json doc;
      if (seg.size() == 4 && seg[2] == "api") doc = OpenApiV3GroupVersion(types, "", seg[3]);
      if (seg.size() == 5 && seg[2] == "apis") doc = OpenApiV3GroupVersion(types, seg[3], seg[4]);
      if (!doc.is_null()) return SendJson(w, 200, doc);
    }
    return SendError(w, ApiError::PathNotFound());
  }
  bool core = seg[0] == "api";
  if (!core && seg[0] != "apis") return SendError(w, ApiError::PathNotFound());

  // Discovery.
  if (seg.size() == 1) {
    std::string v;
    if (!options_.aggregated_discovery) {
      // Legacy only.
    } else if (accept.find("v=v2;as=APIGroupDiscoveryList") != std::string_view::npos) {
      v = "v2";
    } else if (accept.find("v=v2beta1;as=APIGroupDiscoveryList") != std::string_view::npos) {
      v = "v2beta1";
    }
    std::vector<json> extra;
    if (!core && options_.extra_discovery) extra = options_.extra_discovery();
    if (!v.empty()) {
      json doc = AggregatedDiscovery(types, core, v);
      for (const auto& e : extra) doc["items"].push_back(AggregatedGroupEntry(e));
      return SendJson(w, 200, doc, {}, v == "v2" ? kV2Discovery : kV2Beta1Discovery);
    }
    if (core) {
      std::string host(req.Header("Host"));
      return SendJson(w, 200, LegacyApiVersions(host.empty() ? "127.0.0.1" : host));
    }
    json doc = LegacyGroupList(types);
    for (const auto& e : extra) doc["groups"].push_back(LegacyGroupEntry(e));
    return SendJson(w, 200, doc);
  }
  Route route;
  size_t rest;
  if (core) {
    route.version = seg[1];
    rest = 2;
  } else {
    route.group = seg[1];
    if (seg.size() == 2) {
      json g = LegacyApiGroup(types, route.group);
      return g.is_null() ? SendError(w, ApiError::PathNotFound()) : SendJson(w, 200, g);
    }
    route.version = seg[2];
    rest = 3;
  }
  if (seg.size() == rest) {
    json list = LegacyResourceList(types, route.group, route.version);
    return list.is_null() ? SendError(w, ApiError::PathNotFound()) : SendJson(w, 200, list);
  }
  std::vector<std::string> r(seg.begin() + rest, seg.end());
  if (r[0] == "namespaces" && r.size() >= 3 && r[2] != "status" && r[2] != "finalize") {
    route.ns = r[1];
    r.erase(r.begin(), r.begin() + 2);
  }
  route.plural = r[0];
  if (r.size() >= 2) route.name = r[1];
  if (r.size() >= 3) route.subresource = r[2];
  if (r.size() > 3) return SendError(w, ApiError::PathNotFound());
  HandleResource(req, w, route);
}

void ApiServer::HandleResource(const http::Request& req, http::ResponseWriter& w, Route& route) {
  TypePtr tp = cluster_.FindType(route.group, route.version, route.plural);
  if (!tp) return SendError(w, ApiError::PathNotFound());
  const ResourceType& t = *tp;
  if (!t.namespaced && !route.ns.empty()) return SendError(w, ApiError::PathNotFound());
  const std::string& sub = route.subresource;
  const bool core_pod = t.group.empty() && t.kind == "Pod";
  if (!sub.empty() && !(sub == "status" && t.has_status) && !(sub == "scale" && t.has_scale) &&
      !(sub == "finalize" && t.kind == "Namespace") &&
      !(core_pod && (sub == "log" || sub == "binding"))) {
    return SendError(w, ApiError::PathNotFound());
  }
  const std::string& m = req.method;
  const bool item = !route.name.empty();
  std::string_view accept = req.Header("Accept");

  auto respond_object = [&](const json& obj, int code, const std::vector<std::string>& warnings) {
    if (WantsTable(accept) && obj.value("kind", "") == t.kind) {
      TableOptions to;
      to.include_object =
          req.Param("includeObject").empty() ? "Metadata" : req.Param("includeObject");
      json md = {{"resourceVersion", obj["metadata"].value("resourceVersion", "")}};
      return SendJson(w, code, RenderTable(t, {obj}, md, to), warnings);
    }
    SendJson(w, code, obj, warnings);
  };
  auto respond_write = [&](ApiResult<WriteResult> r, const WriteContext& ctx) {
    if (!r.ok()) return SendError(w, r.error());
    respond_object(r.value().object, r.value().code, ctx.warnings);
  };

  if (core_pod && sub == "log") {
    if (m != "GET") return SendError(w, ApiError::MethodNotAllowed());
    if (!options_.pod_log) return SendError(w, ApiError::PathNotFound());
    return options_.pod_log(req, w, route.ns, route.name);
  }
  if (core_pod && sub == "binding") {
    // The Binding subresource: what the scheduler posts to put a pod on a node.
    if (m != "POST") return SendError(w, ApiError::MethodNotAllowed());
    auto body = ParseBody(req);
    if (!body.ok()) return SendError(w, body.error());
    const json& b = body.value();
    std::string node = b.is_object() ? b.value("target", json::object()).value("name", "") : "";
    if (node.empty())
      return SendError(w, ApiError::BadRequest("Binding.target.name: Required value"));
    auto pod = cluster_.Get(t, route.ns, route.name);
    if (!pod.ok()) return SendError(w, pod.error());
    std::string current = pod.value().value("spec", json::object()).value("nodeName", "");
    if (!current.empty()) {
      return SendError(
          w, ApiError(409, "Conflict",
                      "Operation cannot be fulfilled on pods/binding \"" + route.name + "\": pod " +
                          route.name + " is already assigned to node \"" + current + "\"",
                      json{{"name", route.name}, {"kind", "pods/binding"}}));
    }
    WriteContext ctx = ContextFrom(req);
    auto r = cluster_.Patch(t, route.ns, route.name, PatchType::kMerge,
                            json{{"spec", {{"nodeName", node}}}}, ctx);
    if (!r.ok()) return SendError(w, r.error());
    return SendJson(w, 201,
                    {{"kind", "Status"},
                     {"apiVersion", "v1"},
                     {"metadata", json::object()},
                     {"status", "Success"},
                     {"code", 201}});
  }

  if (m == "GET") {
    if (item) {
      if (sub == "scale") {
        auto s = cluster_.GetScale(t, route.ns, route.name);
        return s.ok() ? SendJson(w, 200, s.value()) : SendError(w, s.error());
      }
      auto obj = cluster_.Get(t, route.ns, route.name);
      if (!obj.ok()) return SendError(w, obj.error());
      return respond_object(obj.value(), 200, {});
    }
    auto opts = ParseListOptions(req, t);
    if (!opts.ok()) return SendError(w, opts.error());
    if (Truthy(req.Param("watch"))) return Watch(req, w, t, route.ns, opts.value());
    auto list = cluster_.List(t, route.ns, opts.value());
    if (!list.ok()) return SendError(w, list.error());
    if (WantsTable(accept)) {
      TableOptions to;
      if (!req.Param("includeObject").empty()) to.include_object = req.Param("includeObject");
      std::vector<json> items(list.value()["items"].begin(), list.value()["items"].end());
      return SendJson(w, 200, RenderTable(t, items, list.value()["metadata"], to));
    }
    return SendJson(w, 200, list.value());
  }

  if (m == "DELETE") {
    DeleteOptions del;
    auto body = ParseBody(req);
    if (body.ok() && body.value().is_object()) {
      const json& b = body.value();
      del.propagation = b.value("propagationPolicy", del.propagation);
      if (b.contains("orphanDependents") && b["orphanDependents"].is_boolean())
        del.propagation = b["orphanDependents"].get<bool>() ? "Orphan" : "Background";
      const json& pre = b.value("preconditions", json::object());
      if (pre.is_object()) {
        del.precondition_uid = pre.value("uid", "");
        del.precondition_rv = pre.value("resourceVersion", "");
      }
      if (b.contains("gracePeriodSeconds") && b["gracePeriodSeconds"].is_number_integer())
        del.grace_period_seconds = b["gracePeriodSeconds"].get<long long>();
      if (b.value("dryRun", json::array()).is_array())
        for (const auto& d : b.value("dryRun", json::array()))
          if (d == "All") del.dry_run = true;
    }
    if (!req.Param("propagationPolicy").empty()) del.propagation = req.Param("propagationPolicy");
    if (req.Param("dryRun") == "All") del.dry_run = true;
    if (!req.Param("gracePeriodSeconds").empty()) {
      try {
        del.grace_period_seconds = std::stoll(req.Param("gracePeriodSeconds"));
      } catch (...) {
        return SendError(w, ApiError::BadRequest("invalid gracePeriodSeconds"));
      }
    }
    if (item) {
      auto r = cluster_.Delete(t, route.ns, route.name, del);
      if (!r.ok()) return SendError(w, r.error());
      return SendJson(w, r.value().code, r.value().object);
    }
    auto opts = ParseListOptions(req, t);
    if (!opts.ok()) return SendError(w, opts.error());
    auto r = cluster_.DeleteCollection(t, route.ns, opts.value(), del);
    return r.ok() ? SendJson(w, 200, r.value()) : SendError(w, r.error());
  }

  auto body = ParseBody(req);
  if (!body.ok()) return SendError(w, body.error());
  WriteContext ctx = ContextFrom(req);

  if (m == "POST" && !item) {
    if (!body.value().is_object())
      return SendError(w, ApiError::BadRequest("the body of the request must be an object"));
    return respond_write(cluster_.Create(t, route.ns, body.value(), ctx), ctx);
  }
  if (m == "PUT" && item) {
    if (sub == "scale")
      return respond_write(cluster_.UpdateScale(t, route.ns, route.name, body.value(), ctx), ctx);
    return respond_write(cluster_.Update(t, route.ns, route.name, body.value(), ctx,
                                         sub == "status" ? "status" : ""),
                         ctx);
  }
  if (m == "PATCH" && item) {
    auto type = PatchTypeOf(req.Header("Content-Type"));
    if (!type) {
      return SendError(
          w, ApiError::UnsupportedMediaType(
                 "the body of the request was in an unknown format - accepted media types "
                 "include: application/json-patch+json, application/merge-patch+json, "
                 "application/apply-patch+yaml"));
    }
    if (sub == "scale") {
      if (*type == PatchType::kApply)
        return SendError(
            w, ApiError::UnsupportedMediaType("apply is not supported on the scale subresource"));
      return respond_write(cluster_.PatchScale(t, route.ns, route.name, *type, body.value(), ctx),
                           ctx);
    }
    return respond_write(cluster_.Patch(t, route.ns, route.name, *type, body.value(), ctx,
                                        sub == "status" ? "status" : ""),
                         ctx);
  }
  SendError(w, ApiError::MethodNotAllowed());
}

void ApiServer::Watch(const http::Request& req, http::ResponseWriter& w, const ResourceType& t,
                      const std::string& ns_in, const ListOptions& opts) {
  const std::string ns = t.namespaced ? ns_in : "";
  const bool table = WantsTable(req.Header("Accept"));
  const bool bookmarks = Truthy(req.Param("allowWatchBookmarks"));
  const bool initial_events_end = Truthy(req.Param("sendInitialEvents"));
  long timeout_s = std::atol(req.Param("timeoutSeconds").c_str());
  if (timeout_s <= 0) timeout_s = 1800;
  std::string include_object =
      req.Param("includeObject").empty() ? "Metadata" : req.Param("includeObject");

  // Initial state: a list for RV "" or "0" (or sendInitialEvents), then changes after it.
  std::vector<json> initial;
  uint64_t since;
  std::string rv = opts.resource_version;
  if (rv.empty() || rv == "0" || initial_events_end) {
    ListOptions all = opts;
    all.limit = 0;
    all.continue_token.clear();
    all.resource_version_match.clear();
    auto list = cluster_.List(t, ns, all);
    if (!list.ok()) return SendError(w, list.error());
    for (auto& item : list.value()["items"]) initial.push_back(item);
    since = std::strtoull(list.value()["metadata"]["resourceVersion"].get<std::string>().c_str(),
                          nullptr, 10);
  } else {
    since = std::strtoull(rv.c_str(), nullptr, 10);
  }

  if (!w.BeginStream(
          200, {{"Content-Type", "application/json"}, {"Cache-Control", "no-cache, private"}}))
    return;
  bool first = true;
  auto send = [&](const std::string& type, const json& obj) {
    json object = obj;
    if (table && type != "BOOKMARK" && type != "ERROR") {
      TableOptions to;
      to.headers = first;
      to.include_object = include_object;
      json md = {{"resourceVersion", obj["metadata"].value("resourceVersion", "")}};
      object = RenderTable(t, {obj}, md, to);
      first = false;
    }
    json e = {{"type", type}, {"object", std::move(object)}};
    return w.Write(e.dump() + "\n");
  };

  auto watcher = cluster_.store().Watch(t.StorageKey(), ns, since);
  if (!watcher.ok()) {
    send("ERROR", watcher.error().ToStatus());
    return w.End();
  }
  auto wt = watcher.value();
  bool alive = true;
  for (const auto& obj : initial) {
    if (!(alive = send("ADDED", obj))) break;
  }
  if (alive && initial_events_end) {
    json bm = {{"kind", t.kind},
               {"apiVersion", t.GroupVersion()},
               {"metadata",
                {{"resourceVersion", std::to_string(since)},
                 {"annotations", {{"k8s.io/initial-events-end", "true"}}}}}};
    alive = send("BOOKMARK", bm);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  auto next_bookmark = std::chrono::steady_clock::now() + options_.bookmark_interval;
  while (alive && !shutting_down_ && !wt->closed()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    auto e = wt->Next(std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(500),
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)));
    if (!e) {
      if (w.ClientGone()) break;
      if (bookmarks && std::chrono::steady_clock::now() >= next_bookmark) {
        // Read the RV first: if nothing is queued afterwards, every event up to it was sent.
        uint64_t current = cluster_.store().ResourceVersion();
        auto late = wt->Next(std::chrono::milliseconds(0));
        if (!late) {
          json bm = {{"kind", t.kind},
                     {"apiVersion", t.GroupVersion()},
                     {"metadata", {{"resourceVersion", std::to_string(current)}}}};
          alive = send("BOOKMARK", bm);
          next_bookmark = std::chrono::steady_clock::now() + options_.bookmark_interval;
          continue;
        }
        e = std::move(late);
      } else {
        continue;
      }
    }
    json obj = Cluster::AsVersion(t, e->object);
    auto matches = [&](const json& o) {
      return !o.is_null() && opts.labels.Matches(o) && opts.fields.Matches(o);
    };
    bool now_match = matches(e->object);
    bool was_match = e->type == "MODIFIED" ? matches(e->previous) : now_match;
    std::string type = e->type;
    if (type == "MODIFIED") {
      if (now_match && !was_match) type = "ADDED";
      if (!now_match && was_match) type = "DELETED";
      if (!now_match && !was_match) continue;
    } else if (!now_match) {
      continue;
    }
    alive = send(type, obj);
  }
  cluster_.store().StopWatch(wt);
  if (alive) w.End();
}

}  // namespace shardwise::kubesim
