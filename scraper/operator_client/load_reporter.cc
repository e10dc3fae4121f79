#include "scraper/operator_client/load_reporter.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "common/log/log.h"
#include "common/metrics/registry.h"
#include "scraper/operator_client/client_metrics.h"
#include "scraper/scrape/scrape_metrics.h"

namespace shardwise::opclient {
namespace {

constexpr std::chrono::minutes kFailureLogEvery{1};

int64_t UnixMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Sum over `jobs` of the counter's growth since `baseline`, which is then advanced. A job
// seen for the first time counts from zero: it started after the previous report.
double Delta(metrics::CounterFamily& family, const std::set<std::string>& jobs,
             std::map<std::string, double>& baseline) {
  double total = 0;
  for (const auto& job : jobs) {
    double now = family.With({job}).Value();
    double& before = baseline[job];
    total += std::max(0.0, now - before);
    before = now;
  }
  return total;
}

// cgroup v2's limit of this process's memory, 0 when unlimited or unreadable.
double CgroupMemoryLimit() {
  std::ifstream f("/sys/fs/cgroup/memory.max");
  std::string v;
  if (!(f >> v) || v == "max") return 0;
  char* end = nullptr;
  double limit = std::strtod(v.c_str(), &end);
  return end != v.c_str() && limit > 0 ? limit : 0;
}

}  // namespace

LoadReporter::LoadReporter(Options options, const scrape::ScrapeManager& manager,
                           const PlanApplier& applier, http::Client& client)
    : options_(std::move(options)), manager_(manager), applier_(applier), client_(client) {}

LoadReporter::~LoadReporter() { Stop(); }

void LoadReporter::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void LoadReporter::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LoadReporter::Poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

uint64_t LoadReporter::reports_sent() const {
  std::lock_guard lock(mu_);
  return sent_;
}

void LoadReporter::Run() {
  while (true) {
    Status st = SendOnce();
    std::unique_lock lock(mu_);
    if (st.ok()) {
      if (failing_) log::Info("load reports to the operator recovered");
      failing_ = false;
    } else {
      auto now = std::chrono::steady_clock::now();
      if (!failing_ || now - last_failure_log_ >= kFailureLogEvery) {
        log::Warn("cannot send the load report",
                  {{"operator", options_.operator_url}, {"err", st}});
        last_failure_log_ = now;
      }
      failing_ = true;
    }
    cv_.wait_for(lock, options_.interval, [this] { return stopping_ || poked_; });
    if (stopping_) return;
    poked_ = false;
  }
}

plan::LoadReport LoadReporter::BuildReport() {
  std::lock_guard lock(build_mu_);
  plan::LoadReport r;
  r.pod = options_.pod_name;
  std::optional<plan::ScrapePlan> current = applier_.Current();
  std::map<uint64_t, const plan::Target*> planned;
  if (current) {
    r.shard = current->shard;
    r.replica = current->replica;
    r.plan_generation = current->generation;
    for (const auto& t : current->targets) planned[t.id] = &t;
  }
  if (auto error = applier_.LastError()) {
    r.failed_plan_generation = error->first;
    r.plan_error = error->second.substr(0, 1024);
  }
  double busy = 0;  // average scrapes in flight
  std::chrono::milliseconds longest_interval{0};
  for (const scrape::TargetStatus& s : manager_.ActiveTargets()) {
    std::optional<uint64_t> id = applier_.PlanId(s.target.hash);
    if (!id) continue;
    plan::TargetLoad load;
    load.id = *id;
    load.series = static_cast<double>(s.series);
    load.last_error = s.last_error;
    if (auto p = planned.find(*id); p != planned.end()) {
      load.handoff = p->second->handoff;
      load.cutover_unix_ms = p->second->cutover_unix_ms;
    }
    if (s.last_success.time_since_epoch().count() != 0) {
      load.last_success_unix_ms = UnixMs(s.last_success);
    }
    r.per_target.push_back(std::move(load));
    r.active_series += static_cast<double>(s.series);
    longest_interval = std::max(
        longest_interval, std::chrono::duration_cast<std::chrono::milliseconds>(s.target.interval));
    if (s.target.interval.count() > 0) {
      busy += s.last_scrape_duration / std::chrono::duration<double>(s.target.interval).count();
    }
  }
  std::sort(r.per_target.begin(), r.per_target.end(),
            [](const plan::TargetLoad& a, const plan::TargetLoad& b) { return a.id < b.id; });
  r.targets = r.per_target.size();
  r.saturation = options_.scrape_slots > 0 ? std::min(1.0, busy / options_.scrape_slots) : 0;

  const std::set<std::string> jobs = applier_.Jobs();
  scrape::ScrapeMetrics& sm = scrape::ScrapeMetrics::Get();
  const auto now = std::chrono::steady_clock::now();
  const double samples = Delta(sm.samples_scraped, jobs, samples_baseline_);
  const double errors = Delta(sm.scrapes_failed, jobs, failures_baseline_);
  const double skipped = Delta(sm.skipped_ticks, jobs, skipped_baseline_);
  // The first report only sets the baselines: the counters are process-wide and may hold
  // counts from before this reporter existed.
  r.samples_per_second = sample_rate_.Update(now, samples, longest_interval);
  if (last_report_.time_since_epoch().count() != 0) {
    r.scrape_errors = static_cast<uint64_t>(errors);
    r.skipped_ticks = static_cast<uint64_t>(skipped);
  }
  last_report_ = now;
  r.memory_bytes = metrics::ProcessResidentBytes();
  r.memory_limit_bytes =
      options_.memory_limit_bytes > 0 ? options_.memory_limit_bytes : CgroupMemoryLimit();
  if (options_.remote_write_lag_seconds) {
    r.remote_write_lag_seconds = options_.remote_write_lag_seconds();
  }
  return r;
}

Status LoadReporter::SendOnce() {
  plan::LoadReport report = BuildReport();
  http::ClientRequest req;
  req.method = "POST";
  req.url =
      options_.operator_url + "/api/v1/reports/" + options_.pod_namespace + "/" + options_.pod_name;
  req.headers.emplace_back("Content-Type", "application/json");
  req.body = plan::ToJson(report).dump();
  req.timeout = std::min<std::chrono::milliseconds>(options_.interval, std::chrono::seconds(10));
  if (Status st = http::ApplyTo(options_.http, req); !st.ok()) {
    ClientMetrics::Get().reports.With({"error"}).Inc();
    return st;
  }
  Result<http::ClientResponse> resp = client_.DoSync(std::move(req));
  ClientMetrics& m = ClientMetrics::Get();
  if (!resp.ok()) {
    m.reports.With({"error"}).Inc();
    return resp.status();
  }
  if (resp->status / 100 != 2) {
    m.reports.With({"error"}).Inc();
    return Status::Unavailable("HTTP " + std::to_string(resp->status) + ": " +
                               resp->body.substr(0, 200));
  }
  m.reports.With({"ok"}).Inc();
  std::lock_guard lock(mu_);
  ++sent_;
  return Status::OK();
}

}  // namespace shardwise::opclient
