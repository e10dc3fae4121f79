// HttpClientConfig: how to talk to one HTTP endpoint (TLS, credentials, extra headers), in
// Prometheus's `HTTPClientConfig` shape. It is the one such configuration of the project:
// scrape jobs and remote_write entries both embed it, as Prometheus does.
//
// Contract:
//  - ParseHttpClientConfig reads only the keys listed by IsHttpClientConfigKey from a scrape
//    job or remote_write entry; the caller owns the node and rejects keys neither it nor
//    IsHttpClientConfigKey knows. Errors are InvalidArgument prefixed with the YAML path of
//    the offending field ("scrape_configs[1].basic_auth: at most one of ...").
//  - Validation follows Prometheus: at most one of basic_auth / authorization /
//    bearer_token(_file); within each, the inline value and its *_file are exclusive; TLS
//    `ca`/`ca_file` (and cert, key) are exclusive and a client cert needs a key and vice
//    versa; authorization type "Basic" is refused (use basic_auth); headers the clients own
//    (Authorization, Content-Type, User-Agent, ...) cannot be set.
//  - bearer_token / bearer_token_file are the legacy spelling of an `authorization` block of
//    type Bearer and are stored as one.
//  - Secret files (username_file, password_file, credentials_file) are read by ApplyTo at
//    request time, never at parse time, so a rotated Kubernetes Secret takes effect on the
//    next request. Reads are cached by (inode, size, mtime, ctime), so the hot path is one
//    stat() per file; a file changed in the last two seconds is read again every time,
//    because a same-size rewrite within one timestamp tick would look unchanged. Contents
//    are trimmed of surrounding whitespace, as in Prometheus.
//    TLS files are passed by name to the client, which loads them per connection.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/client.h"
#include "common/status.h"

namespace shardwise::http {

struct TlsConfig {
  std::string ca_file, cert_file, key_file;
  std::string ca, cert, key;  // inline PEM alternatives to the files
  std::string server_name;    // SNI and verification name override
  bool insecure_skip_verify = false;
  bool operator==(const TlsConfig&) const = default;
};

struct BasicAuth {
  std::string username;
  std::string username_file;
  std::string password;
  std::string password_file;
  bool operator==(const BasicAuth&) const = default;
};

// "Authorization: <type> <credentials>".
struct Authorization {
  std::string type = "Bearer";
  std::string credentials;
  std::string credentials_file;
  bool operator==(const Authorization&) const = default;
};

struct HttpClientConfig {
  TlsConfig tls_config;
  std::optional<BasicAuth> basic_auth;
  std::optional<Authorization> authorization;  // also holds bearer_token(_file)
  std::map<std::string, std::string> headers;  // sent with every request
  bool operator==(const HttpClientConfig&) const = default;
};

// True for the keys ParseHttpClientConfig reads: tls_config, basic_auth, authorization,
// bearer_token, bearer_token_file, headers.
bool IsHttpClientConfigKey(std::string_view key);

// `node` is the scrape job or remote_write entry (a map, or null); `path` its YAML path.
Result<HttpClientConfig> ParseHttpClientConfig(const YAML::Node& node, std::string_view path);

// The same rules for a configuration built in code (e.g. from a scrape plan).
Status ValidateHttpClientConfig(const HttpClientConfig& config, std::string_view path);

// Fills request.tls, request.basic_auth and the Authorization and custom headers, reading
// secret files now. A custom header replaces a header of the same name the caller set.
// FailedPrecondition (naming the field and file) when a secret file cannot be read.
Status ApplyTo(const HttpClientConfig& config, ClientRequest& request);

}  // namespace shardwise::http
