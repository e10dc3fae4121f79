#include "common/http/client_config.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_map>

namespace shardwise::http {
namespace {

constexpr std::array<std::string_view, 6> kKeys = {
    "tls_config", "basic_auth", "authorization", "bearer_token", "bearer_token_file", "headers"};

// Headers the HTTP clients or the protocols on top of them own; a user value would break
// authentication, framing or the scrape/remote-write protocol.
constexpr std::array<std::string_view, 13> kReservedHeaders = {
    "authorization",
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-prometheus-scrape-timeout-seconds"};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) { return Lower(a) == Lower(b); }

Status Invalid(std::string_view path, std::string_view what) {
  return Status::InvalidArgument(std::string(path) + ": " + std::string(what));
}

// RFC 9110 token characters: what a header name may be made of.
bool IsHeaderName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  });
}

Status ReadString(const YAML::Node& n, const std::string& path, std::string* out) {
  if (n.IsNull()) {
    out->clear();
    return Status::OK();
  }
  if (!n.IsScalar()) return Invalid(path, "expected a string");
  *out = n.Scalar();
  return Status::OK();
}

Status ReadBool(const YAML::Node& n, const std::string& path, bool* out) {
  const std::string s = n.IsScalar() ? Lower(n.Scalar()) : "";
  if (s == "true" || s == "false") {
    *out = s == "true";
    return Status::OK();
  }
  return Invalid(path, "expected true or false");
}

// Calls fn(key, value, path) for each field of the map at `path`; unknown keys are errors.
template <typename Fn>
Status ForEachField(const YAML::Node& n, const std::string& path,
                    std::initializer_list<std::string_view> known, Fn&& fn) {
  if (n.IsNull()) return Status::OK();
  if (!n.IsMap()) return Invalid(path, "expected a map");
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Invalid(path + "." + key, "unknown field");
    }
    SHARDWISE_RETURN_IF_ERROR(fn(key, kv.second, path + "." + key));
  }
  return Status::OK();
}

Status ParseTls(const YAML::Node& n, const std::string& path, TlsConfig* tls) {
  return ForEachField(n, path,
                      {"ca_file", "cert_file", "key_file", "ca", "cert", "key", "server_name",
                       "insecure_skip_verify"},
                      [&](const std::string& key, const YAML::Node& v, const std::string& p) {
                        if (key == "insecure_skip_verify") {
                          return ReadBool(v, p, &tls->insecure_skip_verify);
                        }
                        std::string* field = key == "ca_file"     ? &tls->ca_file
                                             : key == "cert_file" ? &tls->cert_file
                                             : key == "key_file"  ? &tls->key_file
                                             : key == "ca"        ? &tls->ca
                                             : key == "cert"      ? &tls->cert
                                             : key == "key"       ? &tls->key
                                                                  : &tls->server_name;
                        return ReadString(v, p, field);
                      });
}

Status ParseBasicAuth(const YAML::Node& n, const std::string& path, BasicAuth* auth) {
  return ForEachField(n, path, {"username", "username_file", "password", "password_file"},
                      [&](const std::string& key, const YAML::Node& v, const std::string& p) {
                        std::string* field = key == "username"        ? &auth->username
                                             : key == "username_file" ? &auth->username_file
                                             : key == "password"      ? &auth->password
                                                                      : &auth->password_file;
                        return ReadString(v, p, field);
                      });
}

Status ParseAuthorization(const YAML::Node& n, const std::string& path, Authorization* auth) {
  SHARDWISE_RETURN_IF_ERROR(
      ForEachField(n, path, {"type", "credentials", "credentials_file"},
                   [&](const std::string& key, const YAML::Node& v, const std::string& p) {
                     std::string* field = key == "type"          ? &auth->type
                                          : key == "credentials" ? &auth->credentials
                                                                 : &auth->credentials_file;
                     return ReadString(v, p, field);
                   }));
  if (auth->type.empty()) auth->type = "Bearer";
  return Status::OK();
}

Status ParseHeaders(const YAML::Node& n, const std::string& path,
                    std::map<std::string, std::string>* headers) {
  if (n.IsNull()) return Status::OK();
  if (!n.IsMap()) return Invalid(path, "expected a map of header names to values");
  for (const auto& kv : n) {
    const std::string name = kv.first.Scalar();
    std::string value;
    SHARDWISE_RETURN_IF_ERROR(ReadString(kv.second, path + "." + name, &value));
    (*headers)[name] = std::move(value);
  }
  return Status::OK();
}

Status ValidateTls(const TlsConfig& tls, const std::string& path) {
  if (!tls.ca.empty() && !tls.ca_file.empty()) {
    return Invalid(path, "at most one of ca and ca_file may be set");
  }
  if (!tls.cert.empty() && !tls.cert_file.empty()) {
    return Invalid(path, "at most one of cert and cert_file may be set");
  }
  if (!tls.key.empty() && !tls.key_file.empty()) {
    return Invalid(path, "at most one of key and key_file may be set");
  }
  const bool has_cert = !tls.cert.empty() || !tls.cert_file.empty();
  const bool has_key = !tls.key.empty() || !tls.key_file.empty();
  if (has_cert && !has_key) {
    return Invalid(path, "a client certificate needs a key (key or key_file)");
  }
  if (has_key && !has_cert) {
    return Invalid(path, "a client key needs a certificate (cert or cert_file)");
  }
  return Status::OK();
}

// A secret file's contents, re-read only when the file changed. Kubernetes rotates a
// mounted Secret by swapping a symlink, which changes the inode; editors and `kubectl cp`
// rewrite in place, which changes the mtime/ctime and usually the size.
class SecretFiles {
 public:
  static SecretFiles& Instance() {
    static SecretFiles* files = new SecretFiles();  // never destroyed: used at exit too
    return *files;
  }

  Result<std::string> Read(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      const int err = errno;
      std::lock_guard lock(mu_);
      cache_.erase(path);
      return Status::FailedPrecondition("cannot read " + path + ": " + std::strerror(err));
    }
    const Version version{st.st_dev,         st.st_ino,          st.st_size,
                          st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ctim.tv_sec,
                          st.st_ctim.tv_nsec};
    {
      std::lock_guard lock(mu_);
      auto it = cache_.find(path);
      if (it != cache_.end() && it->second.version == version) return it->second.contents;
    }
    const auto read_at = std::chrono::system_clock::now();
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::FailedPrecondition("cannot read " + path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string contents = Trim(buffer.str());
    std::lock_guard lock(mu_);
    // File timestamps are coarse (a kernel tick, or a second on some filesystems): a
    // same-size rewrite right after this read could keep the same version. So a file
    // changed too recently is not cached and is read again next time (as git does for
    // "racily clean" index entries).
    if (read_at - ToTimePoint(st.st_mtim) > kRacyWindow) {
      cache_[path] = Entry{version, contents};
    } else {
      cache_.erase(path);
    }
    return contents;
  }

 private:
  static constexpr std::chrono::seconds kRacyWindow{2};

  struct Version {
    dev_t dev;
    ino_t ino;
    off_t size;
    time_t mtime_sec;
    long mtime_nsec;
    time_t ctime_sec;
    long ctime_nsec;
    bool operator==(const Version&) const = default;
  };
  struct Entry {
    Version version;
    std::string contents;
  };

  static std::chrono::system_clock::time_point ToTimePoint(const timespec& t) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec)));
  }

  static std::string Trim(const std::string& s) {
    const size_t begin = s.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) return std::string();
    const size_t end = s.find_last_not_of(" \t\r\n");
    return s.substr(begin, end - begin + 1);
  }

  std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;
};

// `inline_value` unless `file` is set, in which case the file's current contents.
Result<std::string> Secret(const std::string& inline_value, const std::string& file,
                           std::string_view field) {
  if (file.empty()) return inline_value;
  Result<std::string> contents = SecretFiles::Instance().Read(file);
  if (!contents.ok()) return contents.status().WithContext(field);
  return contents;
}

}  // namespace

bool IsHttpClientConfigKey(std::string_view key) {
  return std::find(kKeys.begin(), kKeys.end(), key) != kKeys.end();
}

Result<HttpClientConfig> ParseHttpClientConfig(const YAML::Node& node, std::string_view path) {
  HttpClientConfig config;
  if (!node || node.IsNull()) return config;
  const std::string base(path);
  if (!node.IsMap()) return Invalid(base, "expected a map");
  std::string bearer_token, bearer_token_file;
  bool has_bearer = false;
  try {
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      if (!IsHttpClientConfigKey(key)) continue;
      const YAML::Node& v = kv.second;
      const std::string p = base + "." + key;
      if (key == "tls_config") {
        SHARDWISE_RETURN_IF_ERROR(ParseTls(v, p, &config.tls_config));
      } else if (key == "basic_auth") {
        if (v.IsNull()) continue;
        config.basic_auth.emplace();
        SHARDWISE_RETURN_IF_ERROR(ParseBasicAuth(v, p, &*config.basic_auth));
      } else if (key == "authorization") {
        if (v.IsNull()) continue;
        config.authorization.emplace();
        SHARDWISE_RETURN_IF_ERROR(ParseAuthorization(v, p, &*config.authorization));
      } else if (key == "bearer_token") {
        SHARDWISE_RETURN_IF_ERROR(ReadString(v, p, &bearer_token));
        has_bearer = has_bearer || !bearer_token.empty();
      } else if (key == "bearer_token_file") {
        SHARDWISE_RETURN_IF_ERROR(ReadString(v, p, &bearer_token_file));
        has_bearer = has_bearer || !bearer_token_file.empty();
      } else if (key == "headers") {
        SHARDWISE_RETURN_IF_ERROR(ParseHeaders(v, p, &config.headers));
      }
    }
  } catch (const YAML::Exception& e) {
    return Invalid(base, e.what());
  }
  if (has_bearer) {
    if (config.authorization) {
      return Invalid(base,
                     "at most one of authorization, bearer_token and bearer_token_file "
                     "may be set");
    }
    if (!bearer_token.empty() && !bearer_token_file.empty()) {
      return Invalid(base, "at most one of bearer_token and bearer_token_file may be set");
    }
    config.authorization = Authorization{"Bearer", bearer_token, bearer_token_file};
  }
  SHARDWISE_RETURN_IF_ERROR(ValidateHttpClientConfig(config, path));
  return config;
}

Status ValidateHttpClientConfig(const HttpClientConfig& config, std::string_view path) {
  const std::string base(path);
  SHARDWISE_RETURN_IF_ERROR(ValidateTls(config.tls_config, base + ".tls_config"));
  if (config.basic_auth) {
    const BasicAuth& b = *config.basic_auth;
    const std::string p = base + ".basic_auth";
    if (!b.username.empty() && !b.username_file.empty()) {
      return Invalid(p, "at most one of username and username_file may be set");
    }
    if (!b.password.empty() && !b.password_file.empty()) {
      return Invalid(p, "at most one of password and password_file may be set");
    }
  }
  if (config.authorization) {
    const Authorization& a = *config.authorization;
    const std::string p = base + ".authorization";
    if (EqualsIgnoreCase(a.type, "basic")) {
      return Invalid(p + ".type", "cannot be \"Basic\"; use basic_auth instead");
    }
    if (!a.credentials.empty() && !a.credentials_file.empty()) {
      return Invalid(p, "at most one of credentials and credentials_file may be set");
    }
  }
  if (config.basic_auth && config.authorization) {
    return Invalid(base,
                   "at most one of basic_auth and authorization (or bearer_token) may be set");
  }
  for (const auto& [name, value] : config.headers) {
    const std::string p = base + ".headers." + name;
    if (!IsHeaderName(name)) return Invalid(p, "is not a valid header name");
    const std::string lower = Lower(name);
    if (std::find(kReservedHeaders.begin(), kReservedHeaders.end(), lower) !=
        kReservedHeaders.end()) {
      return Invalid(p, "is reserved and cannot be set");
    }
    if (value.find_first_of("\r\n") != std::string::npos) {
      return Invalid(p, "must not contain a line break");
    }
  }
  return Status::OK();
}

Status ApplyTo(const HttpClientConfig& config, ClientRequest& request) {
  const TlsConfig& tls = config.tls_config;
  request.tls.ca_file = tls.ca_file;
  request.tls.cert_file = tls.cert_file;
  request.tls.key_file = tls.key_file;
  request.tls.ca_pem = tls.ca;
  request.tls.cert_pem = tls.cert;
  request.tls.key_pem = tls.key;
  request.tls.server_name = tls.server_name;
  request.tls.insecure_skip_verify = tls.insecure_skip_verify;

  if (config.basic_auth) {
    const BasicAuth& b = *config.basic_auth;
    Result<std::string> username = Secret(b.username, b.username_file, "basic_auth.username_file");
    if (!username.ok()) return username.status();
    Result<std::string> password = Secret(b.password, b.password_file, "basic_auth.password_file");
    if (!password.ok()) return password.status();
    request.basic_auth = std::make_pair(std::move(username).value(), std::move(password).value());
  }
  if (config.authorization) {
    const Authorization& a = *config.authorization;
    Result<std::string> credentials =
        Secret(a.credentials, a.credentials_file, "authorization.credentials_file");
    if (!credentials.ok()) return credentials.status();
    std::erase_if(request.headers,
                  [](const auto& h) { return EqualsIgnoreCase(h.first, "authorization"); });
    request.headers.emplace_back("Authorization", a.type + " " + credentials.value());
  }
  for (const auto& [name, value] : config.headers) {
    std::erase_if(request.headers,
                  [&name = name](const auto& h) { return EqualsIgnoreCase(h.first, name); });
    request.headers.emplace_back(name, value);
  }
  return Status::OK();
}

}  // namespace shardwise::http
