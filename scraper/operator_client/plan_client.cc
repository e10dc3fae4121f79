#include "scraper/operator_client/plan_client.h"

#include <random>

#include "common/duration.h"
#include "common/log/log.h"
#include "scraper/operator_client/client_metrics.h"
#include "scraper/operator_client/plan_file.h"

namespace shardwise::opclient {
namespace {

constexpr size_t kMaxPlanBytes = 64 << 20;
constexpr std::chrono::seconds kFirstRequestTimeout{10};
constexpr std::chrono::seconds kLongPollSlack{15};
constexpr std::chrono::seconds kNoPlanRetry{2};

double UnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Exchange {
  std::mutex mu;
  std::condition_variable cv;
  std::string body;
  bool done = false;
  Result<http::ClientResponse> response = Status::Aborted("no response");
};

}  // namespace

PlanClient::PlanClient(Options options, http::Client& client, PlanCallback on_plan)
    : options_(std::move(options)), client_(client), on_plan_(std::move(on_plan)) {}

PlanClient::~PlanClient() { Stop(); }

void PlanClient::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void PlanClient::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (in_flight_) client_.Cancel(*in_flight_);
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<plan::ScrapePlan> PlanClient::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

bool PlanClient::SleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, d, [this] { return stopping_; });
}

std::chrono::milliseconds PlanClient::NextBackoff() {
  // Full jitter: uniform in [0, min(max, min_backoff * 2^failures)], at least min/2 so a
  // crowd of scrapers never spins.
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  int exp = std::min(failures_, 16);
  auto cap = std::min<std::chrono::milliseconds>(options_.max_backoff,
                                                 options_.min_backoff * (int64_t{1} << exp));
  // A max_backoff below min_backoff/2 would make an empty (undefined) range: the cap wins.
  std::uniform_int_distribution<int64_t> dist(
      std::min(options_.min_backoff.count() / 2, cap.count()), cap.count());
  ++failures_;
  return std::chrono::milliseconds(dist(rng));
}

void PlanClient::Run() {
  bool first = true;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    Outcome outcome = PollOnce(first);
    if (first && (outcome == Outcome::kFailed || outcome == Outcome::kNoPlan)) {
      if (!LoadFromDisk()) {
        log::Warn("no scrape plan from the operator and none on disk; waiting",
                  {{"operator", options_.operator_url}});
      }
    }
    first = false;
    if (outcome == Outcome::kNewPlan || outcome == Outcome::kUnchanged) {
      failures_ = 0;
      continue;
    }
    // No plan yet (a new pod, or an operator rebuilding its placement after a restart):
    // ask again soon, the plan is usually seconds away.
    auto wait = NextBackoff();
    if (outcome == Outcome::kNoPlan) wait = std::min<std::chrono::milliseconds>(wait, kNoPlanRetry);
    if (!SleepFor(wait)) return;
  }
}

PlanClient::Outcome PlanClient::PollOnce(bool first) {
  ClientMetrics& m = ClientMetrics::Get();
  std::optional<uint64_t> known;
  {
    std::lock_guard lock(mu_);
    if (current_) known = current_->generation;
  }
  http::ClientRequest req;
  req.url =
      options_.operator_url + "/api/v1/plans/" + options_.pod_namespace + "/" + options_.pod_name;
  req.timeout = kFirstRequestTimeout;
  if (known) {
    req.headers.emplace_back("If-None-Match", "\"" + std::to_string(*known) + "\"");
    if (!first) {
      req.url += "?wait=" + FormatDuration(options_.wait);
      req.timeout = options_.wait + kLongPollSlack;
    }
  }
  if (Status st = http::ApplyTo(options_.http, req); !st.ok()) {
    ClientMetrics::Get().plan_requests.With({"error"}).Inc();
    log::Warn("scrape plan request not sent", {{"err", st}});
    return Outcome::kFailed;
  }

  auto ex = std::make_shared<Exchange>();
  http::Client::StreamId id = client_.DoStream(
      std::move(req),
      [ex](std::string_view chunk) {
        std::lock_guard lock(ex->mu);
        if (ex->body.size() + chunk.size() > kMaxPlanBytes) return false;
        ex->body.append(chunk);
        return true;
      },
      [ex](Result<http::ClientResponse> r) {
        std::lock_guard lock(ex->mu);
        ex->response = std::move(r);
        ex->done = true;
        ex->cv.notify_all();
      });
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      client_.Cancel(id);
    } else {
      in_flight_ = id;
    }
  }
  Result<http::ClientResponse> response = Status::Aborted("no response");
  std::string body;
  {
    std::unique_lock lock(ex->mu);
    ex->cv.wait(lock, [&] { return ex->done; });
    response = std::move(ex->response);
    body = std::move(ex->body);
  }
  {
    std::lock_guard lock(mu_);
    in_flight_.reset();
    if (stopping_) return Outcome::kFailed;
  }

  auto failed = [&](std::string_view result, const std::string& why) {
    m.plan_requests.With({std::string(result)}).Inc();
    log::Warn("scrape plan request failed",
              {{"operator", options_.operator_url}, {"err", why}, {"failures", failures_ + 1}});
    m.plan_stale.Set(1);
    stale_ = true;
    return Outcome::kFailed;
  };
  if (!response.ok()) return failed("error", response.status().ToString());
  const int status = response->status;
  if (status == 304) {
    m.plan_requests.With({"not_modified"}).Inc();
    m.last_successful_fetch.Set(UnixSeconds());
    m.plan_stale.Set(0);
    stale_ = false;
    return Outcome::kUnchanged;
  }
  if (status == 404) {
    // The operator is up but has no plan for us yet: keep whatever we scrape.
    m.plan_requests.With({"not_found"}).Inc();
    m.last_successful_fetch.Set(UnixSeconds());
    log::Info("operator has no scrape plan for this pod yet", {{"pod", options_.pod_name}});
    return Outcome::kNoPlan;
  }
  if (status != 200) {
    return failed("error", "HTTP " + std::to_string(status) + ": " + body.substr(0, 200));
  }
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return failed("invalid", "plan is not JSON");
  Result<plan::ScrapePlan> p = plan::PlanFromJson(j);
  if (!p.ok()) return failed("invalid", p.status().ToString());
  if (Status st = ValidatePlan(*p); !st.ok()) return failed("invalid", st.ToString());
  m.plan_requests.With({"ok"}).Inc();
  m.last_successful_fetch.Set(UnixSeconds());
  m.plan_stale.Set(0);
  stale_ = false;
  if (Status st = PersistPlan(options_.data_dir, *p); !st.ok()) {
    // Still apply it: scraping the right targets matters more than the fallback copy.
    log::Error("cannot persist the scrape plan", {{"err", st}});
  }
  if (!Deliver(std::move(p).value(), /*from_disk=*/false)) return Outcome::kFailed;
  return Outcome::kNewPlan;
}

bool PlanClient::LoadFromDisk() {
  {
    std::lock_guard lock(mu_);
    if (current_) return true;
  }
  Result<plan::ScrapePlan> p = LoadPersistedPlan(options_.data_dir);
  if (!p.ok()) {
    if (p.status().code() != Status::Code::kNotFound) {
      log::Error("cannot load the persisted scrape plan", {{"err", p.status()}});
    }
    return false;
  }
  log::Warn("operator unreachable: scraping the persisted plan",
            {{"generation", p->generation}, {"targets", p->targets.size()}});
  ClientMetrics::Get().plan_stale.Set(1);
  stale_ = true;
  return Deliver(std::move(p).value(), /*from_disk=*/true);
}

bool PlanClient::Deliver(plan::ScrapePlan plan, bool from_disk) {
  ClientMetrics& m = ClientMetrics::Get();
  Status st = on_plan_ ? on_plan_(plan) : Status::OK();
  if (!st.ok()) {
    m.plan_apply_errors.Inc();
    log::Error("cannot apply the scrape plan; retrying",
               {{"generation", plan.generation}, {"from_disk", from_disk}, {"err", st}});
    return false;
  }
  m.plan_generation.Set(static_cast<double>(plan.generation));
  m.plan_targets.Set(static_cast<double>(plan.targets.size()));
  {
    std::lock_guard lock(mu_);
    current_ = std::move(plan);
  }
  ++delivered_;
  return true;
}

}  // namespace shardwise::opclient
