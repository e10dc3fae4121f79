// The container launcher. The simulator is multithreaded, so nothing but posix_spawn
// happens between fork and exec there: it spawns itself again in `pod-exec` mode, a
// single-threaded program that prepares the container's world and then execve's the
// container (so the container's host PID is the spawned PID):
//   - PR_SET_PDEATHSIG(SIGKILL): the container dies with the simulator, even on SIGKILL;
//   - its own process group (signals go to the group);
//   - a new mount namespace with private propagation, each volume bind-mounted at its mount
//     path (read-only when asked), the pod's /etc/hosts bind-mounted over /etc/hosts, and a
//     new UTS namespace with the pod's hostname;
//   - a tmpfs over /sys/fs/cgroup holding memory.max (LaunchSpec::memory_max): the host's
//     cgroup tree cannot take a new file to bind-mount over, and a container sees only
//     its own cgroup anyway;
//   - or, for exec probes and preStop hooks, joining a running container's namespaces;
//   - working directory, runAsGroup/supplemental groups/runAsUser, then execve with the
//     container's environment (the program is looked up on the container's PATH).
// Mount targets missing on the host are created (directories, or empty files for
// file volumes) before the bind mount; they stay behind as empty entries.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "hack/kube-sim/api_error.h"
#include "hack/kube-sim/kubelet/env.h"

namespace shardwise::kubesim {

struct Mount {
  std::string source;  // host path (directory or file)
  std::string target;  // path inside the container
  bool read_only = false;
};

struct LaunchSpec {
  std::vector<std::string> argv;
  EnvList env;
  std::string working_dir;
  std::vector<Mount> mounts;
  std::string hostname;
  long long uid = -1;  // -1 = keep
  long long gid = -1;
  std::vector<long long> supplemental_groups;
  pid_t join_pid = 0;  // > 0: run inside this process's mount/UTS namespaces
  // Non-empty: /sys/fs/cgroup inside the container is a read-only tmpfs whose memory.max
  // holds this ("max" or the limit in bytes), as a cgroup v2 container sees its limit.
  std::string memory_max;
};

// Spawns `launcher` (the simulator binary) in pod-exec mode. stdin is /dev/null; stdout
// and stderr go to the given fds (-1: /dev/null). Returns the PID, which is also the
// process group id.
Result<pid_t> SpawnContainer(const std::string& launcher, const LaunchSpec& spec, int stdout_fd,
                             int stderr_fd);

// The pod-exec entry point (argv[1] == "pod-exec"); never returns on success.
int PodExecMain(int argc, char** argv);

}  // namespace shardwise::kubesim
