// LocalCluster: the fixture every end-to-end test on the local simulated cluster uses.
// It starts the real `shardwise-kube-sim` binary with simulated nodes and an image map
// pointing at the build outputs and the installed Debian binaries:
//   shardwise/operator              -> <build>/operator/shardwise-operator
//   shardwise/scraper               -> <build>/scraper/shardwise-scraper
//   shardwise/sample-app            -> <build>/hack/sample-app/shardwise-sample-app
//   quay.io/prometheus/node-exporter -> /usr/bin/prometheus-node-exporter
//   victoriametrics/victoria-metrics -> /usr/bin/victoria-metrics
//   prom/prometheus                  -> /usr/bin/prometheus
//   busybox                          -> /bin/sh (tests run shell snippets with `command`)
// writes a kubeconfig (HTTPS, with CA) and runs the real kubectl with its own cache dir.
// Waiting is server-driven (`kubectl wait --for=jsonpath=...`/condition), never sleeps.
// Stop() (also on destruction) sends SIGTERM and waits: the simulator stops every pod
// within its grace period, so nothing it started is left running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/testing/test_util.h"
#include "tests/kubectl/command_runner.h"

namespace shardwise::testing {

struct LocalClusterOptions {
  int nodes = 3;
  // CrashLoopBackOff delays are 10 s * scale doubling to 300 s * scale.
  double backoff_scale = 0.1;
  // Extra image -> program entries ("image" -> argv of the entrypoint).
  std::map<std::string, std::vector<std::string>> images;
  std::vector<std::string> extra_args;
};

class LocalCluster {
 public:
  explicit LocalCluster(LocalClusterOptions options = {});
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  Status Start();
  // SIGTERM, then waits (up to `timeout`) for the simulator to exit; SIGKILL after that.
  // Returns the exit code (-1 when it had to be killed).
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // SIGKILL: the crash case (containers must die with it through PR_SET_PDEATHSIG).
  void Kill();

  CommandResult Kubectl(std::vector<std::string> args,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30),
                        const std::string& stdin_data = "") const;
  // kubectl apply -f - with `yaml`.
  CommandResult Apply(const std::string& yaml) const;
  // Polls `kubectl get` until RESOURCE ("pod/x", "pod x") exists.
  bool WaitForExists(const std::string& resource, const std::string& ns = "default",
                     std::chrono::seconds timeout = std::chrono::seconds(60)) const;
  // `kubectl wait --for=jsonpath={PATH}=VALUE RESOURCE` once it exists; true when it held.
  bool WaitForJsonPath(const std::string& resource, const std::string& path,
                       const std::string& value, const std::string& ns = "default",
                       std::chrono::seconds timeout = std::chrono::seconds(60)) const;
  // `kubectl wait --for=condition=COND RESOURCE` once it exists.
  bool WaitForCondition(const std::string& resource, const std::string& condition,
                        const std::string& ns = "default",
                        std::chrono::seconds timeout = std::chrono::seconds(60)) const;
  // `kubectl get RESOURCE -o jsonpath={PATH}` (stdout; "" on error).
  std::string JsonPath(const std::string& resource, const std::string& path,
                       const std::string& ns = "default") const;
  std::string PodIp(const std::string& pod, const std::string& ns = "default") const;
  // `kubectl logs POD -c CONTAINER [extra...]` stdout.
  std::string Logs(const std::string& pod, const std::string& container,
                   std::vector<std::string> extra = {}, const std::string& ns = "default") const;
  // The host PID of a running container (from its containerID, kubesim://PID); 0 if none.
  pid_t ContainerPid(const std::string& pod, const std::string& container,
                     const std::string& ns = "default") const;
  bool KillContainer(const std::string& pod, const std::string& container, int signal,
                     const std::string& ns = "default") const;

  const std::string& kubeconfig() const { return kubeconfig_; }
  std::map<std::string, std::string> KubectlEnv() const;
  const std::string& dir() const { return dir_.path(); }
  std::string data_dir() const { return dir_.path() + "/data"; }
  // The simulator's own log (stdout+stderr), for assertion messages.
  std::string SimLog() const;
  pid_t sim_pid() const { return pid_; }
  // Path of a built binary under the build directory ("operator/shardwise-operator").
  static std::string BuildOutput(const std::string& relative);
  // Path of a file of the checkout ("manifests/", "crds/shardwise.io/"), from
  // SHARDWISE_SOURCE_DIR as ctest sets it (the working directory otherwise).
  static std::string SourcePath(const std::string& relative);

 private:
  LocalClusterOptions options_;
  TempDir dir_;
  std::string kubeconfig_;
  pid_t pid_ = -1;
};

// True when `pid` is alive (and not a zombie).
bool ProcessAlive(pid_t pid);

}  // namespace shardwise::testing
