#include "scraper/scrape/scrape_manager.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/duration.h"
#include "common/log/log.h"
#include "scraper/discovery/file_sd.h"
#include "scraper/discovery/http_sd.h"
#include "scraper/discovery/static_source.h"

namespace shardwise::scrape {
namespace {

constexpr std::string_view kStaticSource = "static";

std::string FileSource(size_t i) { return "file_sd/" + std::to_string(i); }
std::string HttpSource(size_t i) { return "http_sd/" + std::to_string(i); }

std::vector<std::string> SourceKeys(const ScrapeConfig& c) {
  std::vector<std::string> keys{std::string(kStaticSource)};
  for (size_t i = 0; i < c.file_sd_configs.size(); ++i) keys.push_back(FileSource(i));
  for (size_t i = 0; i < c.http_sd_configs.size(); ++i) keys.push_back(HttpSource(i));
  return keys;
}

nlohmann::json LabelsJson(const Labels& labels) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& l : labels) j[l.name] = l.value;
  return j;
}

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  if (t.time_since_epoch().count() == 0) return "0001-01-01T00:00:00Z";
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

}  // namespace

ScrapeManager::ScrapeManager(Options options, storage::Appendable& storage, http::Client& client)
    : options_(options),
      storage_(storage),
      client_(client),
      scheduler_(std::make_shared<Scheduler>(options.worker_threads)) {}

ScrapeManager::~ScrapeManager() { Stop(); }

void ScrapeManager::StopSources(Job& job) {
  for (auto& source : job.sources) source->Stop();
  job.sources.clear();
}

void ScrapeManager::StartSources(Job& job) {
  ScrapePool* pool = job.pool.get();
  const ScrapeConfig& c = job.config;
  for (size_t i = 0; i < c.file_sd_configs.size(); ++i) {
    job.sources.push_back(
        std::make_unique<sd::FileSdSource>(c.file_sd_configs[i], options_.file_sd_poll_interval));
  }
  for (size_t i = 0; i < c.http_sd_configs.size(); ++i) {
    job.sources.push_back(std::make_unique<sd::HttpSdSource>(c.http_sd_configs[i], client_));
  }
  // Sources are in file_sd, then http_sd order, matching their keys.
  for (size_t i = 0; i < job.sources.size(); ++i) {
    std::string key =
        i < c.file_sd_configs.size() ? FileSource(i) : HttpSource(i - c.file_sd_configs.size());
    job.sources[i]->Start([pool, key](std::vector<sd::TargetGroup> groups) {
      pool->SetGroups(key, std::move(groups));
    });
  }
}

Status ScrapeManager::ApplyConfig(const Config& config) {
  std::lock_guard lock(mu_);
  if (stopped_) return Status::FailedPrecondition("scrape manager stopped");
  // Validate everything before touching anything.
  for (const auto& c : config.scrape_configs) {
    if (!relabel::Relabeler::Compile(c.relabel_configs).ok() ||
        !relabel::Relabeler::Compile(c.metric_relabel_configs).ok()) {
      return Status::InvalidArgument("job " + c.job_name + ": relabel rules do not compile");
    }
  }
  std::map<std::string, const ScrapeConfig*> wanted;
  for (const auto& c : config.scrape_configs) wanted[c.job_name] = &c;

  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (wanted.count(it->first) == 0) {
      StopSources(*it->second);
      it->second->pool->Stop();
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [name, c] : wanted) {
    auto it = jobs_.find(name);
    if (it != jobs_.end()) {
      // Only what changed: scrape settings restart the job's loops, source changes restart
      // the sources, new static targets only touch the targets that differ.
      Job& job = *it->second;
      const bool settings_changed = job.config.fingerprint != c->fingerprint;
      const bool sd_changed = job.config.file_sd_configs != c->file_sd_configs ||
                              job.config.http_sd_configs != c->http_sd_configs;
      const bool static_changed = job.config.static_configs != c->static_configs;
      if (sd_changed) StopSources(job);
      job.config = *c;
      if (settings_changed) {
        std::optional<std::vector<sd::TargetGroup>> static_groups;
        if (static_changed) static_groups = c->static_configs;
        SHARDWISE_RETURN_IF_ERROR(
            job.pool->Reload(*c, std::string(kStaticSource), std::move(static_groups)));
      } else if (static_changed) {
        job.pool->SetGroups(std::string(kStaticSource), c->static_configs);
      }
      if (sd_changed) {
        job.pool->RetainSources(SourceKeys(*c));
        StartSources(job);
      }
      continue;
    }
    auto job = std::make_unique<Job>();
    job->config = *c;
    ScrapePool::Deps deps;
    deps.scheduler = scheduler_;
    deps.client = &client_;
    deps.storage = &storage_;
    deps.jitter_seed = options_.jitter_seed;
    deps.gates = gates_;
    deps.silent = [this](uint64_t hash) {
      std::lock_guard lock(handoff_mu_);
      return handoff_.erase(hash) > 0;
    };
    Result<std::unique_ptr<ScrapePool>> pool = ScrapePool::New(*c, std::move(deps));
    if (!pool.ok()) return pool.status();
    job->pool = std::move(pool).value();
    job->pool->SetGroups(std::string(kStaticSource), c->static_configs);
    StartSources(*job);
    jobs_.emplace(name, std::move(job));
  }
  log::Info("scrape configuration applied", {{"jobs", jobs_.size()}});
  return Status::OK();
}

Status ScrapeManager::UpdateTargets(const std::string& job, const std::string& source,
                                    std::vector<sd::TargetGroup> groups) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return Status::NotFound("no scrape job " + job);
  it->second->pool->SetGroups(source, std::move(groups));
  return Status::OK();
}

void ScrapeManager::MarkHandoff(uint64_t target_hash) {
  std::lock_guard lock(handoff_mu_);
  handoff_.insert(target_hash);
}

void ScrapeManager::Stop() {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  for (auto& [name, job] : jobs_) StopSources(*job);
  for (auto& [name, job] : jobs_) job->pool->Stop(/*stale_markers=*/false);
  scheduler_->Stop();
}

std::vector<TargetStatus> ScrapeManager::ActiveTargets() const {
  std::lock_guard lock(mu_);
  std::vector<TargetStatus> out;
  for (const auto& [name, job] : jobs_) {
    auto active = job->pool->Active();
    out.insert(out.end(), std::make_move_iterator(active.begin()),
               std::make_move_iterator(active.end()));
  }
  return out;
}

std::vector<storage::MetricMetadata> ScrapeManager::MetadataList() const {
  std::set<storage::MetricMetadata> unique;
  std::lock_guard lock(mu_);
  for (const auto& [name, job] : jobs_) {
    job->pool->ForEachMetadata([&](const std::vector<storage::MetricMetadata>& list) {
      unique.insert(list.begin(), list.end());
    });
  }
  return {unique.begin(), unique.end()};
}

std::vector<DroppedTarget> ScrapeManager::DroppedTargets() const {
  std::lock_guard lock(mu_);
  std::vector<DroppedTarget> out;
  for (const auto& [name, job] : jobs_) {
    auto dropped = job->pool->Dropped();
    out.insert(out.end(), dropped.begin(), dropped.end());
  }
  return out;
}

std::string ScrapeManager::TargetsJson() const {
  nlohmann::json active = nlohmann::json::array();
  for (const auto& t : ActiveTargets()) {
    std::string url = t.target.Url();
    active.push_back({
        {"discoveredLabels", LabelsJson(t.target.discovered_labels)},
        {"labels", LabelsJson(t.target.labels)},
        {"scrapePool", t.target.job},
        {"scrapeUrl", url},
        {"globalUrl", url},
        {"lastError", t.last_error},
        {"lastScrape", Rfc3339(t.last_scrape)},
        {"lastScrapeDuration", t.last_scrape_duration},
        {"health", t.health},
        {"scrapeInterval", FormatDuration(t.target.interval)},
        {"scrapeTimeout", FormatDuration(t.target.timeout)},
        {"seriesCount", t.series},
        {"targetHash", fmt::format("{:016x}", t.target.hash)},
    });
  }
  nlohmann::json dropped = nlohmann::json::array();
  for (const auto& d : DroppedTargets()) {
    nlohmann::json j = {{"discoveredLabels", LabelsJson(d.discovered_labels)}};
    if (!d.reason.empty()) j["error"] = d.reason;
    dropped.push_back(std::move(j));
  }
  nlohmann::json doc = {{"status", "success"},
                        {"data", {{"activeTargets", active}, {"droppedTargets", dropped}}}};
  return doc.dump();
}

std::shared_ptr<ScrapeLoop> ScrapeManager::Loop(const std::string& job, uint64_t hash) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(job);
  return it == jobs_.end() ? nullptr : it->second->pool->Loop(hash);
}

size_t ScrapeManager::LoopsStarted(const std::string& job) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(job);
  return it == jobs_.end() ? 0 : it->second->pool->loops_started();
}

}  // namespace shardwise::scrape
