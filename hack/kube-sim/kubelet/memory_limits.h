// Memory limits for the simulated kubelet: what a container's resources.limits.memory is in
// bytes, and how much resident memory each container's processes use.
//
// The kubelet enforces a limit by polling (the kernel would refuse the allocation at once;
// polling lets a fast allocator overshoot for up to one poll): a container whose process
// group's summed RSS exceeds its limit is killed with SIGKILL and reported OOMKilled, exit
// code 137. Polling needs no cgroup controller, so it works wherever the kubelet runs.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <unordered_map>

#include "common/status.h"
#include "hack/kube-sim/api_error.h"

namespace shardwise::kubesim {

// resources.limits.memory of a container spec in bytes; 0 when it sets none.
// InvalidArgument for a malformed quantity.
Result<int64_t> MemoryLimitBytes(const json& container);

// The text of memory.max a container with this limit sees (cgroup v2): the bytes, or "max".
std::string MemoryMaxFileText(int64_t limit_bytes);

// What the processes of one process group use: summed resident memory and CPU time (user
// + system) of those alive, from PROC_ROOT/<pid>/stat. A container's processes are its
// process group, so this is its usage for kubectl top (metrics.k8s.io).
struct GroupUsage {
  int64_t rss_bytes = 0;
  double cpu_seconds = 0;
};
std::unordered_map<pid_t, GroupUsage> UsageByProcessGroup(const std::string& proc_root = "/proc");

// Summed resident set size in bytes of the processes of each process group, read from
// PROC_ROOT/<pid>/stat (fields pgrp and rss). Processes that vanish while being read are
// skipped.
std::unordered_map<pid_t, int64_t> RssByProcessGroup(const std::string& proc_root = "/proc");

}  // namespace shardwise::kubesim
