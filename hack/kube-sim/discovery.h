// Discovery and OpenAPI documents derived from the served types: aggregated discovery
// (apidiscovery.k8s.io v2 and v2beta1), the legacy per-group-version documents, /version,
// and the OpenAPI v3 stub whose PATCH operations advertise `fieldValidation` so that
// kubectl leaves schema validation to the server (kube-api.md §2-§3).
#pragma once

#include <string>
#include <vector>

#include "hack/kube-sim/cluster.h"

namespace shardwise::kubesim {

json VersionInfo();
// `core` selects /api (the legacy group) over /apis; `version` is "v2" or "v2beta1".
json AggregatedDiscovery(const std::vector<TypePtr>& types, bool core, const std::string& version);
json LegacyApiVersions(const std::string& server_address);
json LegacyGroupList(const std::vector<TypePtr>& types);
// null when the group/version is not served.
json LegacyApiGroup(const std::vector<TypePtr>& types, const std::string& group);
json LegacyResourceList(const std::vector<TypePtr>& types, const std::string& group,
                        const std::string& version);
// Discovery entries for a group-version served elsewhere (an aggregated APIService):
// `entry` is {group, version, resources (an APIResourceList's resources)}.
json AggregatedGroupEntry(const json& entry);
json LegacyGroupEntry(const json& entry);
json OpenApiV3Index(const std::vector<TypePtr>& types);
json OpenApiV3GroupVersion(const std::vector<TypePtr>& types, const std::string& group,
                           const std::string& version);

}  // namespace shardwise::kubesim
