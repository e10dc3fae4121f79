// The workload controllers on the local cluster, where pods are real processes that the
// kubelet makes Ready: `kubectl rollout status/history/undo` of a Deployment of the
// sample app, and EndpointSlices following readiness probes and deletions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/e2e/local_cluster.h"

namespace shardwise::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;

std::string SampleAppDeployment(const std::string& version) {
  return R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: shardwise/sample-app:latest
        args: ["--listen-address=$(POD_IP):8080"]
        env:
        - name: POD_IP
          valueFrom: {fieldRef: {fieldPath: status.podIP}}
        - {name: VERSION, value: ")" +
         version + R"("}
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /readyz, port: http}
          periodSeconds: 1
)";
}

TEST(ControllersLocalTest, DeploymentRolloutStatusHistoryUndo) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Start().ok()) << cluster.SimLog();
  CommandResult r = cluster.Apply(SampleAppDeployment("1"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = cluster.Kubectl({"rollout", "status", "deploy/web", "--timeout=60s"},
                      std::chrono::seconds(70));
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << cluster.SimLog();
  EXPECT_THAT(r.out, HasSubstr("deployment \"web\" successfully rolled out"));
  r = cluster.Kubectl({"get", "pods", "-l", "app=web", "--no-headers"});
  EXPECT_THAT(r.out, ContainsRegex("web-[a-z0-9]+-[a-z0-9]+ +1/1 +Running"));

  r = cluster.Kubectl({"set", "env", "deploy/web", "VERSION=2"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = cluster.Kubectl({"rollout", "status", "deploy/web", "--timeout=60s"},
                      std::chrono::seconds(70));
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << cluster.SimLog();
  r = cluster.Kubectl({"rollout", "history", "deploy/web"});
  EXPECT_THAT(r.out, ContainsRegex("\n1 +<none>"));
  EXPECT_THAT(r.out, ContainsRegex("\n2 +<none>"));

  r = cluster.Kubectl({"rollout", "undo", "deploy/web"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("rolled back"));
  r = cluster.Kubectl({"rollout", "status", "deploy/web", "--timeout=60s"},
                      std::chrono::seconds(70));
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << cluster.SimLog();
  r = cluster.Kubectl({"get", "deploy/web", "-o",
                       "jsonpath={.spec.template.spec.containers[0].env[1].value} "
                       "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}"});
  EXPECT_EQ(r.out, "1 3") << r.Describe();
  EXPECT_EQ(cluster.Stop(), 0);
}

TEST(ControllersLocalTest, EndpointSlicesFollowReadinessProbes) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Start().ok()) << cluster.SimLog();
  // Every pod is Ready while `gate` does not exist.
  std::string gate = cluster.dir() + "/not-ready";
  CommandResult r = cluster.Apply(R"(apiVersion: v1
kind: Service
metadata: {name: gated}
spec:
  selector: {app: gated}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: gated}
spec:
  replicas: 2
  selector: {matchLabels: {app: gated}}
  template:
    metadata: {labels: {app: gated}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: busybox
        args: ["-c", "exec sleep 3600"]
        ports: [{name: http, containerPort: 9000}]
        readinessProbe:
          exec: {command: ["/bin/sh", "-c", "test ! -e )" +
                                  gate + R"("]}
          periodSeconds: 1
          failureThreshold: 1
)");
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = cluster.Kubectl({"rollout", "status", "deploy/gated", "--timeout=60s"},
                      std::chrono::seconds(70));
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << cluster.SimLog();
  const std::string slice = "endpointslices";
  std::string seen;
  auto count = [&](const std::string& needle) {
    seen = cluster
               .Kubectl({"get", slice, "-l", "kubernetes.io/service-name=gated", "-o",
                         "jsonpath={range .items[*].endpoints[*]}{.targetRef.name}:"
                         "{.conditions.ready}:{.conditions.serving} {end}"})
               .out;
    size_t n = 0;
    for (size_t p = 0; (p = seen.find(needle, p)) != std::string::npos; ++p) ++n;
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return count(":true:true") == 2; }, std::chrono::seconds(30))) << seen;
  r = cluster.Kubectl({"get", slice, "-l", "kubernetes.io/service-name=gated"});
  // Pod addresses come from the simulator's own 127.B.0.0/16 block (kubelet/address_block).
  EXPECT_THAT(r.out, ContainsRegex("gated-[a-z0-9]+ +IPv4 +9000 +127\\.[0-9]+\\.[0-9]+\\.[0-9]+,"
                                   "127\\.[0-9]+\\.[0-9]+\\.[0-9]+ "));

  // The probe fails: ready=false, serving=false.
  std::ofstream(gate) << "x";
  ASSERT_TRUE(WaitFor([&] { return count(":false:false") == 2; }, std::chrono::seconds(30)))
      << seen;
  std::remove(gate.c_str());
  ASSERT_TRUE(WaitFor([&] { return count(":true:true") == 2; }, std::chrono::seconds(30))) << seen;

  // A deleted pod leaves (its replacement comes in).
  std::string victim = cluster.JsonPath("pods -l app=gated", ".items[0].metadata.name");
  ASSERT_FALSE(victim.empty());
  r = cluster.Kubectl({"delete", "pod", victim, "--wait=true"}, std::chrono::seconds(40));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_TRUE(
      WaitFor([&] { return count(":true:true") == 2 && seen.find(victim) == std::string::npos; },
              std::chrono::seconds(30)))
      << seen;
  EXPECT_EQ(cluster.Stop(), 0);
}

}  // namespace
}  // namespace shardwise::testing
