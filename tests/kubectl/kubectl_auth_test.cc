// Authentication, RBAC and the aggregation layer of the simulator, seen through the real
// kubectl: `kubectl auth can-i` / `whoami` for ServiceAccounts (impersonated and with
// their own token), 403s, aggregated ClusterRoles, an APIService routed to an HTTPS
// server in this process that checks the front proxy, namespace finalizer conditions
// and field selector errors. One simulator for the suite, HTTPS on 127.0.0.1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "common/base64.h"
#include "common/http/server.h"
#include "common/testing/test_util.h"
#include "hack/kube-sim/certs.h"
#include "hack/kube-sim/simulator.h"
#include "tests/kubectl/command_runner.h"

namespace shardwise {
namespace {

using shardwise::testing::CommandResult;
using shardwise::testing::RunCommand;
using shardwise::testing::TempDir;
using shardwise::testing::WaitFor;
using ::testing::HasSubstr;
using ::testing::Not;

class KubectlAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    kubesim::SimulatorOptions opts;
    opts.listen_address = "";
    opts.tls_listen_address = "127.0.0.1:0";
    opts.namespace_deletion_delay_ms = 100;
    opts.apiservice_check_interval = std::chrono::milliseconds(200);
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
    ns_ = "a-";
    for (char c : std::string(info->name())) ns_ += static_cast<char>(std::tolower(c));
    std::filesystem::create_directories(dir_.path() + "/home");
    admin_config_ = dir_.File("admin.kubeconfig", sim_->Kubeconfig(true));
    // kubectl's `create` generators send protobuf, which the simulator does not take.
    CommandResult r = Apply("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + ns_ + "\n");
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
  }

  CommandResult Kubectl(std::vector<std::string> args, const std::string& kubeconfig = "") {
    args.insert(args.begin(), "kubectl");
    return RunCommand(args,
                      {{"KUBECONFIG", kubeconfig.empty() ? admin_config_ : kubeconfig},
                       {"KUBECACHEDIR", dir_.path() + "/cache"},
                       {"HOME", dir_.path() + "/home"}},
                      std::chrono::seconds(30));
  }
  CommandResult Apply(const std::string& yaml) {
    return Kubectl({"apply", "-f", dir_.File("apply.yaml", yaml)});
  }
  void CreateServiceAccount(const std::string& name) {
    CommandResult r = Apply("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: " + name +
                            "\n  namespace: " + ns_ + "\n");
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
  }
  // A kubeconfig carrying a token for ServiceAccount `sa`, issued by `kubectl create token`.
  std::string ServiceAccountKubeconfig(const std::string& sa) {
    CommandResult r = Kubectl({"create", "token", sa, "-n", ns_});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    std::string token = r.out;
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
      token.pop_back();
    return dir_.File(sa + ".kubeconfig", sim_->KubeconfigWithToken(true, token));
  }

  void InstallScrapePoolCrd() {
    const char* source = std::getenv("SHARDWISE_SOURCE_DIR");  // set by ctest
    ASSERT_NE(source, nullptr);
    CommandResult r =
        Kubectl({"apply", "-f", std::string(source) + "/crds/shardwise.io/scrapepools.yaml"});
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    r = Kubectl(
        {"wait", "--for=condition=Established", "crd/scrapepools.shardwise.io", "--timeout=20s"});
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
  }

  static kubesim::Simulator* sim_;
  TempDir dir_;
  std::string ns_;
  std::string admin_config_;
};

kubesim::Simulator* KubectlAuthTest::sim_ = nullptr;

TEST_F(KubectlAuthTest, CanIFollowsRbacForServiceAccounts) {
  CommandResult r = Apply(
      "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: reader\n"
      "  namespace: " +
      ns_ +
      "\n---\n"
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n"
      "  name: pod-reader\n  namespace: " +
      ns_ +
      "\nrules:\n"
      "- apiGroups: [\"\"]\n  resources: [pods, pods/log]\n"
      "  verbs: [get, list, watch]\n---\n"
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
      "metadata:\n  name: reader\n  namespace: " +
      ns_ +
      "\nroleRef:\n"
      "  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n"
      "  name: pod-reader\nsubjects:\n- kind: ServiceAccount\n"
      "  name: reader\n  namespace: " +
      ns_ + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  const std::string as = "--as=system:serviceaccount:" + ns_ + ":reader";
  r = Kubectl({"auth", "can-i", "list", "pods", "-n", ns_, as});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "yes\n");
  r = Kubectl({"auth", "can-i", "get", "pods", "--subresource=log", "-n", ns_, as});
  EXPECT_EQ(r.out, "yes\n") << r.Describe();
  r = Kubectl({"auth", "can-i", "delete", "pods", "-n", ns_, as});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(r.out, "no\n");
  r = Kubectl({"auth", "can-i", "list", "pods", "-n", "default", as});
  EXPECT_EQ(r.out, "no\n") << r.Describe();
  r = Kubectl({"auth", "can-i", "delete", "pods", "-n", ns_});  // the admin
  EXPECT_EQ(r.out, "yes\n") << r.Describe();

  // The ServiceAccount's own token.
  std::string kc = ServiceAccountKubeconfig("reader");
  r = Kubectl({"auth", "can-i", "list", "pods", "-n", ns_}, kc);
  EXPECT_EQ(r.out, "yes\n") << r.Describe();
  r = Kubectl({"auth", "can-i", "create", "configmaps", "-n", ns_}, kc);
  EXPECT_EQ(r.out, "no\n") << r.Describe();
  r = Kubectl({"get", "pods", "-n", ns_}, kc);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "secrets", "-n", ns_}, kc);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("Error from server (Forbidden): secrets is forbidden: User "
                               "\"system:serviceaccount:" +
                               ns_ +
                               ":reader\" cannot list resource "
                               "\"secrets\" in API group \"\" in the namespace \"" +
                               ns_ + "\""));
  r = Kubectl({"auth", "can-i", "--list", "-n", ns_}, kc);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::ContainsRegex("pods +\\[\\] +\\[\\] +\\[get list watch\\]"));
  EXPECT_THAT(r.out, HasSubstr("selfsubjectaccessreviews.authorization.k8s.io"));
}

TEST_F(KubectlAuthTest, ServiceAccountWithoutRightsIsForbidden) {
  CreateServiceAccount("nobody");
  std::string kc = ServiceAccountKubeconfig("nobody");
  CommandResult r = Kubectl({"get", "pods", "-n", ns_}, kc);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("pods is forbidden: User \"system:serviceaccount:" + ns_ +
                               ":nobody\" cannot list resource \"pods\" in API group \"\" in "
                               "the namespace \"" +
                               ns_ + "\""));
  r = Kubectl({"auth", "can-i", "list", "pods", "-n", ns_}, kc);
  EXPECT_EQ(r.out, "no\n") << r.Describe();
  // A kubeconfig without credentials is turned away.
  std::string anon = dir_.File("anon.kubeconfig", sim_->KubeconfigWithToken(true, "not-a-token"));
  r = Kubectl({"get", "pods", "-n", ns_}, anon);
  EXPECT_THAT(r.err, HasSubstr("Unauthorized"));
}

TEST_F(KubectlAuthTest, WhoAmI) {
  CommandResult r = Kubectl({"auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "kubernetes-admin");
  CreateServiceAccount("me");
  r = Kubectl({"auth", "whoami"}, ServiceAccountKubeconfig("me"));
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::ContainsRegex("Username +system:serviceaccount:" + ns_ + ":me"));
  EXPECT_THAT(r.out, HasSubstr("system:serviceaccounts:" + ns_));
  r = Kubectl({"auth", "whoami", "--as=system:serviceaccount:" + ns_ + ":me", "-o",
               "jsonpath={.status.userInfo.username}"});
  EXPECT_EQ(r.out, "system:serviceaccount:" + ns_ + ":me") << r.Describe();
}

TEST_F(KubectlAuthTest, AggregatedClusterRole) {
  CommandResult r = Apply(
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: " + ns_ +
      "-monitoring\naggregationRule:\n  clusterRoleSelectors:\n  - matchLabels:\n"
      "      " +
      ns_ +
      "/aggregate: \"true\"\nrules: []\n---\n"
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: " +
      ns_ + "-pools\n  labels:\n    " + ns_ +
      "/aggregate: \"true\"\nrules:\n"
      "- apiGroups: [shardwise.io]\n  resources: [scrapepools, scrapepools/scale]\n"
      "  verbs: [get, update]\n");
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(WaitFor(
      [&] {
        return Kubectl({"get", "clusterrole", ns_ + "-monitoring", "-o",
                        "jsonpath={.rules[0].resources}"})
                   .out == "[\"scrapepools\",\"scrapepools/scale\"]";
      },
      std::chrono::seconds(20)));
  CreateServiceAccount("hpa");
  // Without the CRD, kubectl cannot map the resource to its group and asks about
  // "scrapepools.shardwise.io" in the core group, as with a real server.
  InstallScrapePoolCrd();
  r = Apply(
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n"
      "  name: hpa\n  namespace: " +
      ns_ +
      "\nroleRef:\n"
      "  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: " +
      ns_ + "-monitoring\nsubjects:\n- kind: ServiceAccount\n  name: hpa\n  namespace: " + ns_ +
      "\n");
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"auth", "can-i", "update", "scrapepools.shardwise.io", "--subresource=scale", "-n",
               ns_, "--as=system:serviceaccount:" + ns_ + ":hpa"});
  EXPECT_EQ(r.out, "yes\n") << r.Describe();
  // The bootstrap `view` role is aggregated too.
  r = Kubectl({"get", "clusterrole", "view", "-o", "jsonpath={.rules[*].resources}"});
  EXPECT_THAT(r.out, HasSubstr("pods"));
}

// An extension API server on 127.0.0.1 that trusts only the simulator's front proxy.
class ExtensionServer {
 public:
  ExtensionServer(const TempDir& dir, const kubesim::CertKey& ca, const std::string& service_dns,
                  const std::string& front_proxy_ca) {
    auto cert = kubesim::IssueCert(ca, {"metrics-server", {}, {}, {service_dns}, false});
    EXPECT_TRUE(cert.ok());
    http::Server::Options o;
    o.listen_address = "127.0.0.1:0";
    o.tls_cert_file = dir.File("ext.crt", cert.value().cert_pem);
    o.tls_key_file = dir.File("ext.key", cert.value().key_pem);
    o.tls_client_ca_file = dir.File("front-proxy-ca.crt", front_proxy_ca);
    server_ = std::make_unique<http::Server>(o);
    server_->Handle("/", [this](const http::Request& req, http::ResponseWriter& w) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        client_cn_ = req.peer_certificate.subject_cn;
        if (req.path != "/apis/metrics.example.com/v1") {
          remote_user_ = std::string(req.Header("X-Remote-User"));
          saw_authorization_ = !req.Header("Authorization").empty();
        }
      }
      if (req.path == "/apis/metrics.example.com/v1") {
        w.Send(http::Response::Json(
            200,
            R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":"metrics.example.com/v1",
                   "resources":[{"name":"things","singularName":"thing","namespaced":true,
                   "kind":"Thing","verbs":["get","list"]}]})"));
        return;
      }
      w.Send(http::Response::Json(200, R"({"kind":"ThingList","items":[{"name":"answer"}]})"));
    });
    EXPECT_TRUE(server_->Start().ok());
  }
  int port() const { return server_->port(); }
  std::string client_cn() {
    std::lock_guard<std::mutex> lock(mu_);
    return client_cn_;
  }
  std::string remote_user() {
    std::lock_guard<std::mutex> lock(mu_);
    return remote_user_;
  }
  bool saw_authorization() {
    std::lock_guard<std::mutex> lock(mu_);
    return saw_authorization_;
  }

 private:
  std::mutex mu_;
  std::string client_cn_, remote_user_;
  bool saw_authorization_ = false;
  std::unique_ptr<http::Server> server_;
};

std::string ApiServiceYaml(const std::string& ns, const std::string& version,
                           const std::string& ca_pem) {
  return "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata:\n  name: " + version +
         ".metrics.example.com\nspec:\n  group: metrics.example.com\n  version: " + version +
         "\n  groupPriorityMinimum: 100\n  versionPriority: 100\n  service:\n"
         "    namespace: " +
         ns + "\n    name: metrics\n    port: 443\n  caBundle: " + Base64Encode(ca_pem) + "\n";
}

TEST_F(KubectlAuthTest, ApiServiceRoutesThroughTheFrontProxy) {
  auto ca = kubesim::GenerateCa("extension-ca");
  ASSERT_TRUE(ca.ok());
  ExtensionServer ext(dir_, ca.value(), "metrics." + ns_ + ".svc", sim_->front_proxy_ca_pem());
  CommandResult r = Apply(
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: metrics\n  namespace: " + ns_ +
      "\nspec:\n  ports:\n  - name: https\n    port: 443\n    targetPort: " +
      std::to_string(ext.port()) +
      "\n---\napiVersion: v1\nkind: Endpoints\nmetadata:\n"
      "  name: metrics\n  namespace: " +
      ns_ +
      "\nsubsets:\n- addresses:\n  - ip: 127.0.0.1\n"
      "  ports:\n  - name: https\n    port: " +
      std::to_string(ext.port()) + "\n---\n" + ApiServiceYaml(ns_, "v1", ca.value().cert_pem));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl(
      {"wait", "--for=condition=Available", "apiservice/v1.metrics.example.com", "--timeout=20s"});
  ASSERT_EQ(r.exit_code, 0)
      << r.Describe()
      << Kubectl({"get", "apiservice", "v1.metrics.example.com", "-o", "jsonpath={.status}"}).out;

  r = Kubectl({"get", "--raw", "/apis/metrics.example.com/v1/namespaces/" + ns_ + "/things"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("answer"));
  EXPECT_EQ(ext.client_cn(), "front-proxy-client");
  EXPECT_EQ(ext.remote_user(), "kubernetes-admin");
  EXPECT_FALSE(ext.saw_authorization());
  // Watches take the streaming path.
  r = Kubectl(
      {"get", "--raw", "/apis/metrics.example.com/v1/namespaces/" + ns_ + "/things?watch=true"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("answer"));
  r = Kubectl({"api-resources", "--api-group=metrics.example.com"});
  EXPECT_THAT(r.out, HasSubstr("things")) << r.Describe();

  // The ConfigMap extension servers read to trust the front proxy.
  r = Kubectl({"get", "configmap", "extension-apiserver-authentication", "-n", "kube-system", "-o",
               "jsonpath={.data.requestheader-allowed-names}"});
  EXPECT_EQ(r.out, "[\"front-proxy-client\"]") << r.Describe();

  // A caBundle that did not sign the server's certificate: Available=False and 503.
  auto other = kubesim::GenerateCa("someone-else");
  ASSERT_TRUE(other.ok());
  r = Apply(ApiServiceYaml(ns_, "v1", other.value().cert_pem));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"wait", "--for=condition=Available=False", "apiservice/v1.metrics.example.com",
               "--timeout=20s"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"get", "apiservice", "v1.metrics.example.com", "-o",
               "jsonpath={.status.conditions[0].reason}"});
  EXPECT_EQ(r.out, "FailedDiscoveryCheck");
  r = Kubectl({"get", "--raw", "/apis/metrics.example.com/v1/namespaces/" + ns_ + "/things"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("ServiceUnavailable"));
  ASSERT_EQ(Kubectl({"delete", "apiservice", "v1.metrics.example.com"}).exit_code, 0);
}

TEST_F(KubectlAuthTest, NamespaceWithFinalizersStaysTerminatingWithConditions) {
  CommandResult r = Apply(
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n"
      "  namespace: " +
      ns_ + "\n  finalizers: [example.com/hold]\n");
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"delete", "namespace", ns_, "--wait=false"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  auto condition = [&](const std::string& type) {
    return Kubectl({"get", "namespace", ns_, "-o",
                    "jsonpath={.status.conditions[?(@.type==\"" + type + "\")].message}"})
        .out;
  };
  EXPECT_TRUE(WaitFor(
      [&] {
        return condition("NamespaceFinalizersRemaining") ==
               "Some content in the namespace has finalizers remaining: example.com/hold in 1 "
               "resource instances";
      },
      std::chrono::seconds(20)));
  EXPECT_EQ(condition("NamespaceContentRemaining"),
            "Some resources are remaining: configmaps. has 1 resource instances");
  r = Kubectl({"get", "namespace", ns_, "-o", "jsonpath={.status.phase}"});
  EXPECT_EQ(r.out, "Terminating");
  r = Kubectl({"patch", "configmap", "held", "-n", ns_, "--type=merge", "-p",
               "{\"metadata\":{\"finalizers\":null}}"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(WaitFor(
      [&] {
        return Kubectl({"get", "namespace", ns_}).exit_code != 0;
      },
      std::chrono::seconds(20)));
}

TEST_F(KubectlAuthTest, UnsupportedFieldSelectorIsBadRequest) {
  CommandResult r = Kubectl({"get", "pods", "-n", ns_, "--field-selector=spec.bogus=x"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("field label not supported: spec.bogus"));
  r = Kubectl({"get", "pods", "-n", ns_, "--field-selector=status.phase=Running"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
}

TEST_F(KubectlAuthTest, ExplainBuiltinsAndCustomResources) {
  CommandResult r = Kubectl({"explain", "pod.spec.containers"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("KIND:       Pod"));
  EXPECT_THAT(r.out, HasSubstr("FIELD: containers <[]Container>"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("ports\t<\\[\\]ContainerPort>"));
  r = Kubectl({"explain", "deployment.spec.strategy.rollingUpdate.maxSurge"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("GROUP:      apps"));
  r = Kubectl({"explain", "clusterrole.aggregationRule"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"explain", "pod.spec.bogus"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("field \"bogus\" does not exist"));

  const char* source = std::getenv("SHARDWISE_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  r = Kubectl({"apply", "-f", std::string(source) + "/crds/shardwise.io/scrapepools.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl(
      {"wait", "--for=condition=Established", "crd/scrapepools.shardwise.io", "--timeout=20s"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = Kubectl({"explain", "scrapepool.spec"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("GROUP:      shardwise.io"));
  EXPECT_THAT(r.out, HasSubstr("FIELD: spec <Object>"));
  EXPECT_THAT(r.out, HasSubstr("serviceMonitorSelector"));
  r = Kubectl({"explain", "scrapepool.metadata.labels"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
}

}  // namespace
}  // namespace shardwise
