#include "scraper/operator_client/plan_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/relabel/parse.h"

namespace shardwise::opclient {
namespace {

Status Errno(const std::string& what) {
  return Status::IOError(what + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write " + path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open " + dir);
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::OK() : Errno("fsync " + dir);
}

Status ValidateTarget(const plan::Target& t) {
  if (t.job.empty()) return Status::InvalidArgument("no job");
  if (t.address.empty() || t.address.find('/') != std::string::npos) {
    return Status::InvalidArgument("invalid address \"" + t.address + "\"");
  }
  if (t.scheme != "http" && t.scheme != "https") {
    return Status::InvalidArgument("invalid scheme \"" + t.scheme + "\"");
  }
  if (t.path.empty() || t.path.front() != '/') {
    return Status::InvalidArgument("path \"" + t.path + "\" must start with /");
  }
  if (t.interval.count() <= 0) return Status::InvalidArgument("interval must be positive");
  if (t.timeout.count() <= 0) return Status::InvalidArgument("timeout must be positive");
  if (t.timeout > t.interval) {
    return Status::InvalidArgument("timeout greater than the interval");
  }
  for (const auto& l : t.labels) {
    if (l.name.starts_with("__")) {
      return Status::InvalidArgument("label " + l.name + ": plan labels are final, no \"__\"");
    }
  }
  Result<std::vector<relabel::RelabelConfig>> rules = relabel::FromJson(t.metric_relabelings);
  if (!rules.ok()) return rules.status().WithContext("metricRelabelings");
  return Status::OK();
}

}  // namespace

Status ValidatePlan(const plan::ScrapePlan& plan) {
  std::set<uint64_t> ids;
  for (const auto& t : plan.targets) {
    if (!ids.insert(t.id).second) {
      return Status::InvalidArgument("duplicate target id " + plan::TargetIdHex(t.id));
    }
    Status st = ValidateTarget(t);
    if (!st.ok()) return st.WithContext("target " + plan::TargetIdHex(t.id));
  }
  return Status::OK();
}

std::string PlanPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "operator" / "plan.json").string();
}

namespace {

std::string LegacyPlanPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "plan.json").string();
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view contents, int mode) {
  std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("create " + dir.string() + ": " + ec.message());
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Errno("open " + tmp);
  Status st = WriteAll(fd, contents, tmp);
  // open() honours the umask; the mode must hold exactly (secrets stay 0600).
  if (st.ok() && ::fchmod(fd, static_cast<mode_t>(mode)) != 0) st = Errno("chmod " + tmp);
  if (st.ok() && ::fsync(fd) != 0) st = Errno("fsync " + tmp);
  if (::close(fd) != 0 && st.ok()) st = Errno("close " + tmp);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = Errno("rename " + tmp);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return SyncDirectory(dir.string());
}

Status PersistPlan(const std::string& data_dir, const plan::ScrapePlan& plan) {
  // 0600 in a 0700 directory: the plan carries scrape credentials (bearer tokens, TLS keys).
  const std::string path = PlanPath(data_dir);
  const std::string dir = std::filesystem::path(path).parent_path().string();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("create " + dir + ": " + ec.message());
  if (::chmod(dir.c_str(), 0700) != 0) return Errno("chmod " + dir);
  SHARDWISE_RETURN_IF_ERROR(WriteFileAtomically(path, plan::ToJson(plan).dump(), 0600));
  std::filesystem::remove(LegacyPlanPath(data_dir), ec);
  return Status::OK();
}

Result<plan::ScrapePlan> LoadPersistedPlan(const std::string& data_dir) {
  std::string path = PlanPath(data_dir);
  if (!std::filesystem::exists(path) && std::filesystem::exists(LegacyPlanPath(data_dir))) {
    path = LegacyPlanPath(data_dir);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("no persisted plan at " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption(path + ": not JSON");
  Result<plan::ScrapePlan> p = plan::PlanFromJson(j);
  if (!p.ok()) return p.status().WithContext(path);
  SHARDWISE_RETURN_IF_ERROR(ValidatePlan(*p).WithContext(path));
  return p;
}

}  // namespace shardwise::opclient
