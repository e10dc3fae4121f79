// libFuzzer target for the Kubernetes API simulator's PATCH functions (hack/kube-sim/
// patch.h). The first byte picks the format (0: JSON merge patch, 1: JSON patch, 2:
// strategic merge patch); the rest is "<object JSON> NUL <patch JSON>", or just a patch,
// applied to a fixed Deployment-like object. JSON is parsed without exceptions.
//
// Invariants: applying returns a result or an ApiError and never throws or crashes; every
// result serialises; a merge patch is idempotent (RFC 7386); a failed JSON or strategic
// patch carries a 4xx code and a message.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_check.h"
#include "hack/kube-sim/patch.h"

namespace kubesim = shardwise::kubesim;
using nlohmann::json;
using shardwise::fuzz::Check;

namespace {

const json& DefaultObject() {
  static const json object = json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "api", "namespace": "default", "labels": {"app": "api"},
                 "finalizers": ["a", "b"]},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
      "template": {"metadata": {"labels": {"app": "api"}},
        "spec": {"containers": [
          {"name": "api", "image": "api:1", "ports": [{"containerPort": 8080, "name": "http"}],
           "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
           "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
          {"name": "sidecar", "image": "proxy:2", "args": ["-v", "--port=9090"]}],
          "volumes": [{"name": "data", "emptyDir": {}}],
          "tolerations": [{"key": "k", "operator": "Exists"}]}}}})");
  return object;
}

void CheckFailure(const kubesim::ApiError& error) {
  Check(error.code() >= 400 && error.code() < 500, "a failed patch is the client's fault");
  Check(!error.message().empty(), "a failed patch says why");
  (void)error.ToStatus().dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t nul = input.find('\0');
  json object = DefaultObject();
  std::string_view patch_text = input;
  if (nul != std::string_view::npos) {
    object = json::parse(input.substr(0, nul), nullptr, /*allow_exceptions=*/false);
    patch_text = input.substr(nul + 1);
  }
  const json patch = json::parse(patch_text, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || patch.is_discarded()) return 0;

  switch (data[0] % 3) {
    case 0: {
      const json once = kubesim::ApplyMergePatch(object, patch);
      (void)once.dump();
      Check(kubesim::ApplyMergePatch(once, patch) == once, "merge patches are idempotent");
      break;
    }
    case 1: {
      auto result = kubesim::ApplyJsonPatch(object, patch);
      if (result.ok()) {
        (void)result.value().dump();
      } else {
        CheckFailure(result.error());
      }
      break;
    }
    case 2: {
      auto result = kubesim::ApplyStrategicMergePatch(object, patch);
      if (result.ok()) {
        (void)result.value().dump();
      } else {
        CheckFailure(result.error());
      }
      break;
    }
  }
  return 0;
}
