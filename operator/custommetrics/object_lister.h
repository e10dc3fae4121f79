// The operator's ObjectLister for custom-metric requests on "*" (every object of a resource
// that a label selector picks): pods, services and namespaces from the informer caches the
// operator already keeps; the workload kinds (apps, batch, networking.k8s.io, core) by one
// LIST against the API server per request (results are cached by the provider).
#pragma once

#include "operator/custommetrics/workload_provider.h"
#include "operator/kube/client.h"
#include "operator/kube/store.h"

namespace shardwise::custommetrics {

struct ListerStores {
  const kube::Store* pods = nullptr;
  const kube::Store* services = nullptr;
  const kube::Store* namespaces = nullptr;
};

ObjectLister MakeObjectLister(kube::Client* client, ListerStores stores);

}  // namespace shardwise::custommetrics
