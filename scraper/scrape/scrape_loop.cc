#include "scraper/scrape/scrape_loop.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/http/client_config.h"
#include "common/log/log.h"
#include "scraper/parse/parser.h"
#include "scraper/scrape/scrape_metrics.h"
#include "scraper/scrape/size.h"

namespace shardwise::scrape {
namespace {

IngestOptions MakeIngestOptions(const ScrapeConfig& c, relabel::Relabeler metric_relabeler) {
  IngestOptions o;
  o.honor_labels = c.honor_labels;
  o.honor_timestamps = c.honor_timestamps;
  o.sample_limit = c.sample_limit;
  o.label_limit = c.label_limit;
  o.label_name_length_limit = c.label_name_length_limit;
  o.label_value_length_limit = c.label_value_length_limit;
  o.metric_relabeler = std::move(metric_relabeler);
  return o;
}

int64_t ToMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

ScrapeLoop::ScrapeLoop(Target target, const ScrapeConfig& config,
                       relabel::Relabeler metric_relabeler, std::shared_ptr<Scheduler> scheduler,
                       http::Client& client, storage::Appendable& storage, uint64_t jitter_seed,
                       std::shared_ptr<const ForwardGates> gates)
    : target_(std::move(target)),
      config_(config),
      scheduler_(std::move(scheduler)),
      client_(client),
      jitter_seed_(jitter_seed),
      gates_(std::move(gates)),
      job_(target_.job),
      ingester_(target_.labels, MakeIngestOptions(config, std::move(metric_relabeler)), storage) {
  status_.target = target_;
}

ScrapeLoop::~ScrapeLoop() {
  std::lock_guard lock(mu_);
  ScrapeMetrics::Get().cache_series.Add(-static_cast<double>(reported_cache_size_));
}

std::chrono::nanoseconds ScrapeLoop::Offset(uint64_t hash, std::chrono::milliseconds interval,
                                            std::chrono::system_clock::time_point now) {
  const int64_t iv = std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count();
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  int64_t base = iv - now_ns % iv;
  int64_t next = base + static_cast<int64_t>(hash % static_cast<uint64_t>(iv));
  if (next > iv) next -= iv;
  return std::chrono::nanoseconds(next);
}

int64_t ScrapeLoop::PhasePointMs(uint64_t hash, std::chrono::milliseconds interval, int64_t ts_ms) {
  const int64_t iv = std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count();
  if (iv <= 0) return ts_ms;
  const int64_t phase = static_cast<int64_t>(hash % static_cast<uint64_t>(iv));
  // Nearest k with k * iv + phase to ts; floor division so times before the epoch work too.
  const int64_t t = ts_ms * 1000000 - phase + iv / 2;
  int64_t k = t / iv;
  if (t % iv < 0) --k;
  return (k * iv + phase) / 1000000;
}

std::chrono::system_clock::time_point ScrapeLoop::AlignScrapeTime(
    std::chrono::system_clock::time_point now, std::chrono::milliseconds interval,
    std::chrono::system_clock::time_point* grid) {
  using std::chrono::nanoseconds;
  const nanoseconds iv = interval;
  if (iv <= nanoseconds::zero()) return now;
  if (grid->time_since_epoch() == nanoseconds::zero() || now < *grid) {
    *grid = now;
    return now;
  }
  const nanoseconds tolerance = std::min<nanoseconds>(std::chrono::milliseconds(2), iv / 100);
  // Nearest grid point, so a tick that fires a little early snaps as well as a late one;
  // skipped ticks just move further along the grid.
  const nanoseconds since = now - *grid;
  const auto slot = *grid + (since + iv / 2) / iv * iv;
  const nanoseconds off = now > slot ? now - slot : slot - now;
  if (off > tolerance) return now;
  *grid = slot;
  return slot;
}

void ScrapeLoop::Start() {
  {
    std::lock_guard lock(mu_);
    if (started_ || stopped_) return;
    started_ = true;
  }
  ScrapeMetrics::Get().targets_active.With({job_}).Inc();
  auto delay =
      Offset(target_.hash ^ jitter_seed_, target_.interval, std::chrono::system_clock::now());
  ScheduleTick(Scheduler::Clock::now() + delay);
}

void ScrapeLoop::ScheduleTick(Scheduler::Clock::time_point when) {
  std::weak_ptr<ScrapeLoop> weak = weak_from_this();
  scheduler_->At(when, [weak, when] {
    if (auto self = weak.lock()) self->Tick(when);
  });
}

void ScrapeLoop::Tick(Scheduler::Clock::time_point scheduled) {
  std::chrono::system_clock::time_point start;
  size_t body_size_hint = 0;
  uint64_t scrape = 0;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    // Next tick on the same phase; skip whole intervals if we fell far behind.
    auto next = scheduled + target_.interval;
    auto now = Scheduler::Clock::now();
    while (next <= now) next += target_.interval;
    ScheduleTick(next);
    if (in_flight_) {
      ScrapeMetrics::Get().skipped_ticks.With({job_}).Inc();
      return;
    }
    in_flight_ = true;
    scrape = ++scrapes_;
    start = AlignScrapeTime(std::chrono::system_clock::now(), target_.interval, &timestamp_grid_);
    body_size_hint = last_body_bytes_ + last_body_bytes_ / 16;
  }
  const auto steady_start = Scheduler::Clock::now();
  Result<http::ClientRequest> request = BuildRequest();
  if (request.ok()) request->body_size_hint = body_size_hint;
  std::shared_ptr<ScrapeLoop> self = shared_from_this();
  if (!request.ok()) {
    scheduler_->Post([self, st = request.status(), start] { self->Finish(st, start, 0); });
    return;
  }
  const http::Client::StreamId id = client_.Do(
      std::move(request).value(),
      [self, start, steady_start](Result<http::ClientResponse> response) {
        double seconds =
            std::chrono::duration<double>(Scheduler::Clock::now() - steady_start).count();
        // Parsing is CPU work: off the client's event loop, onto a worker.
        auto shared = std::make_shared<Result<http::ClientResponse>>(std::move(response));
        self->scheduler_->Post(
            [self, shared, start, seconds] { self->Finish(std::move(*shared), start, seconds); });
      });
  std::lock_guard lock(mu_);
  if (!in_flight_ || scrapes_ != scrape) return;  // already finished
  // A Stop between the check above and here found no request to cancel: cancel it here.
  if (stopped_) {
    client_.Cancel(id);
  } else {
    request_ = id;
  }
}

Result<http::ClientRequest> ScrapeLoop::BuildRequest() const {
  http::ClientRequest req;
  req.url = target_.Url();
  req.timeout = target_.timeout;
  req.max_body_bytes = config_.body_size_limit;
  req.accept_gzip = true;
  req.headers.emplace_back("Accept", std::string(parse::kScrapeAcceptHeader));
  req.headers.emplace_back(
      "X-Prometheus-Scrape-Timeout-Seconds",
      fmt::format("{}", std::chrono::duration<double>(target_.timeout).count()));
  // Secret files are read here, per scrape, so rotated credentials are picked up.
  SHARDWISE_RETURN_IF_ERROR(http::ApplyTo(config_, req));
  return req;
}

IngestResult ScrapeLoop::ScrapeOnce() {
  {
    std::lock_guard lock(mu_);
    in_flight_ = true;
  }
  const auto start = std::chrono::system_clock::now();
  Result<http::ClientRequest> request = BuildRequest();
  if (!request.ok()) return Finish(request.status(), start, 0);
  const auto steady_start = Scheduler::Clock::now();
  Result<http::ClientResponse> response = client_.DoSync(std::move(request).value());
  double seconds = std::chrono::duration<double>(Scheduler::Clock::now() - steady_start).count();
  return Finish(std::move(response), start, seconds);
}

IngestResult ScrapeLoop::Finish(Result<http::ClientResponse> response,
                                std::chrono::system_clock::time_point start, double seconds) {
  std::lock_guard lock(mu_);
  in_flight_ = false;
  request_.reset();
  if (stopped_) return IngestResult{Status::Aborted("scrape loop stopped"), {}};
  ScrapeMetrics& m = ScrapeMetrics::Get();
  const int64_t ts = ToMs(start);
  IngestResult result;
  const bool forward =
      gates_ == nullptr || gates_->Forwards(target_.hash, PhasePointMs(target_.hash ^ jitter_seed_,
                                                                       target_.interval, ts));
  if (!forward) {
    // Scraped for the handoff's proof of reachability; another scraper forwards this one.
    if (!response.ok()) {
      result.status = response.status();
    } else if (response->status != 200) {
      result.status =
          Status::Unavailable("server returned HTTP status " + std::to_string(response->status));
    }
  } else if (!response.ok()) {
    Status error = response.status();
    std::string_view limit;
    if (error.code() == Status::Code::kResourceExhausted) {
      limit = "body_size_limit";
      error = Status::ResourceExhausted("body size limit exceeded (limit: " +
                                        std::to_string(config_.body_size_limit) + " bytes)");
    }
    result = ingester_.IngestFailure(error, ts, seconds);
    result.limit = limit;
  } else if (response->status != 200) {
    result = ingester_.IngestFailure(
        Status::Unavailable("server returned HTTP status " + std::to_string(response->status)), ts,
        seconds);
  } else {
    last_body_bytes_ = response->body.size();
    result = ingester_.Ingest(response->body, response->Header("Content-Type"), ts, seconds);
  }
  if (forward) forwarded_ = true;

  m.scrapes.With({job_}).Inc();
  m.duration.With({job_}).Observe(seconds);
  if (result.status.ok()) {
    m.samples_scraped.With({job_}).Inc(static_cast<double>(result.samples_scraped));
    const std::pair<const char*, size_t> rejected[] = {
        {"out_of_bounds", result.samples_out_of_bounds},
        {"out_of_order", result.samples_out_of_order},
        {"duplicate", result.samples_duplicate}};
    for (const auto& [reason, n] : rejected) {
      if (n > 0) m.samples_rejected.With({job_, reason}).Inc(static_cast<double>(n));
    }
  } else {
    m.scrapes_failed.With({job_}).Inc();
    if (!result.limit.empty()) m.limit_hits.With({job_, std::string(result.limit)}).Inc();
  }
  switch (health_log_.Observe(result.status)) {
    case HealthLog::Change::kFailing:
    case HealthLog::Change::kErrorChanged:
      log::Warn("scrape failing",
                {{"job", job_}, {"target", target_.Url()}, {"err", result.status}});
      break;
    case HealthLog::Change::kRecovered:
      log::Info(
          "scrape recovered",
          {{"job", job_}, {"target", target_.Url()}, {"failed_scrapes", health_log_.failures()}});
      break;
    case HealthLog::Change::kNone:
      break;
  }
  size_t cache_size = ingester_.cache_size();
  m.cache_series.Add(static_cast<double>(cache_size) - static_cast<double>(reported_cache_size_));
  reported_cache_size_ = cache_size;

  status_.health = result.status.ok() ? "up" : "down";
  status_.last_error = result.status.ok() ? std::string() : result.status.message();
  status_.last_scrape = start;
  if (result.status.ok()) status_.last_success = start;
  status_.last_scrape_duration = seconds;
  status_.last_samples = result.samples_post_relabel;
  status_.series = ingester_.live_series();
  return result;
}

void ScrapeLoop::Stop(bool stale_markers) {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  if (request_) client_.Cancel(*request_);
  request_.reset();
  if (started_) ScrapeMetrics::Get().targets_active.With({job_}).Dec();
  if (stale_markers && forwarded_) {
    Status st = ingester_.WriteStaleMarkers(ToMs(std::chrono::system_clock::now()));
    if (!st.ok()) {
      log::Warn("writing staleness markers failed", {{"target", target_.Url()}, {"err", st}});
    }
  }
}

std::vector<storage::MetricMetadata> ScrapeLoop::Metadata() const {
  std::lock_guard lock(mu_);
  return ingester_.metadata().List();
}

TargetStatus ScrapeLoop::Snapshot() const {
  std::lock_guard lock(mu_);
  return status_;
}

}  // namespace shardwise::scrape
