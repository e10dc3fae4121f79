// The simulator's controllers seen through the real kubectl: `rollout status`, `rollout
// history` and `rollout undo` of a Deployment, `rollout status` of a StatefulSet,
// EndpointSlices that follow pod readiness, and an HPA scaling a Deployment with its
// TARGETS column. No kubelet runs in this simulator: a test thread plays it, binding pods
// and making them Running and Ready (unless a pod is listed as held back).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "common/base64.h"
#include "common/http/server.h"
#include "common/testing/test_util.h"
#include "hack/kube-sim/certs.h"
#include "hack/kube-sim/simulator.h"
#include "hack/kube-sim/time_util.h"
#include "tests/kubectl/command_runner.h"

namespace shardwise {
namespace {

using kubesim::json;
using shardwise::testing::CommandResult;
using shardwise::testing::RunCommand;
using shardwise::testing::TempDir;
using shardwise::testing::WaitFor;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

class ControllersE2eTest : public ::testing::Test {
 protected:
  // Unset: the HPA reads metrics through the aggregation layer.
  virtual bool FakeMetrics() const { return true; }

  void SetUp() override {
    kubesim::SimulatorOptions opts;
    opts.hpa_sync_period = std::chrono::milliseconds(300);
    opts.apiservice_check_interval = std::chrono::milliseconds(200);
    if (FakeMetrics()) {
      opts.metrics_getter = [this](const std::string& path) -> Result<std::pair<int, std::string>> {
        std::lock_guard<std::mutex> lock(mu_);
        return std::make_pair(metrics_code_, metrics_body_);
      };
    }
    sim_ = std::make_unique<kubesim::Simulator>(opts);
    ASSERT_TRUE(sim_->Start().ok());
    dir_ = std::filesystem::temp_directory_path() /
           ("controllers-e2e-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_ / "home");
    kubeconfig_ = (dir_ / "kubeconfig").string();
    ASSERT_TRUE(sim_->WriteKubeconfig(kubeconfig_, false).ok());
    kubelet_ = std::thread([this] {
      while (!stop_) {
        Kubelet();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a kubelet's poll loop
      }
    });
  }
  void TearDown() override {
    stop_ = true;
    if (kubelet_.joinable()) kubelet_.join();
    sim_->Stop();
    std::filesystem::remove_all(dir_);
  }

  // Binds every pod and makes it Running, with an IP, Ready unless held back.
  void Kubelet() {
    auto& c = sim_->cluster();
    auto pods_type = c.FindType("", "v1", "pods");
    auto list = c.List(*pods_type, "", kubesim::ListOptions{});
    if (!list.ok()) return;
    for (json p : list.value()["items"]) {
      std::string ns = p["metadata"]["namespace"], name = p["metadata"]["name"];
      kubesim::WriteContext ctx;
      ctx.field_manager = "kubelet";
      if (p["spec"].value("nodeName", "").empty()) {
        p["spec"]["nodeName"] = "node-1";
        c.Update(*pods_type, ns, name, p, ctx);
        continue;
      }
      bool ready;
      {
        std::lock_guard<std::mutex> lock(mu_);
        ready = !held_.count(name);
      }
      std::string want = ready ? "True" : "False";
      bool same = false;
      if (p["status"].contains("conditions"))
        for (const auto& cond : p["status"]["conditions"])
          same = same || (cond.value("type", "") == "Ready" && cond.value("status", "") == want);
      if (same) continue;
      if (!p["status"].contains("podIP")) p["status"]["podIP"] = "127.0.1." + std::to_string(++ip_);
      p["status"]["phase"] = "Running";
      p["status"]["conditions"] = json::array(
          {{{"type", "Ready"}, {"status", want}, {"lastTransitionTime", kubesim::NowRfc3339()}}});
      c.Update(*pods_type, ns, name, p, ctx, "status");
    }
  }

  CommandResult Kubectl(std::vector<std::string> args, const std::string& stdin_data = "") {
    args.insert(args.begin(), "kubectl");
    return RunCommand(args,
                      {{"KUBECONFIG", kubeconfig_},
                       {"KUBECACHEDIR", (dir_ / "cache").string()},
                       {"HOME", (dir_ / "home").string()}},
                      std::chrono::seconds(60), stdin_data);
  }

  std::unique_ptr<kubesim::Simulator> sim_;
  std::filesystem::path dir_;
  std::string kubeconfig_;
  std::thread kubelet_;
  std::atomic<bool> stop_{false};
  int ip_ = 0;
  std::mutex mu_;
  std::set<std::string> held_;
  int metrics_code_ = 404;
  std::string metrics_body_ =
      R"({"kind":"Status","message":"the server could not find the requested resource"})";
};

std::string Deployment(const std::string& image) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\n"
         "spec:\n  replicas: 3\n  selector:\n    matchLabels: {app: web}\n  template:\n"
         "    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: c\n"
         "        image: " +
         image + "\n        ports:\n        - {name: http, containerPort: 8080}\n";
}

TEST_F(ControllersE2eTest, DeploymentRolloutStatusHistoryAndUndo) {
  CommandResult r = Kubectl({"apply", "-f", "-"}, Deployment("nginx:1.25"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"rollout", "status", "deploy/web", "--timeout=60s"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("deployment \"web\" successfully rolled out"));
  r = Kubectl({"get", "deploy", "web"});
  EXPECT_THAT(r.out, ContainsRegex("web +3/3 +3 +3 +"));

  r = Kubectl({"set", "image", "deploy/web", "c=nginx:1.26"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"annotate", "deploy/web", "kubernetes.io/change-cause=image 1.26"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"rollout", "status", "deploy/web", "--timeout=60s"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("successfully rolled out"));
  r = Kubectl({"get", "rs", "-l", "app=web"});
  EXPECT_THAT(r.out, ContainsRegex("NAME +DESIRED +CURRENT +READY +AGE"));
  EXPECT_THAT(r.out, ContainsRegex("web-[a-z0-9]+ +3 +3 +3 +"));
  EXPECT_THAT(r.out, ContainsRegex("web-[a-z0-9]+ +0 +0 +0 +"));

  ASSERT_TRUE(WaitFor(
      [&] {
        r = Kubectl({"rollout", "history", "deploy/web"});
        return r.out.find("image 1.26") != std::string::npos;
      },
      std::chrono::seconds(20)))
      << r.Describe();
  EXPECT_THAT(r.out, ContainsRegex("REVISION +CHANGE-CAUSE"));
  EXPECT_THAT(r.out, ContainsRegex("\n1 +<none>"));
  EXPECT_THAT(r.out, ContainsRegex("\n2 +image 1.26"));

  r = Kubectl({"rollout", "undo", "deploy/web"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("deployment.apps/web rolled back"));
  r = Kubectl({"rollout", "status", "deploy/web", "--timeout=60s"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "deploy", "web", "-o",
               "jsonpath={.spec.template.spec.containers[0].image} "
               "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}"});
  EXPECT_EQ(r.out, "nginx:1.25 3");
  r = Kubectl({"rollout", "history", "deploy/web"});
  EXPECT_THAT(r.out, ContainsRegex("\n2 +image 1.26"));
  EXPECT_THAT(r.out, ContainsRegex("\n3 +"));
}

TEST_F(ControllersE2eTest, StatefulSetRolloutStatus) {
  std::string sts =
      "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: default\n"
      "spec:\n  replicas: 2\n  serviceName: db\n  selector:\n    matchLabels: {app: db}\n"
      "  template:\n    metadata:\n      labels: {app: db}\n    spec:\n      containers:\n"
      "      - {name: c, image: pg}\n";
  CommandResult r = Kubectl({"apply", "-f", "-"}, sts);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"rollout", "status", "sts/db", "--timeout=60s"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("partitioned roll out complete: 2 new pods have been updated"));
  r = Kubectl({"get", "controllerrevisions"});
  EXPECT_THAT(r.out, ContainsRegex("db-[a-z0-9]+ +statefulset.apps/db +1 +"));
  r = Kubectl({"get", "sts", "db"});
  EXPECT_THAT(r.out, ContainsRegex("db +2/2 +"));
}

TEST_F(ControllersE2eTest, EndpointSlicesFollowPodReadiness) {
  std::string svc =
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\n"
      "spec:\n  selector: {app: web}\n  ports:\n  - {name: http, port: 80, targetPort: http}\n";
  CommandResult r = Kubectl({"apply", "-f", "-"}, svc + "---\n" + Deployment("nginx:1.25"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"rollout", "status", "deploy/web", "--timeout=60s"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  auto ready_count = [&](const std::string& want) {
    r = Kubectl({"get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o",
                 "jsonpath={range .items[*].endpoints[*]}{.targetRef.name}={.conditions.ready} "
                 "{end}"});
    size_t n = 0;
    for (size_t pos = 0; (pos = r.out.find("=" + want, pos)) != std::string::npos; ++pos) ++n;
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return ready_count("true") == 3; }, std::chrono::seconds(20)))
      << r.Describe();
  r = Kubectl({"get", "endpointslices", "-l", "kubernetes.io/service-name=web"});
  EXPECT_THAT(r.out, ContainsRegex("NAME +ADDRESSTYPE +PORTS +ENDPOINTS +AGE"));
  EXPECT_THAT(r.out, ContainsRegex("web-[a-z0-9]+ +IPv4 +8080 +127\\.0\\.1\\.[0-9]+,"));
  EXPECT_TRUE(WaitFor(
      [&] {
        r = Kubectl({"get", "endpoints", "web"});
        return ::testing::Matches(ContainsRegex("web +127\\.0\\.1\\.[0-9]+:8080,"))(r.out);
      },
      std::chrono::seconds(20)))
      << r.Describe();

  // One pod turns NotReady: its endpoint is ready=false.
  r = Kubectl({"get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}"});
  std::string victim = r.out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    held_.insert(victim);
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        ready_count("true");
        return r.out.find(victim + "=false") != std::string::npos;
      },
      std::chrono::seconds(20)))
      << r.Describe();

  // Deleted: its endpoint goes (the ReplicaSet's replacement becomes Ready).
  r = Kubectl({"delete", "pod", victim});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_TRUE(
      WaitFor([&] { return ready_count("true") == 3 && r.out.find(victim) == std::string::npos; },
              std::chrono::seconds(20)))
      << r.Describe();
}

TEST_F(ControllersE2eTest, HpaScalesADeploymentAndShowsTargets) {
  CommandResult r = Kubectl({"apply", "-f", "-"}, Deployment("nginx:1.25"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::string hpa =
      "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n"
      "  namespace: default\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, "
      "name: web}\n  minReplicas: 2\n  maxReplicas: 10\n  metrics:\n  - type: Pods\n    pods:\n"
      "      metric: {name: rps}\n      target: {type: AverageValue, averageValue: 500m}\n";
  r = Kubectl({"apply", "-f", "-"}, hpa);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_TRUE(WaitFor(
      [&] {
        r = Kubectl({"get", "hpa", "web"});
        return r.out.find("<unknown>/500m") != std::string::npos;
      },
      std::chrono::seconds(20)))
      << r.Describe();
  EXPECT_THAT(r.out, ContainsRegex("NAME +REFERENCE +TARGETS +MINPODS +MAXPODS +REPLICAS +AGE"));

  auto serve = [&](const std::string& value) {
    json items = json::array();
    auto pods = sim_->cluster().List(*sim_->cluster().FindType("", "v1", "pods"), "default",
                                     kubesim::ListOptions{});
    for (const auto& p : pods.value()["items"])
      items.push_back({{"describedObject", {{"kind", "Pod"}, {"name", p["metadata"]["name"]}}},
                       {"metric", {{"name", "rps"}}},
                       {"value", value}});
    std::lock_guard<std::mutex> lock(mu_);
    metrics_code_ = 200;
    metrics_body_ = json{{"kind", "MetricValueList"}, {"items", items}}.dump();
  };
  ASSERT_TRUE(WaitFor(
      [&] {
        serve("1");
        r = Kubectl({"get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"});
        return r.out == "6";
      },
      std::chrono::seconds(30)))
      << Kubectl({"describe", "hpa", "web"}).out;
  ASSERT_TRUE(WaitFor(
      [&] {
        serve("1");
        r = Kubectl({"get", "hpa", "web"});
        return ::testing::Matches(ContainsRegex("web +Deployment/web +1/500m +2 +10 +6 +"))(r.out);
      },
      std::chrono::seconds(20)))
      << r.Describe();
  r = Kubectl({"describe", "hpa", "web"});
  EXPECT_THAT(r.out, HasSubstr("SuccessfulRescale"));
  EXPECT_THAT(r.out, HasSubstr("New size: 6; reason: pods metric rps above target"));
}

// A custom metrics API server on 127.0.0.1 (HTTPS, trusting only the simulator's front
// proxy) serving one pods metric, rps, whose value the test sets.
class CustomMetricsServer {
 public:
  CustomMetricsServer(const TempDir& dir, kubesim::Simulator& sim) : sim_(sim) {
    auto ca = kubesim::GenerateCa("custom-metrics-ca");
    EXPECT_TRUE(ca.ok());
    ca_pem_ = ca.value().cert_pem;
    auto cert =
        kubesim::IssueCert(ca.value(), {"custom-metrics", {}, {}, {"metrics.default.svc"}, false});
    EXPECT_TRUE(cert.ok());
    http::Server::Options o;
    o.listen_address = "127.0.0.1:0";
    o.tls_cert_file = dir.File("metrics.crt", cert.value().cert_pem);
    o.tls_key_file = dir.File("metrics.key", cert.value().key_pem);
    o.tls_client_ca_file = dir.File("front-proxy-ca.crt", sim.front_proxy_ca_pem());
    server_ = std::make_unique<http::Server>(o);
    server_->Handle("/",
                    [this](const http::Request& req, http::ResponseWriter& w) { Serve(req, w); });
    EXPECT_TRUE(server_->Start().ok());
  }
  int port() const { return server_->port(); }
  const std::string& ca_pem() const { return ca_pem_; }
  void Set(const std::string& value) {
    std::lock_guard<std::mutex> lock(mu_);
    value_ = value;
  }

 private:
  void Serve(const http::Request& req, http::ResponseWriter& w) {
    const std::string base = "/apis/custom.metrics.k8s.io/v1beta2";
    if (req.path == base) {
      w.Send(http::Response::Json(200, R"({"kind":"APIResourceList","apiVersion":"v1",
          "groupVersion":"custom.metrics.k8s.io/v1beta2","resources":[{"name":"pods/rps",
          "singularName":"","namespaced":true,"kind":"MetricValueList","verbs":["get"]}]})"));
      return;
    }
    const std::string prefix = base + "/namespaces/default/pods/";
    if (req.path.rfind(prefix, 0) != 0 || req.path.size() < 4 ||
        req.path.substr(req.path.size() - 4) != "/rps") {
      w.Send(http::Response::Json(404, R"({"kind":"Status","status":"Failure","code":404,
          "message":"the server could not find the requested resource"})"));
      return;
    }
    std::string value;
    {
      std::lock_guard<std::mutex> lock(mu_);
      value = value_;
    }
    json items = json::array();
    auto& c = sim_.cluster();
    auto pods = c.List(*c.FindType("", "v1", "pods"), "default", kubesim::ListOptions{});
    if (pods.ok())
      for (const auto& p : pods.value()["items"])
        if (p["metadata"].value("labels", json::object()).value("app", "") == "web")
          items.push_back({{"describedObject",
                            {{"kind", "Pod"},
                             {"namespace", "default"},
                             {"name", p["metadata"]["name"]},
                             {"apiVersion", "/v1"}}},
                           {"metric", {{"name", "rps"}, {"selector", nullptr}}},
                           {"timestamp", kubesim::NowRfc3339()},
                           {"windowSeconds", 60},
                           {"value", value}});
    w.Send(http::Response::Json(200, json{{"kind", "MetricValueList"},
                                          {"apiVersion", "custom.metrics.k8s.io/v1beta2"},
                                          {"metadata", json::object()},
                                          {"items", items}}
                                         .dump()));
  }

  kubesim::Simulator& sim_;
  std::unique_ptr<http::Server> server_;
  std::string ca_pem_;
  std::mutex mu_;
  std::string value_ = "1";
};

class AggregatedMetricsTest : public ControllersE2eTest {
 protected:
  bool FakeMetrics() const override { return false; }
};

TEST_F(AggregatedMetricsTest, HpaScalesOnAMetricOfATestApiServiceAndWaitsOutStabilization) {
  TempDir tmp;
  CustomMetricsServer metrics(tmp, *sim_);
  std::string port = std::to_string(metrics.port());
  CommandResult r = Kubectl(
      {"apply", "-f", "-"},
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: metrics\n  namespace: default\n"
      "spec:\n  ports:\n  - {name: https, port: 443, targetPort: " +
          port +
          "}\n"
          "---\napiVersion: v1\nkind: Endpoints\nmetadata:\n  name: metrics\n  namespace: default\n"
          "subsets:\n- addresses:\n  - ip: 127.0.0.1\n  ports:\n  - {name: https, port: " +
          port +
          "}\n"
          "---\napiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata:\n"
          "  name: v1beta2.custom.metrics.k8s.io\nspec:\n  group: custom.metrics.k8s.io\n"
          "  version: v1beta2\n  groupPriorityMinimum: 100\n  versionPriority: 200\n  service:\n"
          "    {namespace: default, name: metrics, port: 443}\n  caBundle: " +
          Base64Encode(metrics.ca_pem()) + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"wait", "--for=condition=Available", "apiservice/v1beta2.custom.metrics.k8s.io",
               "--timeout=30s"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();

  r = Kubectl({"apply", "-f", "-"}, Deployment("nginx:1.25"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"rollout", "status", "deploy/web", "--timeout=60s"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  // 3 pods at 1 against 500m: 6. Down-scaling waits out a 3 s stabilization window.
  std::string hpa =
      "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n"
      "  namespace: default\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, "
      "name: web}\n  minReplicas: 1\n  maxReplicas: 10\n  metrics:\n  - type: Pods\n    pods:\n"
      "      metric: {name: rps}\n      target: {type: AverageValue, averageValue: 500m}\n"
      "  behavior:\n    scaleDown: {stabilizationWindowSeconds: 3}\n";
  r = Kubectl({"apply", "-f", "-"}, hpa);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_TRUE(WaitFor(
      [&] {
        r = Kubectl({"get", "hpa", "web"});
        return ::testing::Matches(ContainsRegex("web +Deployment/web +1/500m +1 +10 +6 +"))(r.out);
      },
      std::chrono::seconds(40)))
      << r.Describe() << Kubectl({"describe", "hpa", "web"}).out;
  r = Kubectl({"rollout", "status", "deploy/web", "--timeout=60s"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();

  // Load drops to 100m: 6 x 0.2 -> 2, held at 6 by the window, then 2.
  metrics.Set("100m");
  bool stabilized = false;
  ASSERT_TRUE(WaitFor(
      [&] {
        r = Kubectl({"get", "hpa", "web", "-o",
                     "jsonpath={.status.conditions[?(@.type==\"AbleToScale\")].reason} "
                     "{.spec.scaleTargetRef.name}"});
        stabilized = stabilized || r.out.find("ScaleDownStabilized") == 0;
        r = Kubectl({"get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"});
        return r.out == "2";
      },
      std::chrono::seconds(40)))
      << Kubectl({"describe", "hpa", "web"}).out;
  EXPECT_TRUE(stabilized) << "the scale-down waited for the stabilization window";
  r = Kubectl({"describe", "hpa", "web"});
  EXPECT_THAT(r.out, HasSubstr("New size: 6; reason: pods metric rps above target"));
  EXPECT_THAT(r.out, HasSubstr("New size: 2; reason: All metrics below target"));
}

}  // namespace
}  // namespace shardwise
