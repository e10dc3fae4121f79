#include "hack/kube-sim/kubelet/memory_limits.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/quantity.h"

namespace shardwise::kubesim {

Result<int64_t> MemoryLimitBytes(const json& container) {
  if (!container.is_object()) return int64_t{0};
  auto resources = container.find("resources");
  if (resources == container.end() || !resources->is_object()) return int64_t{0};
  auto limits = resources->find("limits");
  if (limits == resources->end() || !limits->is_object()) return int64_t{0};
  auto memory = limits->find("memory");
  if (memory == limits->end() || memory->is_null()) return int64_t{0};
  std::string text = memory->is_string() ? memory->get<std::string>() : memory->dump();
  auto q = ParseQuantity(text);
  if (!q.ok()) {
    return Status::InvalidArgument("resources.limits.memory \"" + text +
                                   "\": " + q.status().message());
  }
  // Whole bytes, rounded up as the kubelet does (Quantity.Value()).
  return (q->milli + 999) / 1000;
}

std::string MemoryMaxFileText(int64_t limit_bytes) {
  return limit_bytes > 0 ? std::to_string(limit_bytes) : "max";
}

std::unordered_map<pid_t, GroupUsage> UsageByProcessGroup(const std::string& proc_root) {
  static const int64_t page = ::sysconf(_SC_PAGESIZE) > 0 ? ::sysconf(_SC_PAGESIZE) : 4096;
  static const double ticks = ::sysconf(_SC_CLK_TCK) > 0 ? ::sysconf(_SC_CLK_TCK) : 100;
  std::unordered_map<pid_t, GroupUsage> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(proc_root, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(line.substr(close + 1));
    std::vector<std::string> f;
    for (std::string w; fields >> w && f.size() < 22;) f.push_back(w);
    // f[0] is field 3 (state): pgrp is f[2], utime f[11], stime f[12], rss f[21].
    if (f.size() < 22) continue;
    pid_t pgrp = static_cast<pid_t>(std::strtol(f[2].c_str(), nullptr, 10));
    if (pgrp <= 0) continue;
    int64_t rss_pages = std::strtoll(f[21].c_str(), nullptr, 10);
    double cpu_ticks = std::strtod(f[11].c_str(), nullptr) + std::strtod(f[12].c_str(), nullptr);
    GroupUsage& u = out[pgrp];
    if (rss_pages > 0) u.rss_bytes += rss_pages * page;
    u.cpu_seconds += cpu_ticks / ticks;
  }
  return out;
}

std::unordered_map<pid_t, int64_t> RssByProcessGroup(const std::string& proc_root) {
  std::unordered_map<pid_t, int64_t> out;
  for (const auto& [pgrp, u] : UsageByProcessGroup(proc_root))
    if (u.rss_bytes > 0) out[pgrp] = u.rss_bytes;
  return out;
}

}  // namespace shardwise::kubesim
