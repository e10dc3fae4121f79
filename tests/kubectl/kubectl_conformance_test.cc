// Conformance: the real kubectl against the in-process Kubernetes API simulator.
// Every test gets its own kubeconfig, discovery cache and namespace; the simulator is
// shared by the suite and listens on 127.0.0.1 (HTTP and HTTPS) on random ports.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>

#include "hack/kube-sim/simulator.h"
#include "tests/kubectl/command_runner.h"

namespace shardwise {
namespace {

using shardwise::testing::BackgroundCommand;
using shardwise::testing::CommandResult;
using shardwise::testing::RunCommand;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kWidgetCrd[] = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
  versions:
  - name: v1alpha1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.selector
    additionalPrinterColumns:
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Image, type: string, jsonPath: .spec.image}
    - {name: Mode, type: string, jsonPath: .spec.mode, priority: 1}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [image]
            properties:
              image: {type: string, minLength: 1}
              replicas: {type: integer, minimum: 0, maximum: 100, default: 1}
              mode: {type: string, enum: [fast, safe]}
          status:
            type: object
            properties:
              replicas: {type: integer}
              selector: {type: string}
)";

std::string Widget(const std::string& ns, const std::string& name, const std::string& body) {
  return "apiVersion: example.com/v1alpha1\nkind: Widget\nmetadata:\n  name: " + name +
         "\n  namespace: " + ns + "\n  labels:\n    app: " + name + "\n" + body;
}

class KubectlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    kubesim::SimulatorOptions opts;
    opts.tls_listen_address = "127.0.0.1:0";
    opts.tokens["alice"] = "alice-token-123";
    opts.namespace_deletion_delay_ms = 300;
    sim_ = new kubesim::Simulator(opts);
    Status s = sim_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static void TearDownTestSuite() {
    delete sim_;
    sim_ = nullptr;
  }

  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    ns_ = "t-";
    for (char c : std::string(info->name())) ns_ += static_cast<char>(std::tolower(c));
    dir_ = std::filesystem::temp_directory_path() /
           ("kubectl-conformance-" + ns_ + "-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "home");
    kubeconfig_ = (dir_ / "kubeconfig").string();
    ASSERT_TRUE(sim_->WriteKubeconfig(kubeconfig_, false).ok());
    kubesim::WriteContext ctx;
    auto ns_type = sim_->cluster().FindType("", "v1", "namespaces");
    auto created = sim_->cluster().Create(*ns_type, "", {{"metadata", {{"name", ns_}}}}, ctx);
    ASSERT_TRUE(created.ok()) << created.error().message();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::map<std::string, std::string> Env() const {
    return {{"KUBECONFIG", kubeconfig_},
            {"KUBECACHEDIR", (dir_ / "cache").string()},
            {"HOME", (dir_ / "home").string()}};
  }

  CommandResult Kubectl(std::vector<std::string> args, const std::string& stdin_data = "",
                        std::chrono::seconds timeout = std::chrono::seconds(30)) {
    args.insert(args.begin(), "kubectl");
    return RunCommand(args, Env(), timeout, stdin_data);
  }

  std::string WriteManifest(const std::string& name, const std::string& yaml) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << yaml;
    return path;
  }

  CommandResult Apply(const std::string& yaml, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"apply", "-f", WriteManifest("apply.yaml", yaml)};
    args.insert(args.end(), extra.begin(), extra.end());
    return Kubectl(args);
  }

  void InstallWidgetCrd() {
    CommandResult r = Apply(kWidgetCrd);
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    r = Kubectl(
        {"wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s"});
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("condition met"));
  }

  static kubesim::Simulator* sim_;
  std::string ns_;
  std::filesystem::path dir_;
  std::string kubeconfig_;
};

kubesim::Simulator* KubectlTest::sim_ = nullptr;

TEST_F(KubectlTest, CustomResourceApplyReapplyChangeDelete) {
  InstallWidgetCrd();
  std::string w1 = Widget(ns_, "w1", "spec:\n  image: nginx:1.25\n  replicas: 2\n");
  CommandResult r = Apply(w1);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("widget.example.com/w1 created"));

  r = Apply(w1);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("widget.example.com/w1 unchanged"));

  r = Apply(Widget(ns_, "w1", "spec:\n  image: nginx:1.26\n  replicas: 3\n"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("widget.example.com/w1 configured"));
  r = Kubectl({"get", "widget", "w1", "-n", ns_, "-o",
               "jsonpath={.spec.image} {.spec.replicas} {.metadata.generation}"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "nginx:1.26 3 2");

  r = Kubectl({"delete", "widget", "w1", "-n", ns_});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("widget.example.com \"w1\" deleted"));
  r = Kubectl({"get", "widget", "w1", "-n", ns_});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("widgets.example.com \"w1\" not found"));
}

TEST_F(KubectlTest, SchemaViolationsAreListedPerField) {
  InstallWidgetCrd();
  CommandResult r = Apply(Widget(ns_, "wbad", "spec:\n  replicas: -1\n  mode: slow\n"));
  ASSERT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("The Widget \"wbad\" is invalid:"));
  EXPECT_THAT(r.err, HasSubstr("* spec.image: Required value"));
  EXPECT_THAT(r.err,
              HasSubstr("* spec.replicas: Invalid value: -1: spec.replicas in body should be "
                        "greater than or equal to 0"));
  EXPECT_THAT(r.err,
              HasSubstr("* spec.mode: Unsupported value: \"slow\": supported values: \"fast\", "
                        "\"safe\""));
  r = Kubectl({"get", "widget", "wbad", "-n", ns_});
  EXPECT_NE(r.exit_code, 0) << "a refused object must not be stored";
}

TEST_F(KubectlTest, UnknownFieldsFollowFieldValidation) {
  InstallWidgetCrd();
  std::string body = Widget(ns_, "w2", "spec:\n  image: busybox\n  bogus: 1\n");
  CommandResult r = Apply(body);
  ASSERT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("Widget in version \"v1alpha1\" cannot be handled as a Widget: "
                               "strict decoding error: unknown field \"spec.bogus\""));
  r = Apply(body, {"--server-side"});
  ASSERT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("failed to create typed patch object (" + ns_ +
                               "/w2; example.com/v1alpha1, Kind=Widget): .spec.bogus: field not "
                               "declared in schema"));

  r = Apply(body, {"--validate=warn"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("Warning: unknown field \"spec.bogus\""));
  r = Apply(Widget(ns_, "w2b", "spec:\n  image: busybox\n  bogus: 1\n"), {"--validate=false"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.err, Not(HasSubstr("bogus"))) << "fieldValidation=Ignore drops it silently";
  r = Kubectl({"get", "widget", "w2", "-n", ns_, "-o", "jsonpath={.spec}"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, R"({"image":"busybox","replicas":1})")
      << "pruned, and the schema default applies";
}

TEST_F(KubectlTest, GetShowsPrinterColumnsAllNamespacesAndLabels) {
  InstallWidgetCrd();
  CommandResult r =
      Apply(Widget(ns_, "w3", "spec:\n  image: redis:7\n  replicas: 4\n  mode: fast\n"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();

  r = Kubectl({"get", "widgets", "-n", ns_});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out,
              ::testing::MatchesRegex("NAME +REPLICAS +IMAGE +AGE\nw3 +4 +redis:7 +[0-9]+s\n"));

  r = Kubectl({"get", "wd", "-n", ns_, "-o", "wide"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("MODE"));
  EXPECT_THAT(r.out, HasSubstr("fast"));

  r = Kubectl({"get", "widgets", "-A"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::ContainsRegex("NAMESPACE +NAME +REPLICAS"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(ns_ + " +w3 +4"));

  r = Kubectl({"get", "widgets", "-n", ns_, "--show-labels"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("LABELS"));
  EXPECT_THAT(r.out, HasSubstr("app=w3"));

  r = Kubectl({"get", "widgets", "-n", ns_, "-l", "app=nope"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("No resources found"));
}

TEST_F(KubectlTest, GetWatchSeesAChange) {
  InstallWidgetCrd();
  CommandResult r = Apply(Widget(ns_, "w4", "spec:\n  image: a\n  replicas: 1\n"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  BackgroundCommand watch({"kubectl", "get", "widgets", "-n", ns_, "-w"}, Env());
  ASSERT_TRUE(watch.WaitForOutput("w4", std::chrono::seconds(20))) << watch.Errors();
  r = Kubectl({"patch", "widget", "w4", "-n", ns_, "--type", "merge", "-p",
               R"({"spec":{"image":"changed-image"}})"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(watch.WaitForOutput("changed-image", std::chrono::seconds(20)))
      << watch.Output() << watch.Errors();
}

TEST_F(KubectlTest, ScaleGoesThroughTheScaleSubresource) {
  InstallWidgetCrd();
  CommandResult r = Apply(Widget(ns_, "w5", "spec:\n  image: a\n  replicas: 1\n"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"scale", "widget/w5", "-n", ns_, "--replicas=6"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("widget.example.com/w5 scaled"));
  r = Kubectl(
      {"get", "--raw", "/apis/example.com/v1alpha1/namespaces/" + ns_ + "/widgets/w5/scale"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("\"kind\":\"Scale\""));
  EXPECT_THAT(r.out, HasSubstr("\"spec\":{\"replicas\":6}"));
  r = Kubectl({"scale", "widget/w5", "-n", ns_, "--current-replicas=6", "--replicas=2"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "widget", "w5", "-n", ns_, "-o", "jsonpath={.spec.replicas}"});
  EXPECT_EQ(r.out, "2");
  r = Kubectl({"scale", "widget/w5", "-n", ns_, "--current-replicas=9", "--replicas=3"});
  EXPECT_NE(r.exit_code, 0) << "a failed precondition must not scale";
}

TEST_F(KubectlTest, PatchMergeAndJson) {
  InstallWidgetCrd();
  CommandResult r = Apply(Widget(ns_, "w6", "spec:\n  image: a\n  replicas: 1\n"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl(
      {"patch", "widget", "w6", "-n", ns_, "--type", "merge", "-p", R"({"spec":{"replicas":7}})"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("widget.example.com/w6 patched"));
  r = Kubectl(
      {"patch", "widget", "w6", "-n", ns_, "--type", "merge", "-p", R"({"spec":{"replicas":7}})"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("patched (no change)"));
  r = Kubectl(
      {"patch", "widget", "w6", "-n", ns_, "--type", "json", "-p",
       R"([{"op":"replace","path":"/spec/image","value":"b"},{"op":"add","path":"/metadata/labels/tier","value":"x"}])"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "widget", "w6", "-n", ns_, "-o",
               "jsonpath={.spec.replicas} {.spec.image} {.metadata.labels.tier}"});
  EXPECT_EQ(r.out, "7 b x");
  r = Kubectl({"patch", "widget", "w6", "-n", ns_, "--type", "json", "-p",
               R"([{"op":"test","path":"/spec/image","value":"nope"}])"});
  EXPECT_NE(r.exit_code, 0);
  r = Kubectl({"patch", "widget", "w6", "-n", ns_, "-p", R"({"spec":{"replicas":1}})"});
  EXPECT_NE(r.exit_code, 0) << "strategic merge patch is refused for custom resources";
  r = Kubectl({"patch", "widget", "w6", "-n", ns_, "--type", "merge", "-p",
               R"({"spec":{"replicas":500}})"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("should be less than or equal to 100"));
}

TEST_F(KubectlTest, ServerSideApplyConflictAndForce) {
  InstallWidgetCrd();
  std::string w = Widget(ns_, "w7", "spec:\n  image: a\n  replicas: 1\n");
  CommandResult r = Apply(w, {"--server-side"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("widget.example.com/w7 serverside-applied"));
  r = Kubectl(
      {"patch", "widget", "w7", "-n", ns_, "--type", "merge", "-p", R"({"spec":{"replicas":4}})"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Apply(w, {"--server-side"});
  ASSERT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("conflict with \"kubectl-patch\""));
  EXPECT_THAT(r.err, HasSubstr(".spec.replicas"));
  r = Apply(w, {"--server-side", "--force-conflicts"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "widget", "w7", "-n", ns_, "-o", "jsonpath={.spec.replicas}"});
  EXPECT_EQ(r.out, "1");
  // Dropping a field from the applied configuration removes it.
  r = Apply(Widget(ns_, "w7", "spec:\n  image: a\n  replicas: 1\n  mode: safe\n"),
            {"--server-side"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Apply(w, {"--server-side"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "widget", "w7", "-n", ns_, "-o", "jsonpath={.spec}"});
  EXPECT_THAT(r.out, Not(HasSubstr("safe")));
}

TEST_F(KubectlTest, DescribeShowsEvents) {
  InstallWidgetCrd();
  CommandResult r = Apply(Widget(ns_, "w8", "spec:\n  image: a\n"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "widget", "w8", "-n", ns_, "-o", "jsonpath={.metadata.uid}"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::string uid = r.out;
  std::string event =
      "apiVersion: v1\nkind: Event\nmetadata:\n  name: w8.scaled\n  namespace: " + ns_ +
      "\ninvolvedObject:\n  apiVersion: example.com/v1alpha1\n  kind: Widget\n  name: w8\n"
      "  namespace: " +
      ns_ + "\n  uid: " + uid +
      "\nreason: WidgetScaled\nmessage: scaled to three\ntype: Normal\n"
      "source:\n  component: widget-controller\n";
  r = Kubectl({"create", "-f", WriteManifest("event.yaml", event)});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::string modern =
      "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata:\n  name: w8.modern\n  namespace: " +
      ns_ +
      "\nregarding:\n  apiVersion: example.com/v1alpha1\n  kind: Widget\n  name: w8\n"
      "  namespace: " +
      ns_ + "\n  uid: " + uid +
      "\nreason: ModernReason\nnote: from events.k8s.io\ntype: Normal\naction: Scale\n"
      "reportingController: widget-controller\nreportingInstance: i1\n"
      "eventTime: \"2026-01-01T00:00:00.000000Z\"\n";
  r = Kubectl({"create", "-f", WriteManifest("event2.yaml", modern)});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"describe", "widget", "w8", "-n", ns_});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("Events:"));
  EXPECT_THAT(r.out, HasSubstr("WidgetScaled"));
  EXPECT_THAT(r.out, HasSubstr("scaled to three"));
  EXPECT_THAT(r.out, HasSubstr("ModernReason"));
  r = Kubectl({"get", "events", "-n", ns_});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("widget/w8"));
}

TEST_F(KubectlTest, DeleteFileListingItsNamespaceFirst) {
  std::string other = ns_ + "-x";
  std::string file = WriteManifest(
      "ns.yaml",
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + other +
          "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm1\n  namespace: " + other +
          "\ndata:\n  a: \"1\"\n");
  CommandResult r = Kubectl({"apply", "-f", file});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("namespace/" + other + " created"));
  EXPECT_THAT(r.out, HasSubstr("configmap/cm1 created"));
  r = Kubectl({"delete", "-f", file, "--timeout=30s"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("namespace \"" + other + "\" deleted"));
  EXPECT_THAT(r.out, HasSubstr("configmap \"cm1\" deleted"));
  r = Kubectl({"get", "namespace", other});
  EXPECT_NE(r.exit_code, 0) << r.Describe();
}

TEST_F(KubectlTest, BuiltinObjectsRoundTrip) {
  std::string manifests =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: " + ns_ +
      "\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    "
      "metadata:\n"
      "      labels: {app: web}\n    spec:\n      containers:\n      - name: c\n        image: "
      "nginx:1.25\n"
      "        env:\n        - {name: A, value: \"1\"}\n"
      "---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: " +
      ns_ +
      "\nspec:\n  serviceName: db\n  selector:\n    matchLabels: {app: db}\n  template:\n    "
      "metadata:\n"
      "      labels: {app: db}\n    spec:\n      containers:\n      - name: c\n        image: "
      "postgres:16\n"
      "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: " +
      ns_ +
      "\nspec:\n  selector: {app: web}\n  ports:\n  - {name: http, port: 80, targetPort: 8080}\n"
      "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: web-abc\n  "
      "namespace: " +
      ns_ +
      "\n  labels: {kubernetes.io/service-name: web}\naddressType: IPv4\nports:\n- {name: http, "
      "port: 8080, protocol: TCP}\n"
      "endpoints:\n- addresses: [\"127.0.1.1\"]\n  conditions: {ready: true}\n"
      "---\napiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: leader\n  "
      "namespace: " +
      ns_ +
      "\nspec:\n  holderIdentity: pod-a\n  leaseDurationSeconds: 15\n  renewTime: "
      "\"2026-01-01T00:00:00.000000Z\"\n"
      "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n  "
      "namespace: " +
      ns_ +
      "\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  "
      "maxReplicas: 5\n"
      "  metrics:\n  - type: Pods\n    pods:\n      metric: {name: requests_per_second}\n"
      "      target: {type: AverageValue, averageValue: \"10\"}\n";
  std::string file = WriteManifest("builtins.yaml", manifests);
  CommandResult r = Kubectl({"apply", "-f", file});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  for (const char* created :
       {"deployment.apps/web created", "statefulset.apps/db created", "service/web created",
        "endpointslice.discovery.k8s.io/web-abc created",
        "lease.coordination.k8s.io/leader created",
        "horizontalpodautoscaler.autoscaling/web created"}) {
    EXPECT_THAT(r.out, HasSubstr(created));
  }
  r = Kubectl({"apply", "-f", file});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("deployment.apps/web unchanged"));
  EXPECT_THAT(r.out, HasSubstr("horizontalpodautoscaler.autoscaling/web unchanged"));

  r = Kubectl({"get", "deploy,sts,svc,endpointslices,leases,hpa", "-n", ns_});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::ContainsRegex("NAME +READY +UP-TO-DATE +AVAILABLE +AGE"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(
                         "service/web +ClusterIP +127\\.96\\.[0-9.]+ +<none> +80/TCP"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("lease.coordination.k8s.io/leader +pod-a"));
  EXPECT_THAT(r.out,
              ::testing::ContainsRegex("horizontalpodautoscaler.autoscaling/web +Deployment/web"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(
                         "endpointslice.discovery.k8s.io/web-abc +IPv4 +8080 +127.0.1.1"));

  r = Kubectl({"get", "hpa", "web", "-n", ns_, "-o", "jsonpath={.spec.minReplicas}"});
  EXPECT_EQ(r.out, "1") << "HPA minReplicas defaults to 1";
  r = Kubectl({"get", "sts", "db", "-n", ns_, "-o", "jsonpath={.spec.replicas}"});
  EXPECT_EQ(r.out, "1") << "workload replicas default to 1";

  // A strategic-merge three-way apply: the env list merges by name.
  std::string changed = manifests;
  changed.replace(changed.find("{name: A, value: \"1\"}"), 21, "{name: B, value: \"2\"}");
  r = Kubectl({"apply", "-f", WriteManifest("builtins2.yaml", changed)});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("deployment.apps/web configured"));
  r = Kubectl({"get", "deploy", "web", "-n", ns_, "-o",
               "jsonpath={.spec.template.spec.containers[0].env}"});
  EXPECT_THAT(r.out, HasSubstr("\"B\""));
  EXPECT_THAT(r.out, Not(HasSubstr("\"A\"")));
  r = Kubectl({"scale", "deployment/web", "-n", ns_, "--replicas=4"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "deploy", "web", "-n", ns_, "-o", "jsonpath={.spec.replicas}"});
  EXPECT_EQ(r.out, "4");
}

TEST_F(KubectlTest, HttpsWithBearerToken) {
  std::string tls_config = (dir_ / "kubeconfig-tls").string();
  ASSERT_TRUE(sim_->WriteKubeconfig(tls_config, true, "alice").ok());
  auto env = Env();
  env["KUBECONFIG"] = tls_config;
  CommandResult r = RunCommand({"kubectl", "get", "namespaces"}, env, std::chrono::seconds(30));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::ContainsRegex("kube-system +Active"));

  r = RunCommand({"kubectl", "get", "namespaces", "--token=wrong"}, env, std::chrono::seconds(30));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("Unauthorized"));
}

TEST_F(KubectlTest, ConflictOnStaleResourceVersion) {
  std::string cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: " + ns_ +
                   "\n  resourceVersion: \"1\"\ndata:\n  a: \"1\"\n";
  CommandResult r = Kubectl(
      {"create", "-f",
       WriteManifest("cm0.yaml",
                     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: " + ns_ +
                         "\ndata:\n  a: \"0\"\n")});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"replace", "-f", WriteManifest("cm.yaml", cm)});
  ASSERT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("the object has been modified"));
  r = Kubectl(
      {"create", "-f",
       WriteManifest(
           "cm0b.yaml",
           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: " + ns_ + "\n")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("configmaps \"cm\" already exists"));
}

TEST_F(KubectlTest, FinalizersAndCascadingDeletion) {
  std::string owner =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: owner\n  namespace: " + ns_ + "\n";
  CommandResult r = Kubectl({"create", "-f", WriteManifest("owner.yaml", owner)});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "cm", "owner", "-n", ns_, "-o", "jsonpath={.metadata.uid}"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::string dependent =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dependent\n  namespace: " + ns_ +
      "\n  finalizers: [example.com/hold]\n  ownerReferences:\n  - apiVersion: v1\n    kind: "
      "ConfigMap\n"
      "    name: owner\n    uid: " +
      r.out + "\n    blockOwnerDeletion: true\n";
  r = Kubectl({"create", "-f", WriteManifest("dependent.yaml", dependent)});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();

  // Foreground: the owner waits for its dependent, which waits for its finalizer.
  r = Kubectl({"delete", "cm", "owner", "-n", ns_, "--cascade=foreground", "--wait=false"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "cm", "owner", "dependent", "-n", ns_, "-o",
               "jsonpath={range .items[*]}{.metadata.name}:{.metadata.finalizers}{\"\\n\"}{end}"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("owner:[\"foregroundDeletion\"]"));
  EXPECT_THAT(r.out, HasSubstr("dependent:[\"example.com/hold\"]"));

  r = Kubectl({"patch", "cm", "dependent", "-n", ns_, "--type", "merge", "-p",
               R"({"metadata":{"finalizers":null}})"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"wait", "--for=delete", "cm/owner", "cm/dependent", "-n", ns_, "--timeout=20s"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "cm", "-n", ns_, "-o", "name"});
  EXPECT_THAT(r.out, Not(HasSubstr("owner")));
  EXPECT_THAT(r.out, Not(HasSubstr("dependent")));
}

TEST_F(KubectlTest, DiscoveryDrivenCommands) {
  CommandResult r = Kubectl({"api-resources"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::ContainsRegex("deployments +deploy +apps/v1 +true +Deployment"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("leases +coordination.k8s.io/v1 +true +Lease"));
  std::string pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p1\n  namespace: " + ns_ +
                    "\nspec:\n  containers:\n  - name: c\n    image: busybox\n";
  r = Kubectl({"apply", "-f", WriteManifest("pod.yaml", pod), "--dry-run=server"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("pod/p1 created (server dry run)"));
  r = Kubectl({"get", "pods", "-n", ns_});
  EXPECT_THAT(r.err, HasSubstr("No resources found")) << "a dry run stores nothing";
  r = Kubectl({"apply", "-f", WriteManifest("pod.yaml", pod)});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"label", "pod", "p1", "-n", ns_, "tier=web"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("pod/p1 labeled"));
  r = Kubectl({"get", "all", "-n", ns_, "-l", "tier=web"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::ContainsRegex("pod/p1 +0/1 +Pending +0"));
  r = Kubectl({"get", "--raw", "/version"});
  EXPECT_THAT(r.out, HasSubstr("\"minor\":\"32\""));
  r = Kubectl({"get", "--raw", "/readyz?verbose"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("[+]etcd ok\n"));
  EXPECT_THAT(r.out, ::testing::EndsWith("readyz check passed\n"));
  r = Kubectl({"get", "--raw", "/livez/ping"});
  EXPECT_EQ(r.out, "ok");
}

TEST_F(KubectlTest, StatefulSetControllerManagesPods) {
  std::string sts =
      "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\n  namespace: " + ns_ +
      "\nspec:\n  replicas: 3\n  serviceName: web\n  podManagementPolicy: Parallel\n"
      "  selector:\n    matchLabels: {app: web}\n"
      "  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n"
      "      - name: c\n        image: busybox\n";
  CommandResult r = Kubectl({"apply", "-f", WriteManifest("sts.yaml", sts)});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl(
      {"wait", "--for=jsonpath={.status.replicas}=3", "sts/web", "-n", ns_, "--timeout=20s"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "pods", "-n", ns_, "-l", "app=web", "-o", "name"});
  EXPECT_EQ(r.out, "pod/web-0\npod/web-1\npod/web-2\n");
  r = Kubectl({"get", "sts", "web", "-n", ns_});
  EXPECT_THAT(r.out, ::testing::ContainsRegex("web +0/3"));

  r = Kubectl({"scale", "sts/web", "-n", ns_, "--replicas=1"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"wait", "--for=delete", "pod/web-1", "pod/web-2", "-n", ns_, "--timeout=20s"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();

  r = Kubectl({"delete", "sts", "web", "-n", ns_});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"wait", "--for=delete", "pod/web-0", "-n", ns_, "--timeout=20s"});
  EXPECT_EQ(r.exit_code, 0) << "the garbage collector removes owned pods\n" << r.Describe();
}

TEST_F(KubectlTest, EventsWideShowSourceCountAndTheControllersEvents) {
  std::string rs =
      "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: ev\n  namespace: " + ns_ +
      "\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: ev}\n"
      "  template:\n    metadata:\n      labels: {app: ev}\n    spec:\n"
      "      containers:\n      - name: c\n        image: busybox\n";
  CommandResult r = Kubectl({"apply", "-f", WriteManifest("rs.yaml", rs)});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"wait", "--for=jsonpath={.status.replicas}=2", "rs/ev", "-n", ns_, "--timeout=20s"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "events", "-n", ns_, "--field-selector", "reason=SuccessfulCreate"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::MatchesRegex("LAST SEEN +TYPE +REASON +OBJECT +MESSAGE\n"
                                             "(.* +Normal +SuccessfulCreate +replicaset/ev +"
                                             "Created pod: ev-[a-z0-9]{5}\n){2}"));
  r = Kubectl({"get", "events", "-n", ns_, "-o", "wide"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::ContainsRegex("LAST SEEN +TYPE +REASON +OBJECT +SUBOBJECT +SOURCE +"
                                              "MESSAGE +FIRST SEEN +COUNT +NAME\n"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("replicaset/ev +replicaset-controller +Created pod: "
                                              "ev-[a-z0-9]{5} +[0-9]+s +1 +ev\\.[0-9a-f]+"));
}

TEST_F(KubectlTest, ServerSideApplyConflictNamesTheScaleSubresource) {
  InstallWidgetCrd();
  std::string w = Widget(ns_, "w9", "spec:\n  image: a\n  replicas: 1\n");
  CommandResult r = Apply(w, {"--server-side"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"scale", "widget/w9", "-n", ns_, "--replicas=3"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Apply(w, {"--server-side"});
  ASSERT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.err, ::testing::ContainsRegex("Apply failed with 1 conflict: conflict with "
                                              "\"kubectl[a-z-]*\" with subresource \"scale\" "
                                              "using example.com/v1alpha1: .spec.replicas"));
}

// kubectl apply, then kubectl apply --server-side of the same files (a user moving to SSA):
// the lists the server filled in (ports' protocol, probe and container defaults) are no
// conflict. Describe prints the probes with the apiserver's defaults.
TEST_F(KubectlTest, ServerSideApplyAfterClientSideApplyAndDefaultedPodSpecs) {
  std::string manifests =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: " + ns_ +
      "\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n"
      "    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n"
      "      - name: c\n        image: nginx:1.25\n        ports:\n"
      "        - {name: http, containerPort: 8080}\n"
      "        env:\n        - name: POD_NAME\n          valueFrom:\n"
      "            fieldRef: {fieldPath: metadata.name}\n"
      "        livenessProbe:\n          httpGet: {path: /healthz, port: http}\n"
      "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: " +
      ns_ +
      "\nspec:\n  selector: {app: web}\n  ports:\n  - {name: http, port: 80, targetPort: 8080}\n";
  std::string file = WriteManifest("web.yaml", manifests);
  CommandResult r = Kubectl({"apply", "-f", file});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"apply", "--server-side", "-f", file});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("deployment.apps/web serverside-applied"));
  EXPECT_THAT(r.out, HasSubstr("service/web serverside-applied"));
  r = Kubectl({"get", "svc", "web", "-n", ns_, "-o", "jsonpath={.spec.ports[0].protocol}"});
  EXPECT_EQ(r.out, "TCP");

  r = Kubectl({"describe", "deploy", "web", "-n", ns_});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::ContainsRegex("Liveness: +http-get http://:http/healthz delay=0s "
                                              "timeout=1s period=10s #success=1 #failure=3"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("POD_NAME: +\\(v1:metadata.name\\)"));
  r = Kubectl({"get", "deploy", "web", "-n", ns_, "-o",
               "jsonpath={.spec.template.spec.containers[0].imagePullPolicy} "
               "{.spec.template.spec.restartPolicy} {.spec.template.spec.dnsPolicy}"});
  EXPECT_EQ(r.out, "IfNotPresent Always ClusterFirst");

  // A real change to a list another manager owns is still a conflict.
  std::string moved = manifests;
  moved.replace(moved.find("targetPort: 8080"), 16, "targetPort: 9090");
  r = Kubectl({"apply", "--server-side", "-f", WriteManifest("web2.yaml", moved)});
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.err,
              HasSubstr("conflict with \"kubectl-client-side-apply\" using v1: .spec.ports"));
}

TEST_F(KubectlTest, RolesAndBindingsPrintTheApiserversColumns) {
  std::string rbac =
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: "
      "reader\n  namespace: " +
      ns_ +
      "\nrules:\n- {apiGroups: [\"\"], resources: [pods], verbs: [get]}\n---\n"
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n"
      "  name: readers\n  namespace: " +
      ns_ +
      "\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}\n"
      "subjects:\n- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}\n"
      "- {kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}\n"
      "- {kind: ServiceAccount, name: app, namespace: " +
      ns_ + "}\n";
  CommandResult r = Kubectl({"apply", "-f", WriteManifest("rbac.yaml", rbac)});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "roles", "-n", ns_});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::MatchesRegex("NAME +CREATED AT\nreader +[0-9-]+T[0-9:]+Z\n"));
  r = Kubectl({"get", "rolebindings", "-n", ns_, "-o", "wide"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::MatchesRegex("NAME +ROLE +AGE +USERS +GROUPS +SERVICEACCOUNTS\n"
                                             "readers +Role/reader +[0-9]+s +alice +devs +" +
                                             ns_ + "/app\n"));
}

// What an operator does: server-side apply its objects with an ownerReference to the
// custom resource they serve; deleting that resource deletes them (garbage collector).
TEST_F(KubectlTest, ServerSideAppliedDependentsGoWithTheirOwner) {
  InstallWidgetCrd();
  CommandResult r = Apply(Widget(ns_, "owner", "spec:\n  image: a\n"), {"--server-side"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "widget", "owner", "-n", ns_, "-o", "jsonpath={.metadata.uid}"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::string dependent =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dependent\n  namespace: " + ns_ +
      "\n  ownerReferences:\n  - apiVersion: example.com/v1alpha1\n    kind: Widget\n"
      "    name: owner\n    uid: " +
      r.out + "\n    controller: true\n    blockOwnerDeletion: true\ndata:\n  a: \"1\"\n";
  r = Kubectl({"apply", "--server-side", "--field-manager=widget-operator", "-f",
               WriteManifest("dependent.yaml", dependent)});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "cm", "dependent", "-n", ns_, "-o",
               "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}"});
  EXPECT_EQ(r.out, "Widget/owner");
  r = Kubectl({"delete", "widget", "owner", "-n", ns_});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"wait", "--for=delete", "cm/dependent", "-n", ns_, "--timeout=20s"});
  EXPECT_EQ(r.exit_code, 0) << "the garbage collector deletes the dependent\n" << r.Describe();
}

TEST_F(KubectlTest, LegacyDiscoveryIsEnough) {
  kubesim::SimulatorOptions opts;
  opts.aggregated_discovery = false;
  kubesim::Simulator legacy(opts);
  ASSERT_TRUE(legacy.Start().ok());
  ASSERT_TRUE(legacy.WriteKubeconfig(kubeconfig_, false).ok());
  CommandResult r = Kubectl({"api-resources", "--api-group=apps"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::ContainsRegex("statefulsets +sts +apps/v1 +true +StatefulSet"));
  InstallWidgetCrd();
  r = Apply(Widget("default", "legacy", "spec:\n  image: a\n  replicas: 2\n"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "wd", "legacy", "-n", "default"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::ContainsRegex("legacy +2 +a"));
  legacy.Stop();
}

}  // namespace
}  // namespace shardwise
