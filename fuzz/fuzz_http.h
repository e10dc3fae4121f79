// Helpers for the libFuzzer targets of HTTP route families: a ResponseWriter that records
// what a handler sends, and splitting an input into request parts.
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/server.h"

namespace shardwise::fuzz {

class RecordingWriter final : public http::ResponseWriter {
 public:
  void Send(http::Response r) override {
    ++responses;
    response = std::move(r);
  }
  bool BeginStream(int status, const http::Headers& headers) override {
    ++responses;
    response.status = status;
    response.headers = headers;
    return true;
  }
  bool Write(std::string_view chunk) override {
    response.body.append(chunk);
    return true;
  }
  void End() override {}
  // The peer is "gone" at once, so a long poll the fuzzer reaches ends immediately.
  bool ClientGone() override { return true; }

  int responses = 0;
  http::Response response;
};

// Splits `data` at '\n' into exactly `n` parts (missing ones empty, the last one keeps any
// further newlines).
inline std::vector<std::string> SplitParts(std::string_view data, size_t n) {
  std::vector<std::string> parts;
  while (parts.size() + 1 < n) {
    size_t nl = data.find('\n');
    parts.emplace_back(data.substr(0, nl));
    data = nl == std::string_view::npos ? std::string_view() : data.substr(nl + 1);
  }
  parts.emplace_back(data);
  return parts;
}

// Whether an Authorization header value carries `token` as a Bearer token (the scheme is
// case-insensitive).
inline bool IsBearer(std::string_view header, std::string_view token) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() != kScheme.size() + token.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return false;
  }
  return header.substr(kScheme.size()) == token;
}

}  // namespace shardwise::fuzz
