// HTTP request/response values shared by the server and the client. Header lookup is
// case-insensitive; query parameters are percent-decoded on access.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shardwise::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive lookup; "" when absent. The first match wins.
std::string_view FindHeader(const Headers& headers, std::string_view name);

// Percent-decoding; `plus_is_space` for query strings (application/x-www-form-urlencoded).
std::string PercentDecode(std::string_view s, bool plus_is_space = false);
std::string PercentEncode(std::string_view s);

// All values of `name` in a raw query string ("a=1&b=2&a=3"), decoded.
std::vector<std::string> QueryParams(std::string_view raw_query, std::string_view name);

// The client certificate of a TLS connection, verified against the server's client CA
// bundle (Server::Options::tls_client_ca_file). Empty when the client presented none (only
// possible with tls_client_cert_optional); a presented certificate that does not verify
// fails the handshake, so handlers never see an unverified one.
struct PeerCertificate {
  std::string subject_cn;                  // the subject's (first) CommonName
  std::vector<std::string> organizations;  // the subject's O values (Kubernetes: groups)
  std::vector<std::string> chain_pem;      // the verified chain, leaf first, up to the CA
  bool present() const { return !chain_pem.empty(); }
};

struct Request {
  std::string method;
  std::string path;   // percent-decoded, without the query
  std::string query;  // raw, without '?'
  Headers headers;
  std::string body;
  std::string remote_address;
  bool tls = false;  // arrived over TLS
  PeerCertificate peer_certificate;

  std::string_view Header(std::string_view name) const { return FindHeader(headers, name); }
  // The first value of query parameter `name`, decoded; "" when absent.
  std::string Param(std::string_view name) const;
  bool HasParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  static Response Text(int status, std::string body);
  static Response Json(int status, std::string body);
  Response& With(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

}  // namespace shardwise::http
