#include "tests/e2e/fleet.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/testing/test_util.h"
#include "scraper/remotewrite/test_receiver.h"
#include "scraper/storage/appender.h"

namespace shardwise::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

Status Must(const CommandResult& r, const std::string& what) {
  return r.exit_code == 0 ? Status::OK() : Status::Internal(what + ": " + r.Describe());
}

}  // namespace

Status ApplyCrds(const LocalCluster& cluster) {
  if (Status s = Must(
          cluster.Kubectl({"apply", "-f", LocalCluster::SourcePath("crds/monitoring.coreos.com/"),
                           "-f", LocalCluster::SourcePath("crds/shardwise.io/")}),
          "kubectl apply -f crds/");
      !s.ok())
    return s;
  if (!cluster.WaitForCondition("crd --all", "Established", "", 30s))
    return Status::Unavailable("CRDs not Established");
  return Status::OK();
}

Status ApplyOperator(const LocalCluster& cluster, const std::vector<std::string>& operator_args) {
  const std::string manifests = LocalCluster::SourcePath("manifests");
  if (operator_args.empty())
    return Must(cluster.Kubectl({"apply", "-k", manifests + "/"}), "kubectl apply -k manifests/");
  const std::filesystem::path overlay = cluster.dir() + "/operator-overlay";
  std::filesystem::create_directories(overlay);
  std::ofstream out(overlay / "kustomization.yaml");
  out << "resources:\n- " << std::filesystem::relative(manifests, overlay).string()
      << "\npatches:\n- target: {kind: Deployment, name: shardwise-operator}\n  patch: |-\n";
  for (const auto& arg : operator_args) {
    out << "    - op: add\n      path: /spec/template/spec/containers/0/args/-\n"
        << "      value: \"" << arg << "\"\n";
  }
  out.close();
  if (!out) return Status::Internal("cannot write " + (overlay / "kustomization.yaml").string());
  return Must(cluster.Kubectl({"apply", "-k", overlay.string()}),
              "kubectl apply -k manifests/ with " + std::to_string(operator_args.size()) +
                  " operator args");
}

std::string SampleAppYaml(const SampleApp& app) {
  const std::string meta = "{name: " + app.name + ", namespace: " + app.ns;
  const std::string selector = "{app: " + app.name + "}";
  std::ostringstream y;
  y << "apiVersion: apps/v1\nkind: Deployment\n"
    << "metadata: " << meta << ", labels: " << selector << "}\n"
    << "spec:\n"
    << "  replicas: " << app.replicas << "\n"
    << "  selector: {matchLabels: " << selector << "}\n"
    << "  template:\n"
    << "    metadata: {labels: " << selector << "}\n"
    << "    spec:\n"
    << "      containers:\n"
    << "      - name: app\n"
    << "        image: shardwise/sample-app:0.1.0\n"
    << "        args: [\"--listen-address=$(POD_IP):8080\", \"--series=" << app.series << "\"";
  for (const auto& a : app.args) y << ", \"" << a << "\"";
  y << "]\n"
    << "        env:\n"
    << "        - name: POD_IP\n"
    << "          valueFrom: {fieldRef: {fieldPath: status.podIP}}\n"
    << "        ports: [{name: metrics, containerPort: 8080}]\n"
    << "        readinessProbe:\n"
    << "          httpGet: {path: /readyz, port: metrics}\n"
    << "          periodSeconds: 1\n";
  if (app.service) {
    y << "---\napiVersion: v1\nkind: Service\n"
      << "metadata: " << meta << ", labels: " << selector << "}\n"
      << "spec:\n"
      << "  selector: " << selector << "\n"
      << "  ports: [{name: metrics, port: 8080, targetPort: metrics}]\n";
  }
  y << "---\napiVersion: monitoring.coreos.com/v1\n"
    << "kind: " << (app.service ? "ServiceMonitor" : "PodMonitor") << "\n"
    << "metadata: " << meta << ", labels: {shardwise.io/pool: main}}\n"
    << "spec:\n"
    << "  selector: {matchLabels: " << selector << "}\n"
    << "  " << (app.service ? "endpoints" : "podMetricsEndpoints") << ":\n"
    << "  - port: metrics\n"
    << "    interval: " << app.interval << "\n"
    << app.endpoint;
  return y.str();
}

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::function<bool()> Every(std::chrono::milliseconds period, std::function<bool()> pred) {
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [=] {
    auto now = std::chrono::steady_clock::now();
    if (now - *last < period) return false;
    *last = now;
    return pred();
  };
}

Fleet::Fleet(FleetOptions options) : options_(std::move(options)), cluster_(options_.cluster) {}

Fleet::~Fleet() {
  // Pods first (their graceful shutdown still remote-writes), then the receiver.
  cluster_.Stop();
  if (receiver_) receiver_->Stop();
}

std::string Fleet::remote_write_url() const {
  return "http://127.0.0.1:" + std::to_string(receiver_->port()) + "/api/v1/write";
}

Status Fleet::Start() {
  http::Server::Options ro;
  ro.listen_address = "127.0.0.1:0";
  receiver_ = std::make_unique<http::Server>(ro);
  receiver_->Handle("/api/v1/write", http::Simple([this](const http::Request& req) {
                      auto decoded = remotewrite::testing::DecodeBody(req.body);
                      if (!decoded.ok()) return http::Response::Text(400, "bad body");
                      std::lock_guard lock(mu_);
                      for (const auto& ts : decoded->timeseries()) {
                        for (const auto& s : ts.samples()) {
                          ++received_;
                          if (storage::IsStaleNaN(s.value()))
                            stale_.push_back(remotewrite::testing::SeriesString(ts));
                        }
                      }
                      return http::Response::Text(204, "");
                    }));
  if (Status s = receiver_->Start(); !s.ok()) return s;
  if (Status s = cluster_.Start(); !s.ok()) return s;

  if (Status s = ApplyCrds(cluster_); !s.ok()) return s;
  if (Status s = ApplyOperator(cluster_, options_.operator_args); !s.ok()) return s;
  if (options_.custom_metrics) {
    if (Status s =
            Must(cluster_.Kubectl(
                     {"apply", "-f", LocalCluster::SourcePath("manifests/custom-metrics.yaml")}),
                 "kubectl apply -f manifests/custom-metrics.yaml");
        !s.ok())
      return s;
  }
  const std::string apps = SampleAppYaml({.ns = kAppNamespace,
                                          .replicas = options_.sample_apps,
                                          .series = options_.sample_app_series,
                                          .interval = options_.scrape_interval});
  if (Status s =
          Must(cluster_.Apply(std::string("apiVersion: v1\nkind: Namespace\nmetadata: {name: ") +
                              kAppNamespace + "}\n---\n" + apps),
               "sample apps");
      !s.ok())
    return s;
  // Both replicas Ready; the leader labels its pod, which the Service (scrapers, the
  // aggregator) selects.
  if (!cluster_.WaitForJsonPath("deployment/shardwise-operator", ".status.readyReplicas", "2",
                                kNamespace, 90s))
    return Status::Unavailable("operator replicas not Ready:\n" + Describe());
  if (!WaitFor(
          [&] {
            return !cluster_
                        .JsonPath("pods -l shardwise.io/leader=true", ".items[*].metadata.name",
                                  kNamespace)
                        .empty();
          },
          60s))
    return Status::Unavailable("no operator pod labelled shardwise.io/leader=true:\n" + Describe());
  if (!cluster_.WaitForJsonPath("deployment/sample-app", ".status.readyReplicas",
                                std::to_string(options_.sample_apps), kAppNamespace, 90s))
    return Status::Unavailable("sample apps not Ready:\n" + Describe());
  return Status::OK();
}

std::vector<std::string> Fleet::SampleAppIps() const {
  std::string out =
      cluster_.JsonPath("pods -l app=sample-app",
                        ".items[?(@.status.phase==\"Running\")].status.podIP", kAppNamespace);
  std::vector<std::string> ips;
  std::istringstream words(out);
  for (std::string ip; words >> ip;) ips.push_back(ip);
  return ips;
}

Status Fleet::SetSeries(int series) const {
  auto ips = SampleAppIps();
  if (ips.empty()) return Status::Unavailable("no sample app pods");
  for (const auto& ip : ips) {
    auto r =
        client_.DoSync({.method = "POST",
                        .url = "http://" + ip + ":8080/control?series=" + std::to_string(series)});
    if (!r.ok()) return r.status();
    if (r->status != 200) return Status::Internal("POST /control on " + ip + ": " + r->body);
  }
  return Status::OK();
}

std::map<std::string, std::vector<double>> Fleet::ScrapeTimes() const {
  std::map<std::string, std::vector<double>> out;
  for (const auto& ip : SampleAppIps()) {
    auto r = client_.DoSync({.url = "http://" + ip + ":8080/scrapes"});
    if (!r.ok() || r->status != 200) continue;
    auto log = json::parse(r->body, nullptr, false);
    if (!log.is_array()) continue;
    auto& times = out[ip];
    for (const auto& e : log) times.push_back(e.value("time", 0.0));
    std::sort(times.begin(), times.end());
  }
  return out;
}

double Fleet::LongestScrapeGap(double since, double until, std::string* who) const {
  double worst = 0;
  for (const auto& [ip, times] : ScrapeTimes()) {
    double last = since;
    for (double t : times) {
      if (t < since || t > until) continue;
      if (t - last > worst) {
        worst = t - last;
        if (who) *who = ip;
      }
      last = t;
    }
    if (until - last > worst) {
      worst = until - last;
      if (who) *who = ip;
    }
  }
  return worst;
}

std::string Fleet::ContinuityProblems(double since, double interval_seconds,
                                      const std::string& removed_metric) const {
  std::string problems;
  const double mark = UnixNow();
  bool covered = WaitFor(
      Every(500ms,
            [&] {
              auto times = ScrapeTimes();
              if (times.empty()) return false;
              for (const auto& [ip, ts] : times) {
                if (std::count_if(ts.begin(), ts.end(), [&](double t) { return t >= mark; }) < 2)
                  return false;
              }
              return true;
            }),
      std::chrono::milliseconds(static_cast<int>(interval_seconds * 6000)));
  if (!covered) problems += "the sample apps were not scraped twice more at the end\n";
  std::string who;
  double gap = LongestScrapeGap(since, UnixNow(), &who);
  if (gap >= 1.75 * interval_seconds) {
    problems += "a target missed an interval: " + who + " went " + std::to_string(gap) +
                " s without a scrape (interval " + std::to_string(interval_seconds) + " s)\n";
  }
  int wrong = 0;
  std::string first;
  for (const auto& series : StaleMarkers()) {
    if (series.find("__name__=\"" + removed_metric + "\"") != std::string::npos) continue;
    if (wrong++ == 0) first = series;
  }
  if (wrong > 0) {
    problems += std::to_string(wrong) + " staleness markers for series that still exist, first " +
                first + "\n";
  }
  return problems;
}

bool Fleet::WaitForShardTargets(const std::vector<int>& targets,
                                std::chrono::milliseconds limit) const {
  return WaitFor(Every(1s, [&] { return ShardTargets() == targets; }), limit);
}

bool Fleet::WaitForTargetsOnEveryShard(size_t shards, std::chrono::milliseconds limit) const {
  return WaitFor(Every(1s,
                       [&] {
                         auto t = ShardTargets();
                         return t.size() == shards &&
                                std::all_of(t.begin(), t.end(), [](int n) { return n > 0; });
                       }),
                 limit);
}

std::vector<int> Fleet::ShardTargets() const {
  auto r = cluster_.Kubectl({"get", "scrapeshards", "-n", kNamespace, "-o", "json"});
  if (r.exit_code != 0) return {};
  auto list = json::parse(r.out, nullptr, false);
  if (!list.is_object()) return {};
  std::map<int, int> by_index;
  for (const auto& item : list.value("items", json::array())) {
    int index = item.value("spec", json::object()).value("index", -1);
    by_index[index] = item.value("status", json::object()).value("targets", 0);
  }
  std::vector<int> out;
  for (const auto& [index, targets] : by_index) out.push_back(targets);
  return out;
}

std::vector<std::string> Fleet::StaleMarkers() const {
  std::lock_guard lock(mu_);
  return stale_;
}

int64_t Fleet::SamplesReceived() const {
  std::lock_guard lock(mu_);
  return received_;
}

std::string Fleet::Get(const std::string& resource, const std::string& path) const {
  return cluster_.JsonPath(resource, path, kNamespace);
}

std::string Fleet::Describe() const {
  std::string out;
  auto add = [&](std::vector<std::string> args) {
    auto r = cluster_.Kubectl(args);
    out += "$ kubectl";
    for (const auto& a : args) out += " " + a;
    out += "\n" + r.out + r.err;
  };
  add({"get", "pods,scrapepools,scrapeshards,hpa", "-A", "-o", "wide"});
  add({"get", "scrapepool", "main", "-n", kNamespace, "-o", "jsonpath={.status}"});
  out += "\n";
  add({"get", "events", "-A", "--sort-by=.lastTimestamp"});
  std::istringstream operators(cluster_.JsonPath(
      "pods -l app.kubernetes.io/name=shardwise-operator", ".items[*].metadata.name", kNamespace));
  for (std::string name; operators >> name;)
    out += "--- " + name + "\n" + cluster_.Logs(name, "operator", {"--tail=15"}, kNamespace);
  std::istringstream scrapers(cluster_.JsonPath("pods -l app.kubernetes.io/name=shardwise-scraper",
                                                ".items[*].metadata.name", kNamespace));
  for (std::string name; scrapers >> name;)
    out += "--- " + name + "\n" + cluster_.Logs(name, "scraper", {"--tail=10"}, kNamespace);
  return out;
}

}  // namespace shardwise::testing
