// Test doubles for the metrics APIs' admission, shared by their tests and the fuzz target:
// whoever names themselves in the X-Test-User header is authenticated (no header: 401), and
// only the user "hpa" is authorized (anyone else: 403).
#pragma once

#include <string>

#include "operator/custommetrics/auth.h"

namespace shardwise::custommetrics {

class FakeAuthn : public Authenticator {
 public:
  Result<UserInfo> Authenticate(const http::Request& r) const override {
    if (r.Header("X-Test-User").empty()) return Status::FailedPrecondition("anonymous");
    return UserInfo{std::string(r.Header("X-Test-User")), {}, {}};
  }
};

class FakeAuthz : public Authorizer {
 public:
  Result<bool> Authorize(const UserInfo& u, const Attributes& a, std::string* reason) override {
    last = a;
    *reason = "";
    return u.name == "hpa";
  }
  Attributes last;  // of the last request
};

}  // namespace shardwise::custommetrics
