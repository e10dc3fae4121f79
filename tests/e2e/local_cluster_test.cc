// The local cluster runs a bare Pod of the sample app as a real process at its own pod IP.
#include "tests/e2e/local_cluster.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/http/client.h"
#include "common/testing/test_util.h"

namespace shardwise::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kSampleApp[] = R"(apiVersion: v1
kind: Pod
metadata:
  name: sample
  labels: {app: sample}
spec:
  containers:
  - name: app
    image: shardwise/sample-app:latest
    args: ["--listen-address=$(POD_IP):8080"]
    env:
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /readyz, port: http}
      periodSeconds: 1
)";

TEST(LocalClusterTest, BarePodRunsAtItsPodIp) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Start().ok()) << cluster.SimLog();
  CommandResult r = cluster.Apply(kSampleApp);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_TRUE(cluster.WaitForCondition("pod/sample", "Ready")) << cluster.SimLog();
  std::string ip = cluster.PodIp("sample");
  // In the node's podCIDR: 127.B.0.0/16 of the simulator's address block (127.1 unless
  // another local cluster on this machine holds that one).
  std::string cidr = cluster.JsonPath("node/node-1", ".spec.podCIDR", "");
  ASSERT_THAT(cidr, ::testing::EndsWith(".0.0/16"));
  EXPECT_THAT(ip,
              ::testing::StartsWith(cidr.substr(0, cidr.size() - std::string("0.0/16").size())));
  http::Client client;
  http::ClientRequest req;
  req.url = "http://" + ip + ":8080/metrics";
  auto resp = client.DoSync(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_THAT(resp->body, HasSubstr("sample_app_scrapes_total 1"));

  r = cluster.Kubectl({"get", "pod", "sample", "--no-headers"});
  EXPECT_THAT(r.out, HasSubstr("1/1"));
  EXPECT_THAT(r.out, HasSubstr("Running"));
  pid_t pid = cluster.ContainerPid("sample", "app");
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(ProcessAlive(pid));
  EXPECT_EQ(cluster.Stop(), 0);
  EXPECT_FALSE(ProcessAlive(pid)) << "the container outlived the simulator";
}

// kubectl describe as on a real cluster: each node's kubelet holds its Lease in
// kube-node-lease, and probes print with the apiserver's defaults.
TEST(LocalClusterTest, DescribeShowsTheNodeLeaseAndProbeDefaults) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Start().ok()) << cluster.SimLog();
  CommandResult r = cluster.Apply(kSampleApp);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_TRUE(cluster.WaitForCondition("pod/sample", "Ready")) << cluster.SimLog();
  r = cluster.Kubectl({"describe", "node", "node-1"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::ContainsRegex("Lease:\n +HolderIdentity: +node-1\n"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("Failed to get lease")));
  r = cluster.Kubectl({"get", "leases", "-n", "kube-node-lease", "-o", "name"});
  EXPECT_EQ(r.out,
            "lease.coordination.k8s.io/node-1\nlease.coordination.k8s.io/node-2\n"
            "lease.coordination.k8s.io/node-3\n");
  r = cluster.Kubectl({"describe", "pod", "sample"});
  EXPECT_THAT(r.out, ::testing::ContainsRegex("Readiness: +http-get http://:http/readyz delay=0s "
                                              "timeout=1s period=1s #success=1 #failure=3"));

  // kubectl top: the kubelet publishes metrics.k8s.io from the containers' processes once it
  // has two CPU readings (10 s apart), as metrics-server does.
  EXPECT_TRUE(WaitFor(
      [&] {
        r = cluster.Kubectl({"top", "pod", "sample", "--no-headers"});
        return r.exit_code == 0;
      },
      std::chrono::seconds(45)))
      << r.Describe();
  EXPECT_THAT(r.out, ::testing::MatchesRegex("sample +[0-9]+m +[1-9][0-9]*Mi *\n"));
  r = cluster.Kubectl({"top", "node"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::ContainsRegex("node-1 +[0-9]+m +[0-9]+% +[0-9]+Mi +[0-9]+%"));
  EXPECT_EQ(cluster.Stop(), 0);
}

}  // namespace
}  // namespace shardwise::testing
