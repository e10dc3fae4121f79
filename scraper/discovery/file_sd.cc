#include "scraper/discovery/file_sd.h"

#include <glob.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "common/log/log.h"
#include "scraper/discovery/sd_metrics.h"

namespace shardwise::sd {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Result<std::vector<TargetGroup>> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  Result<std::vector<TargetGroup>> groups =
      EndsWith(path, ".json") ? ParseTargetGroupsJson(buffer.str(), path)
      : (EndsWith(path, ".yml") || EndsWith(path, ".yaml"))
          ? ParseTargetGroupsYaml(buffer.str(), path)
          : Result<std::vector<TargetGroup>>(
                Status::InvalidArgument("unsupported file extension (want .json, .yml, .yaml)"));
  if (!groups.ok()) return groups.status().WithContext(path);
  for (auto& group : groups.value()) {
    LabelsBuilder b(group.labels);
    b.Set("__meta_filepath", path);
    group.labels = b.Build();
  }
  return groups;
}

}  // namespace

FileSdSource::FileSdSource(FileSdConfig config, std::chrono::milliseconds poll_interval)
    : config_(std::move(config)), poll_interval_(poll_interval) {}

void FileSdSource::Start(UpdateFn update) {
  update_ = std::move(update);
  periodic_.Start(poll_interval_, [this] { Poll(false); });
}

void FileSdSource::Stop() { periodic_.Stop(); }

std::vector<std::string> FileSdSource::ExpandFiles() const {
  std::vector<std::string> out;
  for (const auto& pattern : config_.files) {
    glob_t g{};
    if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    }
    globfree(&g);
  }
  return out;
}

void FileSdSource::Poll(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (now - last_full_read_ >= config_.refresh_interval) {
    force = true;
    last_full_read_ = now;
  }
  std::map<std::string, FileState> next;
  for (const auto& path : ExpandFiles()) {
    FileState state;
    if (auto it = files_.find(path); it != files_.end()) state = it->second;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) continue;  // vanished between glob and stat
    int64_t mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    if (force || mtime_ns != state.mtime_ns || st.st_size != state.size) {
      Result<std::vector<TargetGroup>> groups = ReadFile(path);
      SdMetrics::Get().refreshes.With({"file"}).Inc();
      if (groups.ok()) {
        state.groups = std::move(groups).value();
        state.mtime_ns = mtime_ns;
        state.size = st.st_size;
      } else {
        SdMetrics::Get().refresh_failures.With({"file"}).Inc();
        log::Warn("file_sd: keeping the last good targets",
                  {{"file", path}, {"err", groups.status()}});
      }
    }
    next.emplace(path, std::move(state));
  }
  files_ = std::move(next);

  std::vector<TargetGroup> all;
  for (const auto& [path, state] : files_) {
    all.insert(all.end(), state.groups.begin(), state.groups.end());
  }
  if (!reported_ || all != last_reported_) {
    reported_ = true;
    last_reported_ = all;
    if (update_) update_(std::move(all));
  }
}

}  // namespace shardwise::sd
