// Handoffs, failover and restarts end to end on the local cluster (issue 10's must-shows).
//
// Deployed as a user would (hack/demo.sh) through the Fleet fixture: the CRDs, the operator
// from manifests/ (through a kustomize overlay that scales its liveness settings down to the
// short test interval), kApps sample-app pods as targets, the VictoriaMetrics receiver from
// manifests/examples/, a Prometheus receiver (--web.enable-remote-write-receiver) beside
// it, and a ScrapePool whose scrapers remote-write to both and to a receiver in this test process.
//
// Every setting is scaled to the 2 s interval consistently: scrapers report every second,
// the operator calls a scraper down after 4 s without a report, resyncs every second, waits
// at most 4 s for reports after a restart, and its Lease lasts 3 s; remote write sends a
// partial batch after 500 ms (below the interval, so the samples of a moving series reach a
// receiver in order, docs/handoff.md).
//
// What is measured comes from the targets and the receivers, with the interval as unit,
// never from wall-clock windows: each sample app logs every scrape it serves with its time
// and the scraper's User-Agent, which names the scraper pod; the test receiver keeps every
// sample it got. Each case checks
//   - coverage: the longest gap between two scrapes of any target, in intervals;
//   - the receivers: no staleness marker, no series with two samples at one timestamp, and
//     Prometheus and VictoriaMetrics hold exactly the `up` samples the test receiver got;
//     no scraper counts a rejected (4xx) or retried sample.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <set>

#include "common/http/client.h"
#include "common/http/server.h"
#include "operator/promql/remote_read_source.h"
#include "scraper/remotewrite/test_receiver.h"
#include "scraper/storage/appender.h"
#include "tests/e2e/fleet.h"
#include "tests/e2e/local_cluster.h"

namespace shardwise::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr double kInterval = 2.0;  // seconds, the pool's scrape interval
constexpr int kApps = 6;
constexpr char kNs[] = "shardwise-system";
// A target scraped in every interval never waits longer than this between two scrapes
// (its phase point plus scheduling latency on a loaded machine); a missed interval is 2.
constexpr double kNoMissedInterval = 1.5;

std::string HostOf(const std::string& address) {
  auto colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

struct Scrape {
  double t;
  std::string from;  // the scraper pod, from the User-Agent "shardwise/0.1.0 (<pod>)"
};

std::string PodOf(const std::string& user_agent) {
  auto open = user_agent.rfind('(');
  auto close = user_agent.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return user_agent;
  return user_agent.substr(open + 1, close - open - 1);
}

class HandoffE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    http::Server::Options ro;
    ro.listen_address = "127.0.0.1:0";
    receiver_ = std::make_unique<http::Server>(ro);
    receiver_->Handle("/api/v1/write",
                      http::Simple([this](const http::Request& req) { return Receive(req); }));
    ASSERT_TRUE(receiver_->Start().ok());
  }

  void TearDown() override {
    if (HasFailure() && cluster_) {
      std::cerr << "--- pods\n"
                << cluster_->Kubectl({"get", "pods", "-A", "-o", "wide"}).out << "--- shards\n"
                << cluster_->Kubectl({"get", "scrapeshards", "-n", kNs, "-o", "yaml"}).out;
      std::cerr
          << "--- shardwise-main-0-0\n"
          << cluster_->Kubectl({"-n", kNs, "logs", "shardwise-main-0-0", "--tail=15"}).out
          << "--- operator\n"
          << cluster_->Kubectl({"-n", kNs, "logs", "deploy/shardwise-operator", "--tail=15"}).out;
      // Why containers restarted.
      auto restarted = Split(cluster_->JsonPath(
          "pods -A",
          "range .items[?(@.status.containerStatuses[0].restartCount>0)]}{.metadata.namespace}/"
          "{.metadata.name} {end",
          ""));
      for (const auto& p : restarted) {
        auto slash = p.find('/');
        std::cerr << "--- " << p << " (previous container)\n"
                  << cluster_
                         ->Kubectl({"-n", p.substr(0, slash), "logs", p.substr(slash + 1),
                                    "--previous", "--tail=10"})
                         .out;
      }
    }
    cluster_ = nullptr;
    fleet_.reset();  // stops every pod
    if (receiver_) receiver_->Stop();
  }

  http::Response Receive(const http::Request& req) {
    auto decoded = remotewrite::testing::DecodeBody(req.body);
    if (!decoded.ok()) return http::Response::Text(400, "bad body");
    const std::string sender = PodOf(std::string(req.Header("User-Agent")));
    std::lock_guard lock(mu_);
    for (const auto& ts : decoded->timeseries()) {
      std::string name, instance;
      for (const auto& l : ts.labels()) {
        if (l.name() == "__name__") name = l.value();
        if (l.name() == "instance") instance = l.value();
      }
      std::string series = remotewrite::testing::SeriesString(ts);
      for (const auto& s : ts.samples()) {
        if (storage::IsStaleNaN(s.value())) {
          stale_.emplace_back(UnixNow(), series);
          continue;
        }
        // A batch sent again after a crash repeats samples exactly, which every receiver
        // accepts; two different values at one timestamp are what Prometheus rejects.
        const double v = s.value();
        auto [it, fresh] = samples_[series].emplace(s.timestamp(), v);
        if (!fresh && std::memcmp(&it->second, &v, sizeof v) != 0)
          conflicts_.push_back(series + " @" + std::to_string(s.timestamp()));
        if (name == "up") {
          up_[instance].insert(s.timestamp());
          up_senders_[instance][s.timestamp()].insert(sender);
        }
      }
    }
    return http::Response::Text(204, "");
  }

  // The cluster with the operator, the receivers, the sample apps and a pool of `shards`.
  // `scraper_extra` is added under the pool's spec.scraper (YAML, 4-space indented).
  void Deploy(int shards, const std::string& scraper_extra = "") {
    FleetOptions options;
    options.sample_apps = kApps;
    options.sample_app_series = 20;
    options.operator_args = {"--resync=1s", "--heartbeat-timeout=4s", "--rebuild-wait=4s",
                             "--leader-election.lease-duration=3s"};
    fleet_ = std::make_unique<Fleet>(options);
    cluster_ = &fleet_->cluster();
    Status started = fleet_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString() << "\n" << cluster_->SimLog();

    auto r = cluster_->Kubectl(
        {"apply", "-f", LocalCluster::SourcePath("manifests/examples/namespace.yaml"), "-f",
         LocalCluster::SourcePath("manifests/examples/victoria-metrics.yaml")});
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    r = cluster_->Apply(Prometheus());
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    for (const char* d : {"deploy/victoria-metrics", "deploy/prometheus"}) {
      r = cluster_->Kubectl({"rollout", "status", "--timeout=60s", d, "-n", "monitoring"}, 70s);
      ASSERT_EQ(r.exit_code, 0) << r.Describe();
    }
    r = cluster_->Apply(Pool(shards, scraper_extra));
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    apps_ = fleet_->SampleAppIps();
    ASSERT_EQ(apps_.size(), static_cast<size_t>(kApps));
  }

  static std::vector<std::string> Split(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string w; in >> w;) out.push_back(w);
    return out;
  }

  static std::string Prometheus() {
    return R"(apiVersion: v1
kind: ConfigMap
metadata: {name: prometheus, namespace: monitoring}
data:
  prometheus.yml: |
    global: {}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: prometheus, namespace: monitoring}
spec:
  replicas: 1
  selector: {matchLabels: {app: prometheus}}
  template:
    metadata: {labels: {app: prometheus}}
    spec:
      containers:
      - name: prometheus
        image: prom/prometheus:v2.42.0
        args:
        - --config.file=/etc/prometheus/prometheus.yml
        - --storage.tsdb.path=/prometheus
        - --web.listen-address=$(POD_IP):9090
        - --web.enable-remote-write-receiver
        - --log.level=warn
        env:
        - name: POD_IP
          valueFrom: {fieldRef: {fieldPath: status.podIP}}
        ports: [{name: http, containerPort: 9090}]
        readinessProbe:
          httpGet: {path: /-/ready, port: http}
          periodSeconds: 1
        volumeMounts:
        - {name: config, mountPath: /etc/prometheus}
        - {name: data, mountPath: /prometheus}
      volumes:
      - {name: config, configMap: {name: prometheus}}
      - {name: data, emptyDir: {}}
---
apiVersion: v1
kind: Service
metadata: {name: prometheus, namespace: monitoring}
spec:
  selector: {app: prometheus}
  ports: [{name: http, port: 9090, targetPort: http}]
)";
  }

  std::string Pool(int shards, const std::string& scraper_extra) const {
    const std::string queue = "queueConfig: {batchSendDeadline: 500ms}";
    return R"(apiVersion: shardwise.io/v1alpha1
kind: ScrapePool
metadata: {name: main, namespace: shardwise-system}
spec:
  shards: )" +
           std::to_string(shards) + R"(
  podMonitorSelector:
    matchLabels: {shardwise.io/pool: main}
  monitorNamespaceSelector: {}
  scrapeDefaults: {interval: 2s, timeout: 1s}
  remoteWrite:
  - {name: test, url: "http://127.0.0.1:)" +
           std::to_string(receiver_->port()) + "/api/v1/write\", " + queue + R"(}
  - {name: prometheus, url: "http://prometheus.monitoring.svc:9090/api/v1/write", )" +
           queue + R"(}
  - {name: victoria-metrics, url: "http://victoria-metrics.monitoring.svc:8428/api/v1/write", )" +
           queue + R"(}
  scraper:
    args: [--operator.report-interval=1s, --remote-write.drain-timeout=5s]
)" + scraper_extra;
  }

  // Every scrape each sample app served, by target (its pod IP).
  std::map<std::string, std::vector<Scrape>> Scrapes() {
    std::map<std::string, std::vector<Scrape>> out;
    for (const auto& ip : apps_) {
      auto r = client_.DoSync({.url = "http://" + ip + ":8080/scrapes"});
      if (!r.ok() || r->status != 200) continue;
      auto j = json::parse(r->body, nullptr, false);
      if (!j.is_array()) continue;
      auto& v = out[ip];
      for (const auto& e : j) v.push_back({e.value("time", 0.0), PodOf(e.value("userAgent", ""))});
    }
    return out;
  }

  // The longest time, in intervals, any target went without a scrape in [since, until].
  static double LongestGap(const std::map<std::string, std::vector<Scrape>>& scrapes, double since,
                           double until, std::string* which = nullptr) {
    double worst = 0;
    for (const auto& [target, v] : scrapes) {
      double last = since;
      for (const auto& s : v) {
        if (s.t < since || s.t > until) continue;
        if (s.t - last > worst && which) *which = target + " before " + std::to_string(s.t);
        worst = std::max(worst, s.t - last);
        last = std::max(last, s.t);
      }
      if (until - last > worst && which) *which = target + " at the end";
      worst = std::max(worst, until - last);
    }
    return worst / kInterval;
  }

  // The running scraper pods' IPs.
  std::vector<std::string> ScraperIps() {
    return Split(cluster_->JsonPath("pods -l app.kubernetes.io/name=shardwise-scraper",
                                    "range .items[*]}{.status.podIP}{\" \"}{end", kNs));
  }

  // Steady: every target scraped, each by exactly one scraper, in the last 2 intervals, and
  // every wanted shard Active with targets.
  bool Steady(int shards) {
    double now = UnixNow();
    auto scrapes = Scrapes();
    if (scrapes.size() != static_cast<size_t>(kApps)) return false;
    for (const auto& [target, v] : scrapes) {
      std::set<std::string> from;
      for (const auto& s : v)
        if (s.t > now - 2 * kInterval) from.insert(s.from);
      if (from.size() != 1) return false;
    }
    auto r = cluster_->Kubectl({"get", "scrapeshards", "-n", kNs, "-o", "json"});
    auto j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) return false;
    int active = 0;
    for (const auto& item : j["items"]) {
      const json& st = item.value("status", json::object());
      if (st.value("phase", "") == "Active" && st.value("targets", 0) > 0 &&
          st.value("handingOff", 0) == 0)
        ++active;
    }
    return active == shards;
  }

  void WaitSteady(int shards, std::chrono::seconds timeout = 90s) {
    ASSERT_TRUE(WaitFor(Every(300ms, [&] { return Steady(shards); }), timeout))
        << cluster_->Kubectl({"get", "pods,scrapeshards", "-A", "-o", "wide"}).out
        << cluster_->JsonPath("scrapepool main", ".status.conditions", kNs);
    if (started_up_ms_ != 0) return;
    started_up_ms_ = static_cast<int64_t>(UnixNow() * 1000);
    {  // Why shards were judged lost while the pool started, if they were.
      auto events = json::parse(cluster_->Kubectl({"get", "events", "-n", kNs, "-o", "json"}).out,
                                nullptr, false);
      if (!events.is_discarded()) {
        for (const auto& e : events.value("items", json::array())) {
          if (e.value("reason", "") == "ShardLost") {
            std::cout << "start-up: ShardLost " << e.value("message", "") << "\n";
            startup_lost_.push_back(e.value("message", ""));
          }
        }
      }
    }
    WaitFor(Every(500ms,
                  [&] {
                    startup_moves_without_handoff_ =
                        OperatorCounter("shardwise_assignment_moved_without_handoff_total");
                    return startup_moves_without_handoff_ >= 0;
                  }),
            10s);
  }

  // A counter of the leading operator's /metrics (HTTPS, verified with the CA it
  // publishes), summed over its series; -1 when it does not answer.
  double OperatorCounter(const std::string& name) {
    const std::string leader =
        cluster_->JsonPath("lease shardwise-operator", ".spec.holderIdentity", kNs);
    if (leader.empty()) return -1;
    http::ClientRequest req{.url = "https://" + cluster_->PodIp(leader, kNs) + ":8080/metrics"};
    req.tls.ca_pem = cluster_->JsonPath("configmap/shardwise-ca", ".data.ca\\.crt", kNs);
    req.tls.server_name = std::string("shardwise-operator.") + kNs + ".svc";
    auto r = client_.DoSync(req);
    if (!r.ok() || r->status != 200) return -1;
    double sum = 0;
    std::istringstream in(r->body);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(name, 0) == 0 && line.size() > name.size() &&
          (line[name.size()] == '{' || line[name.size()] == ' ')) {
        sum += std::atof(line.substr(line.rfind(' ')).c_str());
      }
    }
    return sum;
  }

  // Samples of a target forwarded by one scraper while another still forwards it, up to
  // `until_ms`, from the senders the test receiver saw: a sample of B lies between two
  // consecutive samples of A no more than 1.5 intervals apart (or at one of them). A handoff
  // (A forwards before the cutover, B after it) has none; a target moved back (A, B, A)
  // leaves A a gap of two intervals or more around B's samples, so it counts none either.
  static int DoubleForwarded(
      const std::map<std::string, std::map<int64_t, std::set<std::string>>>& senders,
      int64_t until_ms, std::set<std::string>* targets, std::string* first) {
    const auto continuous = static_cast<int64_t>(1.5 * kInterval * 1000);
    int count = 0;
    for (const auto& [instance, by_time] : senders) {
      std::map<std::string, std::vector<int64_t>> times;  // sender → its timestamps, sorted
      for (const auto& [ts, from] : by_time) {
        if (ts > until_ms) break;
        for (const auto& f : from) times[f].push_back(ts);
      }
      for (const auto& [b, b_times] : times) {
        for (int64_t ts : b_times) {
          bool inside = false;
          for (const auto& [a, a_times] : times) {
            if (a == b) continue;
            auto it = std::lower_bound(a_times.begin(), a_times.end(), ts);
            if (it == a_times.end()) continue;
            inside = inside || *it == ts ||
                     (it != a_times.begin() && *it - *std::prev(it) <= continuous);
          }
          if (!inside) continue;
          ++count;
          targets->insert(instance);
          if (first->empty()) first->append(instance + " @" + std::to_string(ts) + " from " + b);
        }
      }
    }
    return count;
  }

  // The owner of each target: who scraped it last.
  std::map<std::string, std::string> Owners() {
    std::map<std::string, std::string> out;
    for (const auto& [target, v] : Scrapes())
      if (!v.empty()) out[target] = v.back().from;
    return out;
  }

  // Remote-write counters of every running scraper, summed by metric and remote_name.
  std::map<std::string, double> RemoteWriteCounters() {
    std::map<std::string, double> sum;
    for (const auto& ip : ScraperIps()) {
      auto r = client_.DoSync({.url = "http://" + ip + ":9091/metrics"});
      if (!r.ok() || r->status != 200) continue;
      std::istringstream in(r->body);
      for (std::string line; std::getline(in, line);) {
        for (const char* m : {"shardwise_remote_write_samples_failed_total",
                              "shardwise_remote_write_samples_retried_total",
                              "shardwise_remote_write_samples_dropped_total"}) {
          if (line.rfind(m, 0) != 0) continue;
          auto rn = line.find("remote_name=\"");
          std::string remote = rn == std::string::npos
                                   ? ""
                                   : line.substr(rn + 13, line.find('"', rn + 13) - rn - 13);
          sum[std::string(m) + "{" + remote + "}"] +=
              std::atof(line.substr(line.rfind(' ')).c_str());
        }
      }
    }
    return sum;
  }

  // `up` samples per instance in the 30 minutes up to `at_ms`, as a receiver's query API
  // counts them.
  std::map<std::string, int> UpCounts(const std::string& base, int64_t at_ms) {
    std::map<std::string, int> out;
    char at[32];
    std::snprintf(at, sizeof at, "%.3f", static_cast<double>(at_ms) / 1000);
    auto r = client_.DoSync({.url = base + "/api/v1/query?nocache=1&time=" + at +
                                    "&query=sum+by+(instance)+(count_over_time(up%5B30m%5D))"});
    if (!r.ok() || r->status != 200) return out;
    auto j = json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return out;
    for (const auto& res : j["data"]["result"]) {
      out[res["metric"].value("instance", "")] =
          std::atoi(res["value"][1].get<std::string>().c_str());
    }
    return out;
  }

  std::map<std::string, int> ReceivedUpCounts(int64_t at_ms) {
    std::lock_guard lock(mu_);
    std::map<std::string, int> out;
    for (const auto& [instance, times] : up_) {
      out[instance] = static_cast<int>(
          std::distance(times.upper_bound(at_ms - 30 * 60 * 1000), times.upper_bound(at_ms)));
    }
    return out;
  }

  // From the operator's Events on the pool: for each scraper pod a ShardDrained names, when
  // its report of the final empty plan arrived; the messages of ShardRemovedUndrained.
  std::map<std::string, double> DrainConfirmations(std::vector<std::string>* undrained) {
    std::map<std::string, double> out;
    undrained->clear();
    auto r = cluster_->Kubectl({"get", "events", "-n", kNs, "-o", "json"});
    auto j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) return out;
    for (const auto& e : j["items"]) {
      const std::string reason = e.value("reason", "");
      const std::string message = e.value("message", "");
      if (reason == "ShardRemovedUndrained") undrained->push_back(message);
      if (reason != "ShardDrained") continue;
      // "shard 4 drained: <pod> runs plan generation G with no targets (reported at T)"
      static const std::string kRuns = " runs plan generation ", kAt = "(reported at ";
      auto colon = message.find(": ");
      auto runs = message.find(kRuns);
      auto at = message.find(kAt);
      if (colon == std::string::npos || runs == std::string::npos || at == std::string::npos)
        continue;
      out[message.substr(colon + 2, runs - colon - 2)] =
          ParseRfc3339(message.substr(at + kAt.size()));
    }
    return out;
  }

  // "2026-01-02T03:04:05.123456Z" → Unix seconds (0 when unparsable).
  static double ParseRfc3339(const std::string& s) {
    std::tm tm{};
    double frac = 0;
    if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
      return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    if (auto dot = s.find('.'); dot != std::string::npos && dot < 25)
      frac = std::atof(("0" + s.substr(dot, s.find('Z') - dot)).c_str());
    return static_cast<double>(timegm(&tm)) + frac;
  }

  std::string ServiceUrl(const std::string& svc, int port) {
    return "http://" + cluster_->JsonPath("svc " + svc, ".spec.clusterIP", "monitoring") + ":" +
           std::to_string(port);
  }

  // Staleness markers stored at Prometheus (its remote-read API returns raw samples,
  // markers included) and at VictoriaMetrics (its export API writes a marker as a null
  // value; the sample apps export no NaN), over every series; -1 when a receiver did not
  // answer.
  std::pair<long, long> StoredStalenessMarkers(const std::string& prometheus,
                                               const std::string& vm) {
    long prom = -1, vmc = -1;
    promql::RemoteReadSource read(client_, prometheus + "/api/v1/read", 20s);
    promql::Matcher any{promql::MatchType::kRegexMatch, "__name__", ".+"};
    auto series = read.Select({any}, 0, static_cast<int64_t>(UnixNow() * 1000) + 60000);
    if (series.ok()) {
      prom = 0;
      for (const auto& s : *series)
        for (const auto& p : s.points) prom += storage::IsStaleNaN(p.v) ? 1 : 0;
    }
    auto r = client_.DoSync(
        {.url = vm + "/api/v1/export?match%5B%5D=%7B__name__%3D~%22.%2B%22%7D", .timeout = 20s});
    if (r.ok() && r->status == 200) {
      vmc = 0;
      // One JSON line per series: {"metric":{...},"values":[...],"timestamps":[...]}.
      std::istringstream lines(r->body);
      for (std::string line; std::getline(lines, line);) {
        auto j = json::parse(line, nullptr, false);
        if (j.is_discarded()) return {prom, -1};  // unreadable: not counted as clean
        for (const auto& v : j.value("values", json::array())) vmc += v.is_null() ? 1 : 0;
      }
    }
    return {prom, vmc};
  }

  // (e) Both receivers got every sample the test receiver got, no scraper counts a rejected
  // or resent sample, and nobody wrote a staleness marker or two values at one timestamp.
  // Staleness markers count from the pool's creation: every receiver, at any time (the
  // scenario started at `since`, once the fleet was steady).
  void ExpectReceiversGotEverything(double since) {
    const std::string prometheus = ServiceUrl("prometheus", 9090);
    const std::string vm = ServiceUrl("victoria-metrics", 8428);
    std::map<std::string, int> want, prom, vmc;
    // Samples keep arriving: compare what each holds up to a moment in the recent past,
    // once remote write (500 ms batches) and the receivers' ingestion have caught up to it.
    const auto at_ms = static_cast<int64_t>(UnixNow() * 1000) - 3000;
    bool same = WaitFor(Every(500ms,
                              [&] {
                                want = ReceivedUpCounts(at_ms);
                                prom = UpCounts(prometheus, at_ms);
                                vmc = UpCounts(vm, at_ms);
                                return !want.empty() && prom == want && vmc == want;
                              }),
                        30s);
    auto dump = [](const std::map<std::string, int>& m) {
      std::string s;
      for (const auto& [k, v] : m) s += k + "=" + std::to_string(v) + " ";
      return s;
    };
    EXPECT_TRUE(same) << "up samples per instance\n  test receiver: " << dump(want)
                      << "\n  prometheus:    " << dump(prom) << "\n  victoria:      " << dump(vmc);
    int total = 0;
    for (const auto& [k, v] : want) total += v;
    std::cout << "receivers: " << total << " up samples of " << want.size()
              << " targets, identical at Prometheus and VictoriaMetrics: " << same << "\n";
    for (const auto& [metric, v] : RemoteWriteCounters()) {
      EXPECT_EQ(v, 0) << metric;
    }
    const auto [prom_stale, vm_stale] = StoredStalenessMarkers(prometheus, vm);
    std::lock_guard lock(mu_);
    // While the pool started (until it was first steady) no target was forwarded by two
    // scrapers at once: a starting pod whose scraper runs keeps its targets, and targets
    // leave it only by handoffs (docs/assignment.md, "Liveness and failover").
    std::set<std::string> doubled;
    std::string first_doubled;
    const int startup_doubles =
        DoubleForwarded(up_senders_, started_up_ms_, &doubled, &first_doubled);
    std::cout << "start-up: " << startup_doubles << " up samples forwarded by a second scraper "
              << "while another still forwarded the target (" << doubled.size() << " targets)\n";
    std::cout << "start-up: " << static_cast<long>(startup_moves_without_handoff_)
              << " targets moved without a handoff (the leader's "
                 "shardwise_assignment_moved_without_handoff_total when first steady; -1: no "
                 "answer)\n";
    EXPECT_GT(started_up_ms_, 0);
    // A starting pod (NotReady until its first readiness probe) whose scraper runs is not
    // lost: before that rule every start-up lost every shard this way (PodNotReady).
    for (const auto& m : startup_lost_) EXPECT_EQ(m.find("(PodNotReady"), std::string::npos) << m;
    EXPECT_EQ(startup_doubles, 0) << "in " << doubled.size() << " targets, first " << first_doubled;
    std::vector<std::string> during, before;
    for (const auto& [t, series] : stale_) (t >= since ? during : before).push_back(series);
    std::cout << "staleness markers: test receiver " << before.size()
              << " while the pool started + " << during.size()
              << " during the scenario; stored at Prometheus " << prom_stale
              << ", at VictoriaMetrics " << vm_stale << "\n";
    EXPECT_TRUE(stale_.empty()) << before.size() << " staleness markers while the pool started, "
                                << during.size() << " during the scenario, first "
                                << stale_.front().second;
    EXPECT_EQ(prom_stale, 0) << "staleness markers stored at Prometheus (-1: no answer)";
    EXPECT_EQ(vm_stale, 0) << "staleness markers stored at VictoriaMetrics (-1: no answer)";
    EXPECT_TRUE(conflicts_.empty()) << conflicts_.size()
                                    << " samples with another value at a timestamp already "
                                       "received, first "
                                    << conflicts_.front();
  }

  std::unique_ptr<Fleet> fleet_;
  LocalCluster* cluster_ = nullptr;  // the fleet's
  std::unique_ptr<http::Server> receiver_;
  http::Client client_;
  std::vector<std::string> apps_;
  std::mutex mu_;
  std::map<std::string, std::map<int64_t, double>> samples_;  // series → t → value
  std::map<std::string, std::set<int64_t>> up_;               // instance → timestamps
  // instance → timestamp → the scraper pods that sent it (remote write's User-Agent)
  std::map<std::string, std::map<int64_t, std::set<std::string>>> up_senders_;
  std::vector<std::pair<double, std::string>> stale_;  // received at (Unix s), series
  int64_t started_up_ms_ = 0;                          // when the pool was first steady (Unix ms)
  std::vector<std::string> startup_lost_;      // ShardLost Events' messages while it started
  double startup_moves_without_handoff_ = -1;  // the operator's count then
  std::vector<std::string> conflicts_;
};

// (a) kill -9 of a scraper's process: its targets are scraped by other shards within two
// intervals; when it is back (the kubelet restarts it) they move back by handoff.
TEST_F(HandoffE2ETest, KilledScraperTargetsScrapedElsewhereWithinTwoIntervals) {
  ASSERT_NO_FATAL_FAILURE(Deploy(3));
  ASSERT_NO_FATAL_FAILURE(WaitSteady(3));
  const double start = UnixNow();
  const std::string victim = "shardwise-main-0-1";
  std::set<std::string> orphans;
  for (const auto& [target, owner] : Owners())
    if (owner == victim) orphans.insert(target);
  ASSERT_FALSE(orphans.empty()) << victim << " scrapes nothing";

  const double killed = UnixNow();
  ASSERT_TRUE(cluster_->KillContainer(victim, "scraper", SIGKILL, kNs));
  std::map<std::string, std::vector<Scrape>> scrapes;
  ASSERT_TRUE(WaitFor(Every(200ms,
                            [&] {
                              scrapes = Scrapes();
                              for (const auto& t : orphans) {
                                bool taken = false;
                                for (const auto& s : scrapes[t])
                                  taken = taken || (s.t > killed && s.from != victim);
                                if (!taken) return false;
                              }
                              return true;
                            }),
                      60s))
      << "the killed shard's targets were not taken over";
  // Back: the restarted scraper takes its targets again, by handoff.
  ASSERT_NO_FATAL_FAILURE(WaitSteady(3));
  const double end = UnixNow();
  scrapes = Scrapes();

  // Failover: per orphan, the gap around the kill; every other target misses nothing.
  std::map<std::string, std::vector<Scrape>> orphan_scrapes, others;
  for (auto& [t, v] : scrapes) (orphans.count(t) ? orphan_scrapes : others)[t] = v;
  std::string where;
  const double failover = LongestGap(orphan_scrapes, start, end, &where);
  std::cout << "failover after kill -9: longest gap of the killed shard's " << orphans.size()
            << " targets " << failover << " intervals (" << where << ")\n";
  EXPECT_LE(failover, 2.25) << where;
  const double rest = LongestGap(others, start, end, &where);
  EXPECT_LT(rest, kNoMissedInterval) << where;
  ExpectReceiversGotEverything(start);
}

// (b) A scale-up whose new pod never becomes Ready (no node has room for it): no target
// loses a scrape, and the new shard shows why it takes none.
TEST_F(HandoffE2ETest, ScaleUpWithUnschedulablePodLosesNoScrapes) {
  // Three CPUs per scraper: each of the three 4-CPU nodes fits one, the fourth fits nowhere.
  ASSERT_NO_FATAL_FAILURE(Deploy(3, "    resources: {requests: {cpu: \"3\"}}\n"));
  ASSERT_NO_FATAL_FAILURE(WaitSteady(3));
  const double start = UnixNow();
  auto r = cluster_->Kubectl({"scale", "scrapepool", "main", "-n", kNs, "--replicas=4"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_TRUE(cluster_->WaitForJsonPath("pod shardwise-main-0-3",
                                        ".status.conditions[?(@.type==\"PodScheduled\")].reason",
                                        "Unschedulable", kNs));
  // Lost once the heartbeat timeout passed without a first report; Degraded says so.
  ASSERT_TRUE(cluster_->WaitForJsonPath("scrapeshard main-3", ".status.phase", "Lost", kNs))
      << cluster_->JsonPath("scrapeshard main-3", ".status", kNs);
  std::string reason = cluster_->JsonPath("scrapeshard main-3",
                                          ".status.conditions[?(@.type==\"Ready\")].reason", kNs);
  std::string message = cluster_->JsonPath("scrapeshard main-3",
                                           ".status.conditions[?(@.type==\"Ready\")].message", kNs);
  EXPECT_EQ(reason, "PodUnschedulable") << message;
  EXPECT_NE(message.find("shardwise-main-0-3"), std::string::npos) << message;
  EXPECT_EQ(cluster_->JsonPath("scrapeshard main-3", ".status.targets", kNs), "0");
  EXPECT_EQ(cluster_->JsonPath("scrapepool main",
                               ".status.conditions[?(@.type==\"Degraded\")].status", kNs),
            "True");
  // A few more intervals with the shard still wanted and lost.
  const double until = UnixNow() + 3 * kInterval;
  WaitFor([&] { return UnixNow() > until; }, 10s);
  std::string where;
  const double gap = LongestGap(Scrapes(), start, UnixNow(), &where);
  std::cout << "scale-up to an unschedulable shard: longest gap " << gap << " intervals\n";
  EXPECT_LT(gap, kNoMissedInterval) << where;

  // The pool's remote write changes (new external labels): the running scrapers follow
  // through their plans, without a restart.
  const std::string pods_before = cluster_->JsonPath(
      "pods -l app.kubernetes.io/name=shardwise-scraper",
      "range .items[*]}{.metadata.uid}:{.status.containerStatuses[0].restartCount} {end", kNs);
  r = cluster_->Kubectl({"patch", "scrapepool", "main", "-n", kNs, "--type=merge", "-p",
                         R"({"spec": {"externalLabels": {"cluster": "e2e"}}})"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  const std::string prometheus = ServiceUrl("prometheus", 9090);
  std::string labelled;
  EXPECT_TRUE(WaitFor(
      Every(500ms,
            [&] {
              auto q = client_.DoSync(
                  {.url = prometheus + "/api/v1/query?query=count(up%7Bcluster%3D%22e2e%22%7D)"});
              labelled = q.ok() ? q->body : q.status().ToString();
              return labelled.find("\"" + std::to_string(kApps) + "\"]") != std::string::npos;
            }),
      30s))
      << "not every target's samples carry the new external label: " << labelled;
  EXPECT_EQ(
      cluster_->JsonPath(
          "pods -l app.kubernetes.io/name=shardwise-scraper",
          "range .items[*]}{.metadata.uid}:{.status.containerStatuses[0].restartCount} {end", kNs),
      pods_before)
      << "scrapers restarted for a remote-write change";
  ExpectReceiversGotEverything(start);
}

// (c) The leading operator killed while targets are being handed to a new shard: the new
// leader rebuilds the placement from the scrapers' reports, the handoff continues, no target
// goes to a shard it was not already on, and no target misses an interval.
TEST_F(HandoffE2ETest, OperatorKilledMidHandoffMovesNothing) {
  ASSERT_NO_FATAL_FAILURE(Deploy(2));
  ASSERT_NO_FATAL_FAILURE(WaitSteady(2));
  const double start = UnixNow();
  auto r = cluster_->Kubectl({"scale", "scrapepool", "main", "-n", kNs, "--replicas=3"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  // Mid-handoff: the new shard scrapes some target that another shard still scrapes.
  ASSERT_TRUE(WaitFor(Every(200ms,
                            [&] {
                              for (const auto& [t, v] : Scrapes())
                                for (const auto& s : v)
                                  if (s.from == "shardwise-main-0-2") return true;
                              return false;
                            }),
                      60s));
  const std::string leader =
      cluster_->JsonPath("lease shardwise-operator", ".spec.holderIdentity", kNs);
  ASSERT_FALSE(leader.empty());
  // Which scrapers run each target now, by their plans (both owners of a moving one).
  std::map<std::string, std::set<std::string>> before;
  for (int shard = 0; shard < 3; ++shard) {
    const std::string pod = "shardwise-main-0-" + std::to_string(shard);
    auto r =
        client_.DoSync({.url = "http://" + cluster_->PodIp(pod, kNs) + ":9091/api/v1/targets"});
    ASSERT_TRUE(r.ok() && r->status == 200) << pod;
    auto j = json::parse(r->body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r->body;
    for (const auto& t : j["data"]["activeTargets"])
      before[HostOf(t["labels"].value("instance", ""))].insert(pod);
  }
  const double killed = UnixNow();
  ASSERT_TRUE(cluster_->KillContainer(leader, "operator", SIGKILL, kNs));
  ASSERT_NO_FATAL_FAILURE(WaitSteady(3));
  const double end = UnixNow();
  auto scrapes = Scrapes();

  int moving = 0;
  for (const auto& [t, from] : before) moving += from.size() > 1;
  std::cout << "operator " << leader << " killed with " << moving
            << " targets scraped by two shards\n";
  for (const auto& [t, v] : scrapes) {
    for (const auto& s : v) {
      if (s.t <= killed) continue;
      EXPECT_TRUE(before[t].count(s.from))
          << t << " scraped by " << s.from << " after the operator restart";
    }
  }
  std::string where;
  const double gap = LongestGap(scrapes, start, end, &where);
  std::cout << "operator killed mid-handoff: longest gap " << gap << " intervals\n";
  EXPECT_LT(gap, kNoMissedInterval) << where;
  ExpectReceiversGotEverything(start);
}

// (d) Scale 5 → 2: the drained shards hand every target off, apply their final empty plan
// (they stop scraping while still running), report it, and only then are removed; no
// staleness marker anywhere. The order is proven from what remains once the drained pods are
// gone, not by watching them:
//   - the operator's Events: one ShardDrained per drained shard, naming the plan generation
//     its scraper reported running with no targets and when that report arrived (recorded
//     before the StatefulSet shrinks), and no ShardRemovedUndrained;
//   - the targets' scrape logs: every scrape a drained pod made precedes that report, hence
//     the pod's removal;
//   - the receivers, which know the sender of each sample (remote write's User-Agent): once
//     another scraper forwards a target, the drained one never forwards it again; no
//     staleness marker; each target's samples continue with no gap of 2 intervals.
TEST_F(HandoffE2ETest, ScaleDownFiveToTwoDrainsWithoutStaleness) {
  ASSERT_NO_FATAL_FAILURE(Deploy(5));
  ASSERT_NO_FATAL_FAILURE(WaitSteady(5));
  const double start = UnixNow();
  const std::set<std::string> drained = {"shardwise-main-0-2", "shardwise-main-0-3",
                                         "shardwise-main-0-4"};
  auto r = cluster_->Kubectl({"scale", "scrapepool", "main", "-n", kNs, "--replicas=2"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_TRUE(WaitFor(Every(300ms,
                            [&] {
                              return cluster_->JsonPath(
                                         "pods -l app.kubernetes.io/name=shardwise-scraper",
                                         ".items[*].metadata.name",
                                         kNs) == "shardwise-main-0-0 shardwise-main-0-1";
                            }),
                      60s))
      << cluster_->Kubectl({"get", "pods", "-n", kNs}).out;
  ASSERT_NO_FATAL_FAILURE(WaitSteady(2));
  const double end = UnixNow();

  // The operator's word: when each drained scraper reported its final empty plan.
  std::map<std::string, double> confirmed;  // pod → when its report arrived (Unix s)
  std::vector<std::string> undrained;
  WaitFor(Every(500ms,
                [&] {
                  confirmed = DrainConfirmations(&undrained);
                  return confirmed.size() + undrained.size() >= drained.size();
                }),
          15s);
  EXPECT_TRUE(undrained.empty()) << undrained.front();
  const std::string scaled = cluster_->JsonPath(
      "events", "range .items[?(@.reason==\"ShardsScaled\")]}{.message}{\" | \"}{end", kNs);
  EXPECT_NE(scaled.find(" -> 2 ("), std::string::npos) << "ShardsScaled Events: " << scaled;
  for (const auto& pod : drained) {
    EXPECT_TRUE(confirmed.count(pod)) << "no ShardDrained Event names " << pod;
  }

  // The targets' word: nothing scraped by a drained pod after it reported its empty plan.
  auto scrapes = Scrapes();
  std::map<std::string, double> last;  // drained pod → its last scrape of any target
  for (const auto& [target, v] : scrapes) {
    for (const auto& s : v) {
      if (!drained.count(s.from)) continue;
      last[s.from] = std::max(last[s.from], s.t);
      if (confirmed.count(s.from)) {
        EXPECT_LT(s.t, confirmed[s.from])
            << target << " scraped by " << s.from << " after it reported its empty plan";
      }
    }
  }
  for (const auto& [pod, t] : confirmed) {
    EXPECT_GT(last[pod], start) << pod << " scraped nothing during the scale-down";
    std::cout << pod << ": last scrape " << std::fixed << std::setprecision(3)
              << confirmed[pod] - last[pod] << " s before it reported its empty plan\n";
  }

  // The receivers' word: per target, one sender at a time; a drained one, once replaced,
  // never again; and no gap.
  {
    std::lock_guard lock(mu_);
    double worst = 0;
    std::string worst_where;
    std::set<std::string> forwarded;  // every sender seen
    for (const auto& [instance, by_time] : up_senders_)
      for (const auto& [ts, senders] : by_time) forwarded.insert(senders.begin(), senders.end());
    for (const auto& pod : drained) {
      EXPECT_TRUE(forwarded.count(pod)) << pod << " forwarded nothing before its targets moved";
    }
    for (const auto& [instance, by_time] : up_senders_) {
      std::set<std::string> replaced;
      std::string previous;
      double last_t = start;
      for (const auto& [ts, senders] : by_time) {
        const double t = static_cast<double>(ts) / 1000;
        if (t < start || t > end) continue;
        if (t - last_t > worst) {
          worst = t - last_t;
          worst_where = instance + " before " + std::to_string(t);
        }
        last_t = t;
        for (const auto& sender : senders) {
          EXPECT_FALSE(replaced.count(sender))
              << instance << " @" << ts << " forwarded by " << sender << " after "
              << "another scraper took it over";
          if (auto c = confirmed.find(sender); c != confirmed.end()) {
            EXPECT_LT(t, c->second) << instance << " @" << ts << " forwarded by " << sender
                                    << " after it reported its empty plan";
          }
          if (!previous.empty() && sender != previous && drained.count(previous)) {
            replaced.insert(previous);
          }
          previous = sender;
        }
      }
    }
    std::cout << "scale 5 -> 2: longest gap between samples at the receiver " << worst / kInterval
              << " intervals (" << worst_where << ")\n";
    EXPECT_LT(worst / kInterval, 2.0) << worst_where;
  }
  std::string where;
  const double gap = LongestGap(scrapes, start, end, &where);
  std::cout << "scale 5 -> 2: longest gap between scrapes " << gap << " intervals\n";
  EXPECT_LT(gap, kNoMissedInterval) << where;
  ExpectReceiversGotEverything(start);
}

}  // namespace
}  // namespace shardwise::testing
