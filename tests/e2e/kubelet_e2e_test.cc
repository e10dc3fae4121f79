// The simulated kubelet with the real kubectl: logs (-f, --previous), a container killed
// from outside is restarted, a StatefulSet pod comes back with its PVC data, anti-affinity
// leaves a pod Pending with a FailedScheduling Event, graceful deletion runs preStop and
// honours the grace period, Services are reachable through the kube-proxy and /etc/hosts,
// and stopping (or killing) the simulator leaves no process behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/http/client.h"
#include "tests/e2e/local_cluster.h"

namespace shardwise::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class KubeletE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cluster_.Start().ok()) << cluster_.SimLog(); }
  void Apply(const std::string& yaml) {
    CommandResult r = cluster_.Apply(yaml);
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
  }
  LocalCluster cluster_;
};

constexpr char kTicker[] = R"(apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: tick
    image: busybox
    command: ["sh", "-c", "echo started $(POD_NAME); i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"]
    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
)";

TEST_F(KubeletE2ETest, LogsFollowAndPreviousAcrossAKillNine) {
  Apply(kTicker);
  ASSERT_TRUE(cluster_.WaitForCondition("pod/ticker", "Ready")) << cluster_.SimLog();
  BackgroundCommand follow({"kubectl", "logs", "-f", "ticker"}, cluster_.KubectlEnv());
  EXPECT_TRUE(follow.WaitForOutput("tick 3", std::chrono::seconds(30))) << follow.Errors();
  EXPECT_THAT(cluster_.Logs("ticker", "tick"), HasSubstr("started ticker\ntick 0\n"));
  std::string last = cluster_.Kubectl({"logs", "ticker", "--tail=1"}).out;
  EXPECT_EQ(std::count(last.begin(), last.end(), '\n'), 1) << last;
  EXPECT_THAT(cluster_.Kubectl({"logs", "ticker", "--timestamps", "--tail=1"}).out,
              ::testing::ContainsRegex("^20[0-9-]+T[0-9:.]+Z tick [0-9]+\n$"));
  CommandResult prev = cluster_.Kubectl({"logs", "ticker", "--previous"});
  EXPECT_NE(prev.exit_code, 0);
  EXPECT_THAT(prev.err,
              HasSubstr("previous terminated container \"tick\" in pod \"ticker\" not found"));

  pid_t first = cluster_.ContainerPid("ticker", "tick");
  ASSERT_GT(first, 0);
  ASSERT_TRUE(cluster_.KillContainer("ticker", "tick", SIGKILL));
  ASSERT_TRUE(
      cluster_.WaitForJsonPath("pod/ticker", ".status.containerStatuses[0].restartCount", "1"))
      << cluster_.SimLog();
  ASSERT_TRUE(cluster_.WaitForCondition("pod/ticker", "Ready"));
  EXPECT_EQ(
      cluster_.JsonPath("pod/ticker", ".status.containerStatuses[0].lastState.terminated.exitCode"),
      "137");
  EXPECT_NE(cluster_.ContainerPid("ticker", "tick"), first);
  EXPECT_FALSE(ProcessAlive(first));
  CommandResult get = cluster_.Kubectl({"get", "pod", "ticker", "--no-headers"});
  EXPECT_THAT(get.out, ::testing::ContainsRegex("ticker +1/1 +Running +1 \\([0-9]+s ago\\)"));
  // The follow stream of the killed instance ended with it.
  follow.Terminate(std::chrono::seconds(10));
  EXPECT_THAT(cluster_.Logs("ticker", "tick", {"--previous"}), HasSubstr("tick 3\n"));
  EXPECT_TRUE(
      WaitFor([&] { return cluster_.Logs("ticker", "tick").find("tick 1\n") != std::string::npos; },
              std::chrono::seconds(20)));
}

TEST_F(KubeletE2ETest, CrashingContainerBacksOff) {
  Apply(R"(apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo boom; exit 3"]
)");
  ASSERT_TRUE(cluster_.WaitForJsonPath(
      "pod/crasher", ".status.containerStatuses[0].state.waiting.reason", "CrashLoopBackOff"))
      << cluster_.SimLog();
  EXPECT_EQ(cluster_.JsonPath("pod/crasher",
                              ".status.containerStatuses[0].lastState.terminated.exitCode"),
            "3");
  EXPECT_THAT(cluster_.Kubectl({"get", "pod", "crasher", "--no-headers"}).out,
              HasSubstr("CrashLoopBackOff"));
  EXPECT_THAT(cluster_.Logs("crasher", "c", {"--previous"}), HasSubstr("boom"));

  Apply(R"(apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo done"]
)");
  ASSERT_TRUE(cluster_.WaitForJsonPath("pod/once", ".status.phase", "Succeeded"));
  EXPECT_THAT(cluster_.Kubectl({"get", "pod", "once", "--no-headers"}).out, HasSubstr("Completed"));
}

TEST_F(KubeletE2ETest, StatefulSetPodKeepsItsVolumeData) {
  // The StatefulSet controller creates the claim data-db-0 from the template; the kubelet
  // binds it on first use and keeps its directory when the pod goes.
  // Mount points inside the test's directory: missing ones are created on the host.
  const std::string mnt = cluster_.dir() + "/mnt-data";
  Apply(R"(apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: db
        image: busybox
        command: ["sh", "-c", "echo boot-$$$$ >> boots; cat boots; exec sleep 3600"]
        volumeMounts: [{name: data, mountPath: )" +
        mnt + R"(}]
        workingDir: )" +
        mnt + R"(
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
)");
  ASSERT_TRUE(cluster_.WaitForCondition("pod/db-0", "Ready")) << cluster_.SimLog();
  EXPECT_EQ(cluster_.JsonPath("pvc/data-db-0", ".status.phase"), "Bound");
  pid_t first = cluster_.ContainerPid("db-0", "db");
  ASSERT_TRUE(
      WaitFor([&] { return cluster_.Logs("db-0", "db").find("boot-") != std::string::npos; },
              std::chrono::seconds(20)));
  std::string uid = cluster_.JsonPath("pod/db-0", ".metadata.uid");
  CommandResult r = cluster_.Kubectl({"delete", "pod", "db-0"}, std::chrono::seconds(60));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string now = cluster_.JsonPath("pod/db-0", ".metadata.uid");
        return !now.empty() && now != uid;
      },
      std::chrono::seconds(30)));
  ASSERT_TRUE(cluster_.WaitForCondition("pod/db-0", "Ready")) << cluster_.SimLog();
  EXPECT_NE(cluster_.ContainerPid("db-0", "db"), first);
  std::string logs;
  ASSERT_TRUE(WaitFor(
      [&] {
        logs = cluster_.Logs("db-0", "db");
        return std::count(logs.begin(), logs.end(), '\n') >= 2;
      },
      std::chrono::seconds(20)))
      << logs;
  EXPECT_THAT(logs, ::testing::ContainsRegex("^boot-[0-9]+\nboot-[0-9]+\n$"));

  // As with a dynamic provisioner: the claim names its PersistentVolume, which kubectl get pv
  // shows Bound to it; once the claim is deleted, the volume goes (reclaim policy Delete).
  const std::string volume = "pvc-" + cluster_.JsonPath("pvc/data-db-0", ".metadata.uid");
  EXPECT_TRUE(
      WaitFor([&] { return cluster_.JsonPath("pvc/data-db-0", ".spec.volumeName") == volume; },
              std::chrono::seconds(20)));
  r = cluster_.Kubectl({"get", "pv"});
  EXPECT_THAT(r.out,
              ::testing::ContainsRegex(volume + " +1Gi +RWO +Delete +Bound +default/data-db-0"))
      << r.Describe();
  r = cluster_.Kubectl({"delete", "sts", "db"}, std::chrono::seconds(60));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = cluster_.Kubectl({"delete", "pvc", "data-db-0", "--wait=false"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = cluster_.Kubectl({"wait", "--for=delete", "pv/" + volume, "--timeout=40s"},
                       std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
}

TEST_F(KubeletE2ETest, AntiAffinityLeavesAPodPending) {
  std::string pods;
  for (int i = 0; i < 4; ++i) {
    pods += "---\napiVersion: v1\nkind: Pod\nmetadata: {name: spread-" + std::to_string(i) +
            ", labels: {app: spread}}\nspec:\n  affinity:\n    podAntiAffinity:\n"
            "      requiredDuringSchedulingIgnoredDuringExecution:\n"
            "      - labelSelector: {matchLabels: {app: spread}}\n"
            "        topologyKey: kubernetes.io/hostname\n"
            "  containers:\n  - name: c\n    image: busybox\n    command: [sleep, '3600']\n";
  }
  Apply(pods);
  std::set<std::string> nodes;
  std::string pending;
  ASSERT_TRUE(WaitFor(
      [&] {
        nodes.clear();
        pending.clear();
        for (int i = 0; i < 4; ++i) {
          std::string name = "spread-" + std::to_string(i);
          std::string node = cluster_.JsonPath("pod/" + name, ".spec.nodeName");
          if (node.empty()) {
            pending = name;
          } else {
            nodes.insert(node);
          }
        }
        return nodes.size() == 3 && !pending.empty();
      },
      std::chrono::seconds(30)));
  ASSERT_TRUE(cluster_.WaitForJsonPath(
      "pod/" + pending, ".status.conditions[?(@.type==\"PodScheduled\")].reason", "Unschedulable"));
  EXPECT_EQ(cluster_.JsonPath("pod/" + pending, ".status.phase"), "Pending");
  CommandResult events = cluster_.Kubectl({"get", "events"});
  EXPECT_THAT(events.out, HasSubstr("FailedScheduling"));
  EXPECT_THAT(events.out,
              HasSubstr("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules"));
  EXPECT_THAT(cluster_.Kubectl({"get", "pod", pending, "--no-headers"}).out, HasSubstr("Pending"));
}

TEST_F(KubeletE2ETest, GracefulDeletionRunsPreStopAndHonoursTheGracePeriod) {
  std::string marker_dir = cluster_.dir() + "/marker";
  std::filesystem::create_directories(marker_dir);
  Apply(R"(apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 120
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap 'echo got TERM' TERM; echo up; while true; do sleep 0.1; done"]
    volumeMounts: [{name: marker, mountPath: )" +
        cluster_.dir() + R"(/mnt-marker}]
    lifecycle:
      preStop:
        exec:
          command: ["sh", "-c", "echo prestop > )" +
        cluster_.dir() + R"(/mnt-marker/prestop"]
  volumes:
  - name: marker
    hostPath: {path: )" +
        marker_dir + R"(}
)");
  ASSERT_TRUE(cluster_.WaitForCondition("pod/stubborn", "Ready")) << cluster_.SimLog();
  pid_t pid = cluster_.ContainerPid("stubborn", "c");
  ASSERT_GT(pid, 0);
  CommandResult r = cluster_.Kubectl({"delete", "pod", "stubborn", "--wait=false"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_TRUE(WaitFor([&] { return ReadFile(marker_dir + "/prestop") == "prestop\n"; },
                      std::chrono::seconds(30)));
  ASSERT_TRUE(
      WaitFor([&] { return cluster_.Logs("stubborn", "c").find("got TERM") != std::string::npos; },
              std::chrono::seconds(30)));
  // It ignores SIGTERM: inside its 120 s grace period it keeps running, shown Terminating.
  EXPECT_TRUE(ProcessAlive(pid));
  EXPECT_THAT(cluster_.Kubectl({"get", "pod", "stubborn", "--no-headers"}).out,
              HasSubstr("Terminating"));
  // A shorter grace period on a second delete ends it with SIGKILL.
  r = cluster_.Kubectl({"delete", "pod", "stubborn", "--grace-period=1"}, std::chrono::seconds(60));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(pid); }, std::chrono::seconds(20)));
  EXPECT_THAT(cluster_.Kubectl({"get", "pod", "stubborn"}).err, HasSubstr("not found"));
}

TEST_F(KubeletE2ETest, ServicesThroughKubeProxyAndHostsFile) {
  Apply(R"(apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - name: app
    image: shardwise/sample-app
    args: ["--listen-address=$(POD_IP):8080"]
    env: [{name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]
    ports: [{name: http, containerPort: 8080}]
    readinessProbe: {httpGet: {path: /readyz, port: http}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "getent hosts web; getent hosts web.default.svc.cluster.local; hostname; echo $WEB_SERVICE_HOST"]
)");
  ASSERT_TRUE(cluster_.WaitForCondition("pod/web", "Ready")) << cluster_.SimLog();
  std::string cluster_ip = cluster_.JsonPath("service/web", ".spec.clusterIP");
  // 127.(95+B).0.0/16 for the simulator's address block B (127.96 for block 1).
  ASSERT_THAT(cluster_ip, ::testing::MatchesRegex("127\\.(9[6-9]|1[0-8][0-9]|190)\\..*"));
  http::Client client;
  http::ClientRequest req;
  req.url = "http://" + cluster_ip + ":80/metrics";
  Result<http::ClientResponse> resp = Status::Unavailable("not tried");
  ASSERT_TRUE(WaitFor(
      [&] {
        resp = client.DoSync(req);
        return resp.ok() && resp->status == 200;
      },
      std::chrono::seconds(20)));
  EXPECT_THAT(resp->body, HasSubstr("sample_app_scrapes_total"));
  ASSERT_TRUE(cluster_.WaitForJsonPath("pod/client", ".status.phase", "Succeeded"));
  std::string out = cluster_.Logs("client", "c");
  EXPECT_THAT(out,
              ::testing::ContainsRegex(cluster_ip + " +web\\.default\\.svc\\.cluster\\.local"));
  EXPECT_THAT(out, HasSubstr("client\n"));
}

TEST_F(KubeletE2ETest, MemoryLimitIsVisibleAndEnforcedWithOOMKilled) {
  // "hog" prints the memory.max it sees, then writes 200 MiB against a 64Mi limit; "calm"
  // has no limit and sees "max".
  Apply(R"yaml(apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  containers:
  - name: hog
    image: busybox
    command: ["python3", "-c", "import time; print('limit', open('/sys/fs/cgroup/memory.max').read().strip(), flush=True); time.sleep(1); b = b'x' * (200 << 20); time.sleep(600)"]
    resources:
      limits: {memory: 64Mi}
  - name: calm
    image: busybox
    command: ["sh", "-c", "echo limit $(cat /sys/fs/cgroup/memory.max); exec sleep 600"]
)yaml");
  ASSERT_TRUE(cluster_.WaitForJsonPath(
      "pod/hog", ".status.containerStatuses[0].lastState.terminated.reason", "OOMKilled"))
      << cluster_.SimLog();
  EXPECT_EQ(
      cluster_.JsonPath("pod/hog", ".status.containerStatuses[0].lastState.terminated.exitCode"),
      "137");
  EXPECT_NE(cluster_.JsonPath("pod/hog", ".status.containerStatuses[0].restartCount"), "0");
  // The limit as the container saw it, from the killed instance's log.
  EXPECT_THAT(cluster_.Logs("hog", "hog", {"--previous"}), HasSubstr("limit 67108864\n"));
  EXPECT_THAT(cluster_.Logs("hog", "calm"), HasSubstr("limit max\n"));
  // The other container is untouched, and the host's cgroup tree is not changed.
  EXPECT_EQ(cluster_.JsonPath("pod/hog", ".status.containerStatuses[1].restartCount"), "0");
  EXPECT_FALSE(std::filesystem::exists("/sys/fs/cgroup/memory.max") &&
               ReadFile("/sys/fs/cgroup/memory.max") == "67108864\n");
}

TEST(KubeletImageTest, NonRootPodRunsAnImageFromAPrivateDirectory) {
  // A checkout in a 0700 directory (a home directory, a mktemp dir) still runs pods with a
  // runAsUser: the image's program only needs its own execute bit, as on a real node.
  TempDir dir;
  std::filesystem::path image_dir = std::filesystem::path(dir.path()) / "private";
  std::filesystem::create_directories(image_dir);
  std::filesystem::permissions(image_dir, std::filesystem::perms::owner_all);
  std::filesystem::copy_file("/bin/sleep", image_dir / "sleep");
  LocalClusterOptions options;
  options.images["example.com/private-sleep"] = {(image_dir / "sleep").string()};
  LocalCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok()) << cluster.SimLog();
  CommandResult r = cluster.Apply(R"yaml(apiVersion: v1
kind: Pod
metadata: {name: nonroot}
spec:
  securityContext: {runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true}
  containers:
  - name: sleep
    image: example.com/private-sleep
    args: ["600"]
)yaml");
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_TRUE(cluster.WaitForCondition("pod/nonroot", "Ready")) << cluster.SimLog();
  EXPECT_EQ(cluster.JsonPath("pod/nonroot", ".status.containerStatuses[0].restartCount"), "0");
  pid_t pid = cluster.ContainerPid("nonroot", "sleep");
  ASSERT_GT(pid, 0);
  std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  EXPECT_THAT(status, HasSubstr("Uid:\t65534\t65534"));
}

TEST(KubeletShutdownTest, StoppingOrKillingTheSimulatorLeavesNothingRunning) {
  for (bool kill : {false, true}) {
    LocalCluster cluster;
    ASSERT_TRUE(cluster.Start().ok()) << cluster.SimLog();
    CommandResult r = cluster.Apply(R"(apiVersion: v1
kind: Pod
metadata: {name: a}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"]
---
apiVersion: v1
kind: Pod
metadata: {name: b}
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
)");
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    ASSERT_TRUE(cluster.WaitForCondition("pod/a", "Ready"));
    ASSERT_TRUE(cluster.WaitForCondition("pod/b", "Ready"));
    pid_t a = cluster.ContainerPid("a", "c"), b = cluster.ContainerPid("b", "c");
    ASSERT_GT(a, 0);
    ASSERT_GT(b, 0);
    if (kill) {
      cluster.Kill();
    } else {
      EXPECT_EQ(cluster.Stop(), 0) << cluster.SimLog();
      EXPECT_THAT(cluster.SimLog(), HasSubstr("kube-sim stopped"));
    }
    EXPECT_TRUE(
        WaitFor([&] { return !ProcessAlive(a) && !ProcessAlive(b); }, std::chrono::seconds(10)))
        << (kill ? "after SIGKILL" : "after SIGTERM");
  }
}

}  // namespace
}  // namespace shardwise::testing
