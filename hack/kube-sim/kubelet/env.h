// A container's environment and argv as the kubelet computes them:
// - envFrom (configMapRef/secretRef with prefix and optional), then env (value with
//   $(VAR) expansion over what precedes it, fieldRef, resourceFieldRef, configMapKeyRef,
//   secretKeyRef with optional), then the service-link variables of the pod's namespace
//   for names the container did not set; KUBERNETES_SERVICE_HOST/PORT always.
// - argv: the container's `command` replaces the image entrypoint and its `args` replace
//   the image's default args; both get $(VAR) expansion over the final environment.
// Expansion: "$(VAR)" becomes VAR's value when VAR is defined and stays as written when
// not; "$$" is an escaped "$" (so "$$(VAR)" yields "$(VAR)").
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "hack/kube-sim/api_error.h"
#include "hack/kube-sim/kubelet/image_map.h"

namespace shardwise::kubesim {

using EnvList = std::vector<std::pair<std::string, std::string>>;

struct EnvSources {
  // Objects in the pod's namespace; null when absent.
  std::function<std::optional<json>(const std::string& name)> config_map;
  std::function<std::optional<json>(const std::string& name)> secret;
  // The Services of the pod's namespace (for service links when enableServiceLinks).
  std::vector<json> services;
  // Where KUBERNETES_SERVICE_HOST/PORT point (the simulator's HTTPS listener).
  std::string api_host;
  int api_port = 0;
  // The node's allocatable, for resourceFieldRef on unset limits.
  double node_cpu = 0;
  double node_memory = 0;
};

// A downward API fieldRef of `pod` (metadata.name/namespace/uid, labels['k'],
// annotations['k'], spec.nodeName, spec.serviceAccountName, status.podIP(s), status.hostIP(s)).
Result<std::string> PodFieldRef(const json& pod, const std::string& path);

std::string ExpandVars(const std::string& in, const std::map<std::string, std::string>& vars);

// The docker-link style variables of `services` ({NAME}_SERVICE_HOST, {NAME}_PORT_...).
EnvList ServiceLinkEnv(const std::vector<json>& services);

// InvalidArgument with the kubelet's CreateContainerConfigError message when a referenced
// object or key is missing and not optional.
Result<EnvList> BuildContainerEnv(const json& pod, const json& container, const EnvSources& src);

// The argv to run, or InvalidArgument when the image is not in the image map (the
// simulator's registry) or no command results.
Result<std::vector<std::string>> BuildArgv(const json& container, const ImageMap& images,
                                           const EnvList& env);

}  // namespace shardwise::kubesim
