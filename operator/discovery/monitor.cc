#include "operator/discovery/monitor.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/relabel/parse.h"

namespace shardwise::opdiscovery {

const char* RoleName(ServiceDiscoveryRole role) {
  return role == ServiceDiscoveryRole::kEndpoints ? "Endpoints" : "EndpointSlice";
}
namespace {

using nlohmann::json;

// Reads typed fields of a JSON object, naming the full field path in errors.
class Fields {
 public:
  Fields(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  const json* Find(const char* name) const {
    if (!object_.is_object()) return nullptr;
    auto it = object_.find(name);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }
  std::string Path(const char* name) const { return path_ + "." + name; }

  Status String(const char* name, std::string* out) const {
    const json* v = Find(name);
    if (v == nullptr) return Status::OK();
    if (!v->is_string()) return Invalid(name, "must be a string");
    *out = v->get<std::string>();
    return Status::OK();
  }
  Status Bool(const char* name, bool* out) const {
    const json* v = Find(name);
    if (v == nullptr) return Status::OK();
    if (!v->is_boolean()) return Invalid(name, "must be a boolean");
    *out = v->get<bool>();
    return Status::OK();
  }
  Status Uint(const char* name, uint64_t* out) const {
    const json* v = Find(name);
    if (v == nullptr) return Status::OK();
    if (!v->is_number_unsigned()) return Invalid(name, "must be a non-negative integer");
    *out = v->get<uint64_t>();
    return Status::OK();
  }
  Status Strings(const char* name, std::vector<std::string>* out) const {
    const json* v = Find(name);
    if (v == nullptr) return Status::OK();
    if (!v->is_array()) return Invalid(name, "must be a list of strings");
    for (const auto& item : *v) {
      if (!item.is_string()) return Invalid(name, "must be a list of strings");
      out->push_back(item.get<std::string>());
    }
    return Status::OK();
  }
  Status Invalid(const char* name, std::string_view what) const {
    return Status::InvalidArgument(Path(name) + " " + std::string(what));
  }

 private:
  const json& object_;
  std::string path_;
};

Status ParseKeyRef(const json& v, const std::string& path, KeyRef* out) {
  if (!v.is_object()) return Status::InvalidArgument(path + " must be an object");
  Fields f(v, path);
  SHARDWISE_RETURN_IF_ERROR(f.String("name", &out->name));
  SHARDWISE_RETURN_IF_ERROR(f.String("key", &out->key));
  SHARDWISE_RETURN_IF_ERROR(f.Bool("optional", &out->optional));
  if (out->key.empty()) return Status::InvalidArgument(path + ".key is required");
  return Status::OK();
}

Status OptionalKeyRef(const Fields& f, const char* name, std::optional<KeyRef>* out) {
  const json* v = f.Find(name);
  if (v == nullptr) return Status::OK();
  KeyRef ref;
  SHARDWISE_RETURN_IF_ERROR(ParseKeyRef(*v, f.Path(name), &ref));
  *out = std::move(ref);
  return Status::OK();
}

Status ParseSecretOrConfigMap(const Fields& f, const char* name, SecretOrConfigMap* out) {
  const json* v = f.Find(name);
  if (v == nullptr) return Status::OK();
  Fields sub(*v, f.Path(name));
  SHARDWISE_RETURN_IF_ERROR(OptionalKeyRef(sub, "secret", &out->secret));
  SHARDWISE_RETURN_IF_ERROR(OptionalKeyRef(sub, "configMap", &out->config_map));
  if (out->secret && out->config_map) {
    return Status::InvalidArgument(f.Path(name) + " sets both secret and configMap");
  }
  return Status::OK();
}

Status ParseTls(const json& v, const std::string& path, TlsConfig* out) {
  Fields f(v, path);
  SHARDWISE_RETURN_IF_ERROR(ParseSecretOrConfigMap(f, "ca", &out->ca));
  SHARDWISE_RETURN_IF_ERROR(ParseSecretOrConfigMap(f, "cert", &out->cert));
  SHARDWISE_RETURN_IF_ERROR(OptionalKeyRef(f, "keySecret", &out->key_secret));
  SHARDWISE_RETURN_IF_ERROR(f.String("serverName", &out->server_name));
  SHARDWISE_RETURN_IF_ERROR(f.Bool("insecureSkipVerify", &out->insecure_skip_verify));
  SHARDWISE_RETURN_IF_ERROR(f.String("caFile", &out->ca_file));
  SHARDWISE_RETURN_IF_ERROR(f.String("certFile", &out->cert_file));
  SHARDWISE_RETURN_IF_ERROR(f.String("keyFile", &out->key_file));
  return Status::OK();
}

Status ParseRelabelings(const Fields& f, const char* name,
                        std::vector<relabel::RelabelConfig>* out) {
  const json* v = f.Find(name);
  if (v == nullptr) return Status::OK();
  auto configs = relabel::FromJson(*v);
  if (!configs.ok()) return configs.status().WithContext(f.Path(name));
  *out = std::move(configs).value();
  return Status::OK();
}

Status ParseEndpoint(const json& v, const std::string& path, Monitor::Kind kind,
                     MonitorEndpoint* ep) {
  if (!v.is_object()) return Status::InvalidArgument(path + " must be an object");
  Fields f(v, path);
  SHARDWISE_RETURN_IF_ERROR(f.String("port", &ep->port));
  if (const json* tp = f.Find("targetPort")) {
    if (tp->is_string()) {
      ep->target_port = tp->get<std::string>();
    } else if (tp->is_number_integer() && tp->get<int64_t>() > 0 && tp->get<int64_t>() < 65536) {
      ep->target_port = std::to_string(tp->get<int64_t>());
      ep->target_port_is_number = true;
    } else {
      return f.Invalid("targetPort", "must be a port name or a number in 1-65535");
    }
  }
  if (kind == Monitor::Kind::kPodMonitor) {
    uint64_t number = 0;
    SHARDWISE_RETURN_IF_ERROR(f.Uint("portNumber", &number));
    if (number > 65535) return f.Invalid("portNumber", "must be in 1-65535");
    ep->port_number = static_cast<int>(number);
  }
  SHARDWISE_RETURN_IF_ERROR(f.String("path", &ep->path));
  SHARDWISE_RETURN_IF_ERROR(f.String("scheme", &ep->scheme));
  std::transform(ep->scheme.begin(), ep->scheme.end(), ep->scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!ep->scheme.empty() && ep->scheme != "http" && ep->scheme != "https") {
    return f.Invalid("scheme", "must be http or https");
  }
  if (const json* params = f.Find("params")) {
    if (!params->is_object()) return f.Invalid("params", "must map names to lists of strings");
    for (const auto& [key, values] : params->items()) {
      if (!values.is_array()) return f.Invalid("params", "must map names to lists of strings");
      auto& out = ep->params[key];
      for (const auto& item : values) {
        if (!item.is_string()) return f.Invalid("params", "must map names to lists of strings");
        out.push_back(item.get<std::string>());
      }
    }
  }
  SHARDWISE_RETURN_IF_ERROR(f.String("interval", &ep->interval));
  SHARDWISE_RETURN_IF_ERROR(f.String("scrapeTimeout", &ep->scrape_timeout));
  SHARDWISE_RETURN_IF_ERROR(f.Bool("honorLabels", &ep->honor_labels));
  if (f.Find("honorTimestamps") != nullptr) {
    bool honor = true;
    SHARDWISE_RETURN_IF_ERROR(f.Bool("honorTimestamps", &honor));
    ep->honor_timestamps = honor;
  }
  SHARDWISE_RETURN_IF_ERROR(f.Bool("filterRunning", &ep->filter_running));
  SHARDWISE_RETURN_IF_ERROR(ParseRelabelings(f, "relabelings", &ep->relabelings));
  SHARDWISE_RETURN_IF_ERROR(ParseRelabelings(f, "metricRelabelings", &ep->metric_relabelings));
  if (const json* tls = f.Find("tlsConfig")) {
    TlsConfig config;
    SHARDWISE_RETURN_IF_ERROR(ParseTls(*tls, f.Path("tlsConfig"), &config));
    ep->tls_config = std::move(config);
  }
  if (const json* auth = f.Find("authorization")) {
    Authorization a;
    Fields af(*auth, f.Path("authorization"));
    SHARDWISE_RETURN_IF_ERROR(af.String("type", &a.type));
    if (a.type.empty()) a.type = "Bearer";
    if (a.type == "Basic" || a.type == "basic") {
      return af.Invalid("type", "cannot be Basic (use basicAuth)");
    }
    SHARDWISE_RETURN_IF_ERROR(OptionalKeyRef(af, "credentials", &a.credentials));
    ep->authorization = std::move(a);
  }
  if (const json* b = f.Find("bearerTokenSecret")) {
    // The operator ignores a reference without a name.
    if (b->is_object() && !b->value("name", "").empty()) {
      KeyRef ref;
      SHARDWISE_RETURN_IF_ERROR(ParseKeyRef(*b, f.Path("bearerTokenSecret"), &ref));
      ep->bearer_token_secret = std::move(ref);
    }
  }
  if (const json* b = f.Find("basicAuth")) {
    BasicAuth auth;
    Fields bf(*b, f.Path("basicAuth"));
    const json* user = bf.Find("username");
    const json* pass = bf.Find("password");
    if (user == nullptr || pass == nullptr) {
      return Status::InvalidArgument(f.Path("basicAuth") + " needs username and password");
    }
    SHARDWISE_RETURN_IF_ERROR(ParseKeyRef(*user, bf.Path("username"), &auth.username));
    SHARDWISE_RETURN_IF_ERROR(ParseKeyRef(*pass, bf.Path("password"), &auth.password));
    ep->basic_auth = std::move(auth);
  }
  if (ep->authorization && (ep->bearer_token_secret || ep->basic_auth)) {
    return Status::InvalidArgument(path + ": authorization cannot be combined with " +
                                   "bearerTokenSecret or basicAuth");
  }
  return Status::OK();
}

Status ParseSelector(const json& v, const std::string& path, LabelSelector* out) {
  if (!v.is_object()) return Status::InvalidArgument(path + " must be an object");
  Fields f(v, path);
  if (const json* ml = f.Find("matchLabels")) {
    if (!ml->is_object()) return f.Invalid("matchLabels", "must map strings to strings");
    for (const auto& [k, val] : ml->items()) {
      if (!val.is_string()) return f.Invalid("matchLabels", "must map strings to strings");
      out->match_labels[k] = val.get<std::string>();
    }
  }
  if (const json* me = f.Find("matchExpressions")) {
    if (!me->is_array()) return f.Invalid("matchExpressions", "must be a list");
    for (size_t i = 0; i < me->size(); ++i) {
      std::string p = f.Path("matchExpressions") + "[" + std::to_string(i) + "]";
      Fields rf((*me)[i], p);
      SelectorRequirement r;
      SHARDWISE_RETURN_IF_ERROR(rf.String("key", &r.key));
      SHARDWISE_RETURN_IF_ERROR(rf.String("operator", &r.op));
      SHARDWISE_RETURN_IF_ERROR(rf.Strings("values", &r.values));
      if (r.op != "In" && r.op != "NotIn" && r.op != "Exists" && r.op != "DoesNotExist") {
        return rf.Invalid("operator", "must be In, NotIn, Exists or DoesNotExist");
      }
      if ((r.op == "In" || r.op == "NotIn") == r.values.empty()) {
        return Status::InvalidArgument(p + ": values must be set for In/NotIn and only for them");
      }
      out->match_expressions.push_back(std::move(r));
    }
  }
  return Status::OK();
}

}  // namespace

Result<LabelSelector> ParseLabelSelector(const json& selector, const std::string& path) {
  LabelSelector out;
  SHARDWISE_RETURN_IF_ERROR(ParseSelector(selector, path, &out));
  return out;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& [k, v] : match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const auto& r : match_expressions) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    bool in = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    if ((r.op == "In" && !in) || (r.op == "NotIn" && in) || (r.op == "Exists" && !has) ||
        (r.op == "DoesNotExist" && has)) {
      return false;
    }
  }
  return true;
}

std::string MonitorEndpoint::EndpointLabel() const {
  if (!port.empty()) return port;
  if (!target_port.empty()) return target_port;
  if (port_number != 0) return std::to_string(port_number);
  return "";
}

std::string Monitor::JobName(size_t endpoint_index) const {
  const char* prefix = kind == Kind::kServiceMonitor ? "serviceMonitor/" : "podMonitor/";
  return prefix + ns + "/" + name + "/" + std::to_string(endpoint_index);
}

std::string Monitor::Describe() const {
  return std::string(kind == Kind::kServiceMonitor ? "ServiceMonitor " : "PodMonitor ") + ns + "/" +
         name;
}

Result<Monitor> ParseMonitor(const json& object) {
  if (!object.is_object()) return Status::InvalidArgument("monitor must be a JSON object");
  Monitor m;
  std::string kind = object.value("kind", "");
  if (kind == "ServiceMonitor") {
    m.kind = Monitor::Kind::kServiceMonitor;
  } else if (kind == "PodMonitor") {
    m.kind = Monitor::Kind::kPodMonitor;
  } else {
    return Status::InvalidArgument("unsupported monitor kind \"" + kind + "\"");
  }
  static const json kNoMetadata = json::object();
  auto meta_it = object.find("metadata");
  Fields meta(meta_it != object.end() ? *meta_it : kNoMetadata, "metadata");
  SHARDWISE_RETURN_IF_ERROR(meta.String("namespace", &m.ns));
  SHARDWISE_RETURN_IF_ERROR(meta.String("name", &m.name));
  if (m.ns.empty() || m.name.empty()) {
    return Status::InvalidArgument(kind + " needs metadata.namespace and metadata.name");
  }
  auto with_context = [&](Status st) { return st.WithContext(m.Describe()); };
  const json* spec_json = object.contains("spec") ? &object["spec"] : nullptr;
  if (spec_json == nullptr || !spec_json->is_object()) {
    return with_context(Status::InvalidArgument("spec is required"));
  }
  Fields spec(*spec_json, "spec");
  if (const json* sel = spec.Find("selector")) {
    Status st = ParseSelector(*sel, "spec.selector", &m.selector);
    if (!st.ok()) return with_context(st);
  }
  if (const json* ns = spec.Find("namespaceSelector")) {
    Fields nf(*ns, "spec.namespaceSelector");
    Status st = nf.Bool("any", &m.any_namespace);
    if (st.ok()) st = nf.Strings("matchNames", &m.match_namespaces);
    if (!st.ok()) return with_context(st);
  }
  Status st = spec.String("jobLabel", &m.job_label);
  if (st.ok() && m.kind == Monitor::Kind::kServiceMonitor) {
    st = spec.Strings("targetLabels", &m.target_labels);
  }
  if (st.ok()) st = spec.Strings("podTargetLabels", &m.pod_target_labels);
  if (st.ok()) st = spec.Uint("sampleLimit", &m.limits.sample_limit);
  if (st.ok()) st = spec.Uint("targetLimit", &m.limits.target_limit);
  if (st.ok()) st = spec.Uint("labelLimit", &m.limits.label_limit);
  if (st.ok()) st = spec.Uint("labelNameLengthLimit", &m.limits.label_name_length_limit);
  if (st.ok()) st = spec.Uint("labelValueLengthLimit", &m.limits.label_value_length_limit);
  if (!st.ok()) return with_context(st);

  const char* endpoints_field =
      m.kind == Monitor::Kind::kServiceMonitor ? "endpoints" : "podMetricsEndpoints";
  if (const json* eps = spec.Find(endpoints_field)) {
    if (!eps->is_array()) {
      return with_context(spec.Invalid(endpoints_field, "must be a list"));
    }
    for (size_t i = 0; i < eps->size(); ++i) {
      MonitorEndpoint ep;
      std::string path = spec.Path(endpoints_field) + "[" + std::to_string(i) + "]";
      st = ParseEndpoint((*eps)[i], path, m.kind, &ep);
      if (!st.ok()) return with_context(st);
      if (!ep.port.empty() && !ep.target_port.empty() && m.kind == Monitor::Kind::kServiceMonitor) {
        return with_context(
            Status::InvalidArgument(path + ": port and targetPort are mutually exclusive"));
      }
      m.endpoints.push_back(std::move(ep));
    }
  }
  return m;
}

}  // namespace shardwise::opdiscovery
