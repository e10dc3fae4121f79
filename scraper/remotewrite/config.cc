#include "scraper/remotewrite/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

#include "common/labels.h"
#include "common/relabel/parse.h"

namespace shardwise::remotewrite {
namespace {

// Headers the sender owns; letting users override them would break the protocol.
constexpr std::array<std::string_view, 7> kReservedHeaders = {"authorization",
                                                              "host",
                                                              "content-encoding",
                                                              "content-length",
                                                              "content-type",
                                                              "user-agent",
                                                              "x-prometheus-remote-write-version"};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Status Invalid(const std::string& path, std::string_view what) {
  return Status::InvalidArgument(fmt::format("{}: {}", path, what));
}

// Fails on keys outside `known`: a typo must not silently become a default.
Status CheckKeys(const YAML::Node& map, const std::string& path,
                 std::initializer_list<std::string_view> known) {
  if (!map.IsMap()) return Invalid(path, "must be a mapping");
  for (const auto& kv : map) {
    std::string key = kv.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Invalid(path + "." + key, "unknown field");
    }
  }
  return Status::OK();
}

Status GetString(const YAML::Node& map, const char* key, const std::string& path,
                 std::string* out) {
  const YAML::Node n = map[key];
  if (!n || n.IsNull()) return Status::OK();
  if (!n.IsScalar()) return Invalid(path + "." + key, "must be a string");
  *out = n.as<std::string>();
  return Status::OK();
}

Status GetBool(const YAML::Node& map, const char* key, const std::string& path, bool* out) {
  const YAML::Node n = map[key];
  if (!n || n.IsNull()) return Status::OK();
  try {
    *out = n.as<bool>();
  } catch (const YAML::Exception&) {
    return Invalid(path + "." + key, "must be true or false");
  }
  return Status::OK();
}

Status GetInt(const YAML::Node& map, const char* key, const std::string& path, int* out) {
  const YAML::Node n = map[key];
  if (!n || n.IsNull()) return Status::OK();
  try {
    *out = n.as<int>();
  } catch (const YAML::Exception&) {
    return Invalid(path + "." + key, "must be an integer");
  }
  return Status::OK();
}

Status GetDuration(const YAML::Node& map, const char* key, const std::string& path, Millis* out) {
  std::string text;
  SHARDWISE_RETURN_IF_ERROR(GetString(map, key, path, &text));
  if (text.empty()) return Status::OK();
  Result<Millis> d = ParseDuration(text);
  if (!d.ok()) return Invalid(path + "." + key, d.status().message());
  *out = *d;
  return Status::OK();
}

Status ParseTls(const YAML::Node& n, const std::string& path, TlsConfig* tls) {
  SHARDWISE_RETURN_IF_ERROR(CheckKeys(
      n, path, {"ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"}));
  SHARDWISE_RETURN_IF_ERROR(GetString(n, "ca_file", path, &tls->ca_file));
  SHARDWISE_RETURN_IF_ERROR(GetString(n, "cert_file", path, &tls->cert_file));
  SHARDWISE_RETURN_IF_ERROR(GetString(n, "key_file", path, &tls->key_file));
  SHARDWISE_RETURN_IF_ERROR(GetString(n, "server_name", path, &tls->server_name));
  SHARDWISE_RETURN_IF_ERROR(GetBool(n, "insecure_skip_verify", path, &tls->insecure_skip_verify));
  if (tls->cert_file.empty() != tls->key_file.empty()) {
    return Invalid(path, "cert_file and key_file must be given together");
  }
  return Status::OK();
}

Status ParseQueue(const YAML::Node& n, const std::string& path, QueueConfig* q) {
  SHARDWISE_RETURN_IF_ERROR(
      CheckKeys(n, path,
                {"capacity", "max_shards", "min_shards", "max_samples_per_send",
                 "batch_send_deadline", "min_backoff", "max_backoff", "retry_on_http_429"}));
  SHARDWISE_RETURN_IF_ERROR(GetInt(n, "capacity", path, &q->capacity));
  SHARDWISE_RETURN_IF_ERROR(GetInt(n, "max_shards", path, &q->max_shards));
  SHARDWISE_RETURN_IF_ERROR(GetInt(n, "min_shards", path, &q->min_shards));
  SHARDWISE_RETURN_IF_ERROR(GetInt(n, "max_samples_per_send", path, &q->max_samples_per_send));
  SHARDWISE_RETURN_IF_ERROR(GetDuration(n, "batch_send_deadline", path, &q->batch_send_deadline));
  SHARDWISE_RETURN_IF_ERROR(GetDuration(n, "min_backoff", path, &q->min_backoff));
  SHARDWISE_RETURN_IF_ERROR(GetDuration(n, "max_backoff", path, &q->max_backoff));
  SHARDWISE_RETURN_IF_ERROR(GetBool(n, "retry_on_http_429", path, &q->retry_on_http_429));
  if (q->min_shards < 1) return Invalid(path + ".min_shards", "must be >= 1");
  if (q->max_shards < q->min_shards) {
    return Invalid(path + ".max_shards", fmt::format("must be >= min_shards ({})", q->min_shards));
  }
  if (q->max_samples_per_send < 1) return Invalid(path + ".max_samples_per_send", "must be >= 1");
  if (q->capacity < q->max_samples_per_send) {
    return Invalid(path + ".capacity",
                   fmt::format("must be >= max_samples_per_send ({})", q->max_samples_per_send));
  }
  if (q->batch_send_deadline.count() <= 0) {
    return Invalid(path + ".batch_send_deadline", "must be > 0");
  }
  if (q->min_backoff.count() <= 0) return Invalid(path + ".min_backoff", "must be > 0");
  if (q->max_backoff < q->min_backoff) {
    return Invalid(path + ".max_backoff", "must be >= min_backoff");
  }
  return Status::OK();
}

Status ParseEndpoint(const YAML::Node& n, const std::string& path, EndpointConfig* ep) {
  SHARDWISE_RETURN_IF_ERROR(
      CheckKeys(n, path,
                {"url", "name", "remote_timeout", "headers", "basic_auth", "authorization",
                 "bearer_token", "bearer_token_file", "tls_config", "queue_config",
                 "write_relabel_configs", "metadata_config", "follow_redirects", "enable_http2",
                 "send_exemplars", "send_native_histograms"}));
  SHARDWISE_RETURN_IF_ERROR(GetString(n, "url", path, &ep->url));
  if (ep->url.empty()) return Invalid(path + ".url", "is required");
  if (!ep->url.starts_with("http://") && !ep->url.starts_with("https://")) {
    return Invalid(path + ".url", "must start with http:// or https://");
  }
  SHARDWISE_RETURN_IF_ERROR(GetString(n, "name", path, &ep->name));
  if (ep->name.empty()) ep->name = fmt::format("{:06x}", Labels{{"url", ep->url}}.Hash() >> 40);
  SHARDWISE_RETURN_IF_ERROR(GetDuration(n, "remote_timeout", path, &ep->remote_timeout));
  if (ep->remote_timeout.count() <= 0) return Invalid(path + ".remote_timeout", "must be > 0");

  if (const YAML::Node h = n["headers"]; h && !h.IsNull()) {
    if (!h.IsMap()) return Invalid(path + ".headers", "must be a mapping");
    for (const auto& kv : h) {
      std::string name = kv.first.as<std::string>();
      std::string lower = Lower(name);
      if (std::find(kReservedHeaders.begin(), kReservedHeaders.end(), lower) !=
          kReservedHeaders.end()) {
        return Invalid(path + ".headers." + name, "is reserved for the sender");
      }
      if (!kv.second.IsScalar()) return Invalid(path + ".headers." + name, "must be a string");
      ep->headers.emplace_back(name, kv.second.as<std::string>());
    }
  }

  if (const YAML::Node b = n["basic_auth"]; b && !b.IsNull()) {
    std::string p = path + ".basic_auth";
    SHARDWISE_RETURN_IF_ERROR(CheckKeys(b, p, {"username", "password", "password_file"}));
    BasicAuth auth;
    SHARDWISE_RETURN_IF_ERROR(GetString(b, "username", p, &auth.username));
    SHARDWISE_RETURN_IF_ERROR(GetString(b, "password", p, &auth.password));
    SHARDWISE_RETURN_IF_ERROR(GetString(b, "password_file", p, &auth.password_file));
    if (!auth.password.empty() && !auth.password_file.empty()) {
      return Invalid(p, "at most one of password and password_file may be set");
    }
    ep->basic_auth = auth;
  }

  Authorization authz;
  bool has_authz = false;
  if (const YAML::Node a = n["authorization"]; a && !a.IsNull()) {
    std::string p = path + ".authorization";
    SHARDWISE_RETURN_IF_ERROR(CheckKeys(a, p, {"type", "credentials", "credentials_file"}));
    SHARDWISE_RETURN_IF_ERROR(GetString(a, "type", p, &authz.type));
    SHARDWISE_RETURN_IF_ERROR(GetString(a, "credentials", p, &authz.credentials));
    SHARDWISE_RETURN_IF_ERROR(GetString(a, "credentials_file", p, &authz.credentials_file));
    if (authz.type.empty()) authz.type = "Bearer";
    if (Lower(authz.type) == "basic") {
      return Invalid(p + ".type", "use basic_auth for Basic authorization");
    }
    if (!authz.credentials.empty() && !authz.credentials_file.empty()) {
      return Invalid(p, "at most one of credentials and credentials_file may be set");
    }
    has_authz = true;
  }
  std::string token, token_file;
  SHARDWISE_RETURN_IF_ERROR(GetString(n, "bearer_token", path, &token));
  SHARDWISE_RETURN_IF_ERROR(GetString(n, "bearer_token_file", path, &token_file));
  if (!token.empty() || !token_file.empty()) {
    if (has_authz) return Invalid(path, "authorization and bearer_token(_file) are exclusive");
    if (!token.empty() && !token_file.empty()) {
      return Invalid(path, "at most one of bearer_token and bearer_token_file may be set");
    }
    authz.credentials = token;
    authz.credentials_file = token_file;
    has_authz = true;
  }
  if (has_authz) {
    if (ep->basic_auth) return Invalid(path, "basic_auth and authorization are exclusive");
    ep->authorization = authz;
  }

  if (const YAML::Node t = n["tls_config"]; t && !t.IsNull()) {
    SHARDWISE_RETURN_IF_ERROR(ParseTls(t, path + ".tls_config", &ep->tls));
  }
  if (const YAML::Node q = n["queue_config"]; q && !q.IsNull()) {
    SHARDWISE_RETURN_IF_ERROR(ParseQueue(q, path + ".queue_config", &ep->queue));
  }
  if (const YAML::Node r = n["write_relabel_configs"]; r && !r.IsNull()) {
    if (!r.IsSequence()) return Invalid(path + ".write_relabel_configs", "must be a list");
    Result<std::vector<relabel::RelabelConfig>> configs = relabel::FromYaml(r);
    if (!configs.ok()) return Invalid(path + ".write_relabel_configs", configs.status().message());
    Result<relabel::Relabeler> compiled = relabel::Relabeler::Compile(std::move(*configs));
    if (!compiled.ok()) {
      return Invalid(path + ".write_relabel_configs", compiled.status().message());
    }
    ep->write_relabel_configs = std::move(*compiled);
  }
  return Status::OK();
}

Result<std::vector<EndpointConfig>> ParseList(const YAML::Node& list);

}  // namespace

Result<Millis> ParseDuration(std::string_view text) {
  if (text == "0") return Millis(0);
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"ms", 1},         {"s", 1000},        {"m", 60'000},        {"h", 3'600'000},
      {"d", 86'400'000}, {"w", 604'800'000}, {"y", 31'536'000'000}};
  int64_t total = 0;
  size_t i = 0;
  size_t last_unit = 0;  // units must appear largest first, each at most once
  if (text.empty()) return Status::InvalidArgument("empty duration");
  while (i < text.size()) {
    size_t start = i;
    int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (n > (INT64_MAX - 9) / 10) return Status::InvalidArgument("duration out of range");
      n = n * 10 + (text[i++] - '0');
    }
    if (i == start) return Status::InvalidArgument(fmt::format("bad duration \"{}\"", text));
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    size_t u = 0;
    while (u < std::size(kUnits) && kUnits[u].first != unit) ++u;
    if (u == std::size(kUnits)) {
      return Status::InvalidArgument(fmt::format("bad duration \"{}\": unknown unit", text));
    }
    // Order check: "ms" sorts first in the table but is the smallest unit.
    size_t rank = u == 0 ? 100 : 10 - u;
    if (rank <= last_unit) {
      return Status::InvalidArgument(fmt::format("bad duration \"{}\": unit order", text));
    }
    last_unit = rank;
    if (n > INT64_MAX / kUnits[u].second) return Status::InvalidArgument("duration out of range");
    total += n * kUnits[u].second;
  }
  return Millis(total);
}

Result<std::vector<EndpointConfig>> ParseRemoteWriteConfig(const YAML::Node& node) {
  if (node.IsMap()) {
    const YAML::Node list = node["remote_write"];
    if (!list) return std::vector<EndpointConfig>();
    return ParseList(list);
  }
  return ParseList(node);
}

namespace {

Result<std::vector<EndpointConfig>> ParseList(const YAML::Node& list) {
  std::vector<EndpointConfig> out;
  if (!list || list.IsNull()) return out;
  if (!list.IsSequence()) return Invalid("remote_write", "must be a list");
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string path = fmt::format("remote_write[{}]", i);
    EndpointConfig ep;
    try {
      SHARDWISE_RETURN_IF_ERROR(ParseEndpoint(list[i], path, &ep));
    } catch (const YAML::Exception& e) {
      return Invalid(path, e.what());
    }
    if (!names.insert(ep.name).second) {
      return Invalid(path + ".name", fmt::format("duplicate remote write name \"{}\"", ep.name));
    }
    out.push_back(std::move(ep));
  }
  return out;
}

}  // namespace

Result<std::vector<EndpointConfig>> ParseRemoteWriteConfig(std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("remote_write: invalid YAML: {}", e.what()));
  }
  return ParseRemoteWriteConfig(root);
}

}  // namespace shardwise::remotewrite
