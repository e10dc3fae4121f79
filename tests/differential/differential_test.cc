// Differential test: the shardwise scraper against a real Prometheus (Debian's 2.42), on
// edge-case exposition files of our own (testdata/). Both scrape the same loopback targets
// with the same configuration and remote-write to capturing receivers; compare.h lines up
// what they sent scrape by scrape and every difference is reported. Differences that are
// known and documented (docs/prometheus-compatibility.md) are listed in kExpected with the
// reason; any other difference fails the test.
//
// Each target serves its file's phases in order, counted per scraper (by User-Agent), so
// both see the same sequence of bodies whatever their scrape phase within the interval.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/http/client.h"
#include "common/http/server.h"
#include "common/testing/test_util.h"
#include "scraper/remotewrite/test_receiver.h"
#include "tests/differential/compare.h"

namespace shardwise::differential {
namespace {

using namespace std::chrono_literals;
using shardwise::testing::TempDir;
using shardwise::testing::WaitFor;
namespace rwt = remotewrite::testing;

// A known difference: a diff line matching `pattern` is reported but does not fail.
struct Expected {
  const char* pattern;
  const char* reason;
};
const Expected kExpected[] = {
    // By design (issue 11: the WAL and remote write carry only what the head accepted):
    // Prometheus 2.42 writes the second sample of a series listed twice in one scrape to its
    // WAL and remote-writes it, though its head drops it; shardwise keeps the first only.
    // The same for one series written with its labels in another order: Prometheus also
    // counts the second spelling in scrape_series_added (its append did not fail).
    {R"re(^duplicates scrape #\d+ \{__name__="(dup_(same|diff|order)|scrape_series_added)")re",
     "duplicate within a scrape: Prometheus sends the sample its head drops"},
    {R"re(^exposed t=\d+ \{__name__="dup_ts_(ooo|same)")re",
     "duplicate within a scrape: Prometheus sends the sample its head drops"},
    // Two series made one by metric relabeling (labeldrop) are the same case.
    {R"re(^relabel scrape #\d+ \{__name__="(collide|scrape_series_added)")re",
     "duplicate within a scrape: Prometheus sends the sample its head drops"},
    // Prometheus's (gogo) protobuf encoding omits a zero value whatever its sign, so -0
    // arrives as 0; shardwise's encoder, byte-identical to libprotobuf, keeps the sign bit.
    {R"re(v="negzero"\}: prometheus \[0\] shardwise \[-0\])re", "-0 encoded as 0 by Prometheus"},
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Phase {
  int status = 200;
  std::string body;
};

// Replaces {{NOW_MS[+-offset]}} and {{NOW_S[+-offset]}}.
std::string Expand(const std::string& text, int64_t now_ms) {
  static const std::regex token(R"(\{\{NOW_(MS|S)([+-]\d+)?\}\})");
  std::string out;
  auto begin = std::sregex_iterator(text.begin(), text.end(), token);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    out += text.substr(last, m.position() - last);
    int64_t offset = m[2].matched ? std::stoll(m[2].str()) : 0;
    int64_t v = m[1].str() == "MS" ? now_ms + offset : now_ms / 1000 + offset;
    out += std::to_string(v);
    last = m.position() + m.length();
  }
  return out + text.substr(last);
}

std::vector<Phase> LoadPhases(const std::string& path) {
  std::vector<Phase> phases;
  std::istringstream in(ReadFile(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("#### phase")) {
      Phase p;
      if (size_t at = line.find("status="); at != std::string::npos) {
        p.status = std::stoi(line.substr(at + 7));
      }
      phases.push_back(p);
      continue;
    }
    if (!phases.empty()) phases.back().body += line + "\n";
  }
  return phases;
}

// Serves every file of testdata/ at /<name without extension>, phase by phase per scraper.
class Targets {
 public:
  explicit Targets(const std::string& dir) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      std::string ext = entry.path().extension();
      if (ext != ".prom" && ext != ".om") continue;
      std::string name = entry.path().stem();
      cases_[name] = {ext == ".om", LoadPhases(entry.path())};
    }
    server_.Handle("/", [this](const http::Request& r, http::ResponseWriter& w) { Serve(r, w); });
  }
  Status Start() { return server_.Start(); }
  void Stop() { server_.Stop(); }
  std::string address() const { return server_.address(); }
  std::vector<std::string> jobs() const {
    std::vector<std::string> out;
    for (const auto& [name, c] : cases_) out.push_back(name);
    return out;
  }
  size_t phases(const std::string& job) const { return cases_.at(job).phases.size(); }
  // The instant {{NOW...}} stands for.
  void SetNow(int64_t ms) { now_ms_ = ms; }

 private:
  struct Case {
    bool openmetrics = false;
    std::vector<Phase> phases;
  };
  void Serve(const http::Request& r, http::ResponseWriter& w) {
    auto it = cases_.find(r.path.substr(1));
    if (it == cases_.end()) return w.Send(http::Response::Text(404, "no such case"));
    const bool prometheus = r.Header("User-Agent").starts_with("Prometheus");
    size_t n;
    {
      std::lock_guard lock(mu_);
      n = scrapes_[{prometheus, it->first}]++;
    }
    const Case& c = it->second;
    const Phase& p = c.phases[std::min(n, c.phases.size() - 1)];
    http::Response resp;
    resp.status = p.status;
    resp.body = Expand(p.body, now_ms_);
    resp.With("Content-Type", c.openmetrics
                                  ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                  : "text/plain; version=0.0.4; charset=utf-8");
    w.Send(std::move(resp));
  }

  std::map<std::string, Case> cases_;
  std::atomic<int64_t> now_ms_{0};
  http::Server server_{{}};
  std::mutex mu_;
  std::map<std::pair<bool, std::string>, size_t> scrapes_;
};

const char* TypeName(int type) {
  static const char* kNames[] = {"unknown",        "counter", "gauge", "histogram",
                                 "gaugehistogram", "summary", "info",  "stateset"};
  return type >= 0 && type < 8 ? kNames[type] : "?";
}

// A remote-write endpoint that keeps everything it is sent.
class Receiver {
 public:
  Receiver() {
    server_.HandleExact("/api/v1/write", [this](const http::Request& r, http::ResponseWriter& w) {
      auto req = rwt::DecodeBody(r.body);
      if (!req.ok()) return w.Send(http::Response::Text(400, req.status().message()));
      std::lock_guard lock(mu_);
      for (const auto& ts : req->timeseries()) {
        SeriesData& s = capture_.series[rwt::SeriesString(ts)];
        for (const auto& l : ts.labels()) {
          if (l.name() == "__name__") s.name = l.value();
          if (l.name() == "job") s.job = l.value();
        }
        for (const auto& p : ts.samples()) s.points.push_back({p.timestamp(), p.value()});
      }
      if (req->metadata_size() > 0) ++metadata_requests_;
      for (const auto& m : req->metadata()) {
        capture_.metadata.insert(m.metric_family_name() + "|" + TypeName(m.type()) + "|" +
                                 m.help() + "|" + m.unit());
      }
      w.Send(http::Response::Text(204, ""));
    });
  }
  Status Start() { return server_.Start(); }
  void Stop() { server_.Stop(); }
  std::string url() const { return "http://" + server_.address() + "/api/v1/write"; }
  Capture capture() const {
    std::lock_guard lock(mu_);
    return capture_;
  }
  size_t metadata_requests() const {
    std::lock_guard lock(mu_);
    return metadata_requests_;
  }

 private:
  http::Server server_{{}};
  mutable std::mutex mu_;
  Capture capture_;
  size_t metadata_requests_ = 0;
};

std::string Config(const std::string& target, const std::string& receiver_url) {
  std::string t = "    static_configs: [{targets: ['" + target + "']}]\n";
  auto job = [&](const std::string& name, const std::string& extra = "") {
    return "  - job_name: " + name + "\n    metrics_path: /" + name + "\n" + t + extra;
  };
  return "global:\n  scrape_interval: 1s\n  scrape_timeout: 800ms\n"
         "scrape_configs:\n" +
         job("basic") + job("timestamps") + job("negative_timestamp") +
         job("timestamps_ignored", "    honor_timestamps: false\n") + job("duplicates") +
         job("relabel",
             "    metric_relabel_configs:\n"
             "      - {source_labels: [__name__], regex: 'drop_.*', action: drop}\n"
             "      - {regex: 'tmp_.*', action: labeldrop}\n"
             "      - {source_labels: [__name__, env], separator: ';', regex: 'renamed_src;(.*)',"
             " target_label: env_copy, replacement: 'copy-$1'}\n") +
         job("relabel_keep",
             "    metric_relabel_configs:\n"
             "      - {source_labels: [__name__], regex: 'kept_.*|collide', action: keep}\n"
             "      - {regex: '__name__|job|instance|tmp_id', action: labelkeep}\n") +
         job("failed") + job("openmetrics") + job("honor_labels", "    honor_labels: true\n") +
         job("honor_labels_false") + job("limits", "    sample_limit: 3\n") + job("empty") +
         "remote_write:\n"
         "  - url: " +
         receiver_url +
         "\n"
         "    remote_timeout: 5s\n"
         "    queue_config: {min_shards: 1, max_shards: 1, max_samples_per_send: 500,\n"
         "                   batch_send_deadline: 200ms, min_backoff: 50ms, max_backoff: 200ms}\n"
         "    metadata_config: {send: true, send_interval: 1s, max_samples_per_send: 500}\n";
}

class DifferentialTest : public ::testing::Test {
 protected:
  void TearDown() override {
    scraper_.reset();
    prometheus_.reset();
    if (HasFailure()) {
      std::cerr << "--- prometheus log (tail) ---\n"
                << Tail(dir_.path() + "/prometheus.log") << "--- shardwise log (tail) ---\n"
                << Tail(dir_.path() + "/shardwise.log");
    }
  }
  static std::string Tail(const std::string& path) {
    std::string s = ReadFile(path);
    return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
  }

  TempDir dir_;
  std::unique_ptr<rwt::ChildProcess> prometheus_;
  std::unique_ptr<rwt::ChildProcess> scraper_;
};

TEST_F(DifferentialTest, SameSamplesAsPrometheus) {
  if (rwt::FindOnPath("prometheus").empty())
    GTEST_SKIP() << "prometheus (Debian package) not installed";
  Targets targets(DIFFERENTIAL_TESTDATA_DIR);
  ASSERT_TRUE(targets.Start().ok());
  Receiver from_prometheus, from_shardwise;
  ASSERT_TRUE(from_prometheus.Start().ok());
  ASSERT_TRUE(from_shardwise.Start().ok());
  std::string prom_config =
      dir_.File("prometheus.yml", Config(targets.address(), from_prometheus.url()));
  std::string our_config =
      dir_.File("shardwise.yml", Config(targets.address(), from_shardwise.url()));

  const int prometheus_port = rwt::FreePort();
  prometheus_ = std::make_unique<rwt::ChildProcess>(
      std::vector<std::string>{"prometheus", "--config.file=" + prom_config,
                               "--storage.tsdb.path=" + dir_.path() + "/prometheus-data",
                               "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port),
                               "--log.level=info"},
      dir_.path() + "/prometheus.log");
  ASSERT_TRUE(prometheus_->running());
  // Prometheus's remote write never sends samples older than its own start: exposed
  // timestamps ({{NOW...}}) count from when it is ready, and shardwise starts then too.
  http::Client client;
  ASSERT_TRUE(rwt::WaitReady(client,
                             "http://127.0.0.1:" + std::to_string(prometheus_port) + "/-/ready",
                             std::chrono::seconds(30)))
      << "prometheus not ready";
  targets.SetNow(std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count());
  scraper_ = std::make_unique<rwt::ChildProcess>(
      std::vector<std::string>{SHARDWISE_SCRAPER_BINARY, "--config.file=" + our_config,
                               "--storage.tsdb.path=" + dir_.path() + "/shardwise-data",
                               "--web.listen-address=127.0.0.1:" + std::to_string(rwt::FreePort())},
      dir_.path() + "/shardwise.log");
  ASSERT_TRUE(scraper_->running());

  // Every job's phases, plus one scrape of the last phase, in both receivers, and metadata.
  const std::vector<std::string> jobs = targets.jobs();
  bool complete = WaitFor(
      [&] {
        Capture p = from_prometheus.capture();
        Capture s = from_shardwise.capture();
        if (p.metadata.empty() || s.metadata.empty()) return false;
        return std::all_of(jobs.begin(), jobs.end(), [&](const std::string& job) {
          return ComparableScrapes(p, s, job) >= targets.phases(job) + 1;
        });
      },
      60s);
  ASSERT_TRUE(complete) << "not every scrape arrived in time";
  // Metadata goes out every second: one more round so both sent what the last phases said.
  const size_t p_rounds = from_prometheus.metadata_requests();
  const size_t s_rounds = from_shardwise.metadata_requests();
  EXPECT_TRUE(WaitFor(
      [&] {
        return from_prometheus.metadata_requests() > p_rounds &&
               from_shardwise.metadata_requests() > s_rounds;
      },
      10s));
  Capture p = from_prometheus.capture();
  Capture s = from_shardwise.capture();
  scraper_.reset();
  prometheus_.reset();

  std::vector<std::string> unexpected;
  std::map<std::string, std::vector<std::string>> expected;
  for (const std::string& diff : Compare(p, s, jobs)) {
    const Expected* match = nullptr;
    for (const Expected& e : kExpected) {
      if (std::regex_search(diff, std::regex(e.pattern))) match = &e;
    }
    if (match != nullptr) {
      expected[match->reason].push_back(diff);
    } else {
      unexpected.push_back(diff);
    }
  }
  for (const auto& [reason, diffs] : expected) {
    std::cout << "expected difference (" << reason << "): " << diffs.size() << " lines, e.g. "
              << diffs.front() << "\n";
  }
  for (const std::string& d : unexpected) ADD_FAILURE() << d;
  std::cout << "compared " << p.series.size() << " prometheus / " << s.series.size()
            << " shardwise series, " << p.metadata.size() << " / " << s.metadata.size()
            << " metadata entries; " << unexpected.size() << " unexpected differences\n";
}

}  // namespace
}  // namespace shardwise::differential
