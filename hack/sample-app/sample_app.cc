#include "hack/sample-app/sample_app.h"

#include <chrono>
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace shardwise::sampleapp {
namespace {

http::Server::Options ServerOptions(std::string address) {
  http::Server::Options o;
  o.listen_address = std::move(address);
  o.max_body_bytes = 1 << 20;
  o.max_connections = 512;
  return o;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

SampleApp::SampleApp(std::string listen_address)
    : server_(ServerOptions(std::move(listen_address))),
      requests_(registry_.AddCounterFamily("http_requests_total",
                                           "HTTP requests served, by status code, method and path.",
                                           {"code", "method", "path"})),
      durations_(registry_.AddHistogramFamily("http_request_duration_seconds",
                                              "Time to serve an HTTP request.", {"path"},
                                              metrics::LatencyBuckets())),
      scrapes_(registry_.AddCounter("sample_app_scrapes_total", "/metrics requests served.")) {
  registry_.AddCollector([this](metrics::Writer& w) {
    long long n = series_.load();
    w.Family("sample_app_synthetic", "Synthetic series (POST /control?series=N).", "gauge");
    for (long long i = 0; i < n; ++i)
      w.Sample("sample_app_synthetic", {{"index", std::to_string(i)}}, static_cast<double>(i));
    w.Family("sample_app_synthetic_series", "How many synthetic series are exported.", "gauge");
    w.Sample("sample_app_synthetic_series", {}, static_cast<double>(n));
    w.Family("sample_app_requests_per_second", "The internal request rate (POST /control?rps=N).",
             "gauge");
    w.Sample("sample_app_requests_per_second", {}, rps_.load());
  });
  auto timed = [this](const std::string& path,
                      std::function<http::Response(const http::Request&)> fn) {
    return http::Simple([this, path, fn](const http::Request& req) {
      auto start = std::chrono::steady_clock::now();
      http::Response r = fn(req);
      Count(path, req.method, r.status,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      return r;
    });
  };
  server_.HandleExact("/metrics",
                      timed("/metrics", [this](const http::Request& r) { return Metrics(r); }));
  server_.HandleExact("/control",
                      timed("/control", [this](const http::Request& r) { return Control(r); }));
  server_.HandleExact("/scrapes",
                      timed("/scrapes", [this](const http::Request& r) { return Scrapes(r); }));
  server_.HandleExact("/healthz", timed("/healthz", [](const http::Request&) {
                        return http::Response::Text(200, "ok\n");
                      }));
  server_.HandleExact("/readyz", timed("/readyz", [](const http::Request&) {
                        return http::Response::Text(200, "ready\n");
                      }));
  server_.HandleExact("/", timed("/", [](const http::Request&) {
                        return http::Response::Text(200, "shardwise sample app\n");
                      }));
}

SampleApp::~SampleApp() { Stop(); }

Status SampleApp::Start() {
  Status s = server_.Start();
  if (!s.ok()) return s;
  load_ = std::thread([this] { LoadLoop(); });
  return Status::OK();
}

void SampleApp::Stop() {
  if (stop_.exchange(true)) return;
  if (load_.joinable()) load_.join();
  server_.Stop();
}

void SampleApp::Count(const std::string& path, const std::string& method, int code,
                      double seconds) {
  requests_.With({std::to_string(code), method, path}).Inc();
  durations_.With({path}).Observe(seconds);
}

void SampleApp::LoadLoop() {
  auto last = std::chrono::steady_clock::now();
  double carry = 0;
  while (!stop_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto now = std::chrono::steady_clock::now();
    double due = rps_.load() * std::chrono::duration<double>(now - last).count() + carry;
    last = now;
    double whole = static_cast<double>(static_cast<long long>(due));
    carry = due - whole;
    if (whole > 0) requests_.With({"200", "GET", "/synthetic"}).Inc(whole);
  }
}

http::Response SampleApp::Metrics(const http::Request& req) {
  scrapes_.Inc();
  {
    std::lock_guard<std::mutex> lock(mu_);
    scrape_log_.emplace_back(Now(), req.remote_address, std::string(req.Header("User-Agent")));
    while (scrape_log_.size() > 10000) scrape_log_.pop_front();
  }
  http::Response r;
  r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  r.body = registry_.Expose() + metrics::Registry::Default().Expose();
  return r;
}

http::Response SampleApp::Control(const http::Request& req) {
  if (req.method != "POST") return http::Response::Text(405, "use POST\n");
  auto number = [&](const char* name, double max, double* out) -> bool {
    std::string v = req.Param(name);
    if (v.empty()) return true;
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end != '\0' || !(d >= 0) || d > max) return false;
    *out = d;
    return true;
  };
  double rps = rps_.load(), series = static_cast<double>(series_.load());
  if (!number("rps", 1e7, &rps)) return http::Response::Text(400, "rps wants a number 0..1e7\n");
  if (!number("series", 1e6, &series))
    return http::Response::Text(400, "series wants a number 0..1000000\n");
  rps_ = rps;
  series_ = static_cast<long long>(series);
  nlohmann::json out = {{"rps", rps}, {"series", series_.load()}};
  return http::Response::Json(200, out.dump() + "\n");
}

http::Response SampleApp::Scrapes(const http::Request&) {
  nlohmann::json out = nlohmann::json::array();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [t, remote, ua] : scrape_log_)
    out.push_back({{"time", t}, {"remote", remote}, {"userAgent", ua}});
  return http::Response::Json(200, out.dump() + "\n");
}

}  // namespace shardwise::sampleapp
