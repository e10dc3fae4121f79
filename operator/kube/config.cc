#include "operator/kube/config.h"

#include "common/base64.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace shardwise::kube {
namespace {

namespace fs = std::filesystem;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Resolve(std::string_view base_dir, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute() || base_dir.empty()) return path;
  return (fs::path(base_dir) / path).string();
}

// Finds the entry of a kubeconfig list ("clusters", "users", "contexts") named `name`
// and returns its inner map (entry[field]).
YAML::Node FindNamed(const YAML::Node& list, const std::string& name, const char* field) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& entry : list) {
    if (entry["name"] && entry["name"].as<std::string>() == name) return entry[field];
  }
  return YAML::Node();
}

std::string Str(const YAML::Node& node, const char* key) {
  if (!node || !node.IsMap() || !node[key] || !node[key].IsScalar()) return "";
  return node[key].as<std::string>();
}

Status DecodeInto(const YAML::Node& node, const char* key, std::string* out) {
  std::string data = Str(node, key);
  if (data.empty()) return Status::OK();
  auto decoded = Base64Decode(data);
  if (!decoded.ok()) return decoded.status().WithContext(key);
  *out = std::move(decoded).value();
  return Status::OK();
}

Result<Config> ParseKubeconfigOrThrow(std::string_view yaml, std::string_view base_dir,
                                      std::string_view context_name) {
  YAML::Node root = YAML::Load(std::string(yaml));
  if (!root || !root.IsMap()) return Status::InvalidArgument("kubeconfig is not a YAML map");
  std::string context = std::string(context_name);
  if (context.empty()) context = Str(root, "current-context");
  if (context.empty()) return Status::InvalidArgument("kubeconfig has no current-context");
  YAML::Node ctx = FindNamed(root["contexts"], context, "context");
  if (!ctx || !ctx.IsMap()) {
    return Status::InvalidArgument("kubeconfig has no context \"" + context + "\"");
  }
  Config config;
  config.default_namespace = Str(ctx, "namespace");

  const std::string cluster_name = Str(ctx, "cluster");
  YAML::Node cluster = FindNamed(root["clusters"], cluster_name, "cluster");
  if (!cluster || !cluster.IsMap()) {
    return Status::InvalidArgument("kubeconfig has no cluster \"" + cluster_name + "\"");
  }
  config.server = Str(cluster, "server");
  if (config.server.empty()) {
    return Status::InvalidArgument("cluster \"" + cluster_name + "\" has no server");
  }
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  config.ca_file = Resolve(base_dir, Str(cluster, "certificate-authority"));
  SHARDWISE_RETURN_IF_ERROR(DecodeInto(cluster, "certificate-authority-data", &config.ca_pem));
  config.insecure_skip_tls_verify =
      cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>();
  config.tls_server_name = Str(cluster, "tls-server-name");

  const std::string user_name = Str(ctx, "user");
  YAML::Node user = FindNamed(root["users"], user_name, "user");
  if (!user_name.empty() && !user) {
    return Status::InvalidArgument("kubeconfig has no user \"" + user_name + "\"");
  }
  if (user && user.IsMap()) {
    if (user["exec"] || user["auth-provider"]) {
      return Status::InvalidArgument("user \"" + user_name +
                                     "\": exec and auth-provider plugins are not supported");
    }
    config.client_cert_file = Resolve(base_dir, Str(user, "client-certificate"));
    config.client_key_file = Resolve(base_dir, Str(user, "client-key"));
    SHARDWISE_RETURN_IF_ERROR(DecodeInto(user, "client-certificate-data", &config.client_cert_pem));
    SHARDWISE_RETURN_IF_ERROR(DecodeInto(user, "client-key-data", &config.client_key_pem));
    config.bearer_token = Str(user, "token");
    config.bearer_token_file = Resolve(base_dir, Str(user, "tokenFile"));
    config.username = Str(user, "username");
    config.password = Str(user, "password");
  }
  const bool has_cert = !config.client_cert_file.empty() || !config.client_cert_pem.empty();
  const bool has_key = !config.client_key_file.empty() || !config.client_key_pem.empty();
  if (has_cert != has_key) {
    return Status::InvalidArgument("user \"" + user_name +
                                   "\": client certificate and key must come together");
  }
  return config;
}

}  // namespace

Result<Config> ParseKubeconfig(std::string_view yaml, std::string_view base_dir,
                               std::string_view context) {
  try {
    return ParseKubeconfigOrThrow(yaml, base_dir, context);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("kubeconfig: ") + e.what());
  }
}

Result<Config> LoadKubeconfig(const std::string& path, std::string_view context) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  auto config = ParseKubeconfig(*text, fs::path(path).parent_path().string(), context);
  if (!config.ok()) return config.status().WithContext(path);
  return config;
}

Result<Config> InClusterConfig(std::string_view service_account_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr || *host == '\0' || *port == '\0') {
    return Status::NotFound(
        "not in a cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT unset");
  }
  const fs::path dir(service_account_dir);
  Config config;
  std::string host_part = host;
  if (host_part.find(':') != std::string::npos) host_part = "[" + host_part + "]";  // IPv6
  config.server = "https://" + host_part + ":" + port;
  config.bearer_token_file = (dir / "token").string();
  if (!fs::exists(config.bearer_token_file)) {
    return Status::NotFound("no service account token at " + config.bearer_token_file);
  }
  config.ca_file = (dir / "ca.crt").string();
  if (auto ns = ReadFile((dir / "namespace").string()); ns.ok()) {
    std::string value = *ns;
    while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
    config.default_namespace = value;
  }
  return config;
}

Result<Config> DefaultConfig() {
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::string first(env);
    first = first.substr(0, first.find(':'));
    return LoadKubeconfig(first);
  }
  auto in_cluster = InClusterConfig();
  if (in_cluster.ok()) return in_cluster;
  if (const char* home = std::getenv("HOME"); home != nullptr) {
    const std::string path = std::string(home) + "/.kube/config";
    if (fs::exists(path)) return LoadKubeconfig(path);
  }
  return Status::NotFound("no kubeconfig ($KUBECONFIG, ~/.kube/config) and not in a cluster");
}

}  // namespace shardwise::kube
