// The discovery endpoint as the operator runs it, for the fuzz targets of its routes
// (discovery_fuzz: plans and http_sd; reports_fuzz: load reports): `open` without
// authentication and `guarded` behind the same ScraperAuth, whose TokenReview is faked —
// kScraperToken is the one known token, bound to pod shardwise-main-0-1 of pool main in
// namespace mon. Both share one PlanStore and one ReportStore.
#pragma once

#include <string>

#include "operator/endpoint/discovery_endpoint.h"

namespace shardwise::fuzz {

// header.{"aud":["shardwise"],"exp":4102444800}.sig — also in the seed corpora.
inline const std::string kScraperToken =
    "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOlsic2hhcmR3aXNlIl0sImV4cCI6NDEwMjQ0NDgwMH0.sig";

struct EndpointWorld {
  endpoint::PlanStore plans;
  endpoint::ReportStore reports;
  endpoint::DiscoveryEndpoint open{plans, reports};
  endpoint::DiscoveryEndpoint guarded{plans, reports};
  endpoint::TokenReviewer reviewer{[](const std::string& token) -> Result<endpoint::TokenIdentity> {
                                     endpoint::TokenIdentity id;
                                     if (token == kScraperToken) {
                                       id.authenticated = true;
                                       id.username =
                                           "system:serviceaccount:mon:shardwise-main-scraper";
                                       id.pod_name = "shardwise-main-0-1";
                                       endpoint::ParseServiceAccountUsername(&id);
                                     }
                                     return id;
                                   },
                                   {}};
  endpoint::ScraperAuth auth{reviewer};

  EndpointWorld() {
    guarded.SetAuthorizer(
        [this](const http::Request& r, const endpoint::Access& a) { return auth.Check(r, a); });
  }
  EndpointWorld(const EndpointWorld&) = delete;
  EndpointWorld& operator=(const EndpointWorld&) = delete;
};

}  // namespace shardwise::fuzz
