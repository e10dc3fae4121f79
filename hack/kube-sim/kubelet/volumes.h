// PodVolumes: the host directories behind a pod's volumes, kept under
// <pod dir>/volumes/<name> and bind-mounted by the launcher:
// - emptyDir: a directory (mode 0777) removed with the pod;
// - persistentVolumeClaim: <data dir>/pvc/<ns>_<claim>_<uid>, which outlives pods; an
//   unbound claim is bound on first use (WaitForFirstConsumer), see `bind_claim`;
// - hostPath: the host path itself;
// - configMap, secret, downwardAPI, projected (serviceAccountToken, configMap, secret,
//   downwardAPI): files written atomically the way the kubelet does (a timestamped
//   directory, a "..data" symlink swapped by rename, one symlink per top-level entry), so a
//   reader never sees a half-updated volume. Sync() rewrites them when their content
//   changed and rotates tokens after 80% of their lifetime;
// - the ServiceAccount volume (token, ca.crt, namespace) every container gets at
//   /var/run/secrets/kubernetes.io/serviceaccount unless automountServiceAccountToken is
//   false (DefaultServiceAccountVolume()).
// fsGroup: volume directories and files get the group. Secrets never reach a log line.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "hack/kube-sim/api_error.h"

namespace shardwise::kubesim {

struct IssuedToken {
  std::string token;
  // Unix seconds when it expires.
  long long expiration_unix = 0;
};

// Issues a ServiceAccount token bound to a pod: (namespace, serviceAccount, audiences,
// expirationSeconds, podName, podUid). Empty audiences = the API server's audience.
using TokenIssuer = std::function<Result<IssuedToken>(
    const std::string& ns, const std::string& service_account,
    const std::vector<std::string>& audiences, long long expiration_seconds,
    const std::string& pod_name, const std::string& pod_uid)>;

struct VolumeContext {
  std::string pvc_root;
  // An object of the pod's namespace ("configmaps", "secrets", "persistentvolumeclaims").
  std::function<std::optional<json>(const std::string& plural, const std::string& name)> get;
  // Binds the claim to a volume at `host_dir` when it is not Bound yet.
  std::function<Status(const json& claim, const std::string& host_dir)> bind_claim;
  TokenIssuer issue_token;
  std::string ca_pem;
};

inline constexpr char kServiceAccountMountPath[] = "/var/run/secrets/kubernetes.io/serviceaccount";
inline constexpr char kServiceAccountVolume[] = "kube-api-access-sim";

class PodVolumes {
 public:
  explicit PodVolumes(std::string pod_dir) : pod_dir_(std::move(pod_dir)) {}

  // Creates or refreshes every volume (plus the ServiceAccount volume when wanted).
  // A missing object or key that is not optional: an error naming it; the pod waits.
  Status Sync(const json& pod, const VolumeContext& ctx);
  // The host path of a volume, "" when unknown.
  std::string HostPath(const std::string& volume) const;

  // The projected volume the admission plugin would add, or null when the pod opts out.
  static json DefaultServiceAccountVolume(const json& pod, const std::optional<json>& account);

 private:
  struct CachedToken {
    IssuedToken token;
    long long issued = 0;
  };
  Result<std::map<std::string, std::pair<std::string, int>>> Files(const json& pod,
                                                                   const json& volume,
                                                                   const VolumeContext& ctx);
  Status WriteAtomic(const std::string& dir,
                     const std::map<std::string, std::pair<std::string, int>>& files,
                     long long fs_group);

  std::string pod_dir_;
  std::map<std::string, std::string> paths_;    // volume -> host path
  std::map<std::string, std::string> written_;  // volume dir -> content fingerprint
  std::map<std::string, CachedToken> tokens_;   // volume/path -> token
  int generation_ = 0;
};

}  // namespace shardwise::kubesim
