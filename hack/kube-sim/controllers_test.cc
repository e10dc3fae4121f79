// The workload, endpoint, disruption-budget and HPA controllers on an in-process Cluster.
// No kubelet runs here: the tests play it, giving pods an IP and a Ready condition.
#include <gtest/gtest.h>

#include <algorithm>

#include <atomic>
#include <mutex>
#include <set>

#include "common/testing/test_util.h"
#include "hack/kube-sim/controller.h"
#include "hack/kube-sim/hpa_controller.h"
#include "hack/kube-sim/time_util.h"

namespace shardwise::kubesim {
namespace {

using shardwise::testing::WaitFor;

json Deployment(const std::string& name, long replicas, const std::string& image) {
  return {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", name}}},
      {"spec",
       {{"replicas", replicas},
        {"selector", {{"matchLabels", {{"app", name}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", name}}}}},
          {"spec",
           {{"containers", json::array({{{"name", "c"},
                                         {"image", image},
                                         {"ports", json::array({{{"name", "http"},
                                                                 {"containerPort", 8080},
                                                                 {"protocol", "TCP"}}})}}})}}}}}}}};
}

class ControllersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    manager_ = std::make_unique<ControllerManager>(cluster_);
    manager_->Add(NewGarbageCollector(cluster_));
    manager_->Add(NewReplicaSetController(cluster_));
    manager_->Add(NewDeploymentController(cluster_));
    manager_->Add(NewStatefulSetController(cluster_));
    manager_->Add(NewDaemonSetController(cluster_));
    manager_->Add(NewEndpointSliceController(cluster_));
    manager_->Add(NewEndpointsController(cluster_));
    manager_->Add(NewPdbController(cluster_));
    HpaOptions hpa;
    hpa.sync_period = std::chrono::milliseconds(200);
    hpa.metrics = [this](const std::string& path) -> Result<std::pair<int, std::string>> {
      std::lock_guard<std::mutex> lock(metrics_mu_);
      metric_paths_.insert(path);
      if (metrics_fn_) return metrics_fn_(path);
      return std::make_pair(metrics_code_, metrics_body_);
    };
    manager_->Add(NewHpaController(cluster_, hpa));
    manager_->Start();
  }
  void TearDown() override { manager_->Stop(); }

  TypePtr Type(const std::string& group, const std::string& plural,
               const std::string& version = "v1") {
    TypePtr t = cluster_.FindType(group, version, plural);
    EXPECT_TRUE(t) << group << "/" << plural;
    return t;
  }
  json Create(const std::string& group, const std::string& plural, json body,
              const std::string& version = "v1") {
    WriteContext ctx;
    auto r = cluster_.Create(*Type(group, plural, version), "default", body, ctx);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message());
    return r.ok() ? r.value().object : json();
  }
  json Get(const std::string& group, const std::string& plural, const std::string& name,
           const std::string& version = "v1") {
    auto r = cluster_.Get(*Type(group, plural, version), "default", name);
    return r.ok() ? r.value() : json();
  }
  std::vector<json> List(const std::string& group, const std::string& plural) {
    auto r = cluster_.List(*Type(group, plural), "default", ListOptions{});
    std::vector<json> out;
    if (r.ok())
      for (auto& i : r.value()["items"]) out.push_back(i);
    return out;
  }
  // Applies `change` to the object until the write does not conflict.
  void Modify(const std::string& group, const std::string& plural, const std::string& name,
              const std::function<void(json&)>& change) {
    for (int i = 0; i < 20; ++i) {
      json o = Get(group, plural, name);
      change(o);
      WriteContext ctx;
      if (cluster_.Update(*Type(group, plural), "default", name, o, ctx).ok()) return;
    }
    ADD_FAILURE() << "could not update " << name;
  }
  // The kubelet's part: running pods get an IP and Ready (or not).
  void SetPodStatus(const std::string& name, bool ready) {
    TypePtr pods = Type("", "pods");
    for (int i = 0; i < 20; ++i) {
      auto r = cluster_.Get(*pods, "default", name);
      if (!r.ok()) return;
      json p = r.value();
      if (p["spec"].value("nodeName", "").empty()) {
        // Bound by the scheduler first.
        p["spec"]["nodeName"] = "node-1";
        WriteContext ctx;
        if (!cluster_.Update(*pods, "default", name, p, ctx).ok()) continue;
        continue;
      }
      bool had_ip = p["status"].contains("podIP");
      if (!had_ip) p["status"]["podIP"] = "10.1.0." + std::to_string(++ip_);
      p["status"]["phase"] = "Running";
      json cond = {{"type", "Ready"},
                   {"status", ready ? "True" : "False"},
                   {"lastTransitionTime", NowRfc3339()}};
      bool same = false;
      if (p["status"].contains("conditions"))
        for (const auto& c : p["status"]["conditions"])
          same =
              same || (c.value("type", "") == "Ready" && c.value("status", "") == cond["status"]);
      if (same && had_ip) return;
      p["status"]["conditions"] = json::array({cond});
      WriteContext ctx;
      if (cluster_.Update(*pods, "default", name, p, ctx, "status").ok()) return;
    }
  }
  // Makes every pod Running and Ready; returns the number of live pods.
  size_t RunAll() {
    size_t n = 0;
    for (const auto& p : List("", "pods")) {
      if (p["metadata"].contains("deletionTimestamp")) continue;
      SetPodStatus(p["metadata"]["name"], true);
      ++n;
    }
    return n;
  }
  std::vector<std::string> EventReasons() {
    std::vector<std::string> out;
    for (const auto& e : List("", "events"))
      out.push_back(e.value("reason", "") + ": " + e.value("message", ""));
    return out;
  }

  Cluster cluster_;
  std::unique_ptr<ControllerManager> manager_;
  int ip_ = 0;
  std::mutex metrics_mu_;
  int metrics_code_ = 404;
  std::string metrics_body_ =
      R"({"kind":"Status","message":"the server could not find the requested resource"})";
  std::set<std::string> metric_paths_;
  std::function<std::pair<int, std::string>(const std::string&)> metrics_fn_;
};

// The status of `o`, an empty object if it has none (or `o` is null).
json StatusOf(const json& o) {
  return o.is_object() && o.contains("status") && o["status"].is_object() ? o["status"]
                                                                          : json::object();
}

std::string Annotation(const json& o, const std::string& key) {
  return o["metadata"].value("annotations", json::object()).value(key, "");
}

// The condition of `type` in `o`, or null.
const json* Condition(const json& o, const std::string& type) {
  if (!o.contains("status") || !o["status"].contains("conditions")) return nullptr;
  for (const auto& c : o["status"]["conditions"])
    if (c.value("type", "") == type) return &c;
  return nullptr;
}

TEST_F(ControllersTest, DeploymentRollsOutAndBack) {
  Create("apps", "deployments", Deployment("web", 4, "nginx:1"));
  // Rolled out: one ReplicaSet, four pods, revision 1, NewReplicaSetAvailable.
  ASSERT_TRUE(WaitFor([&] {
    RunAll();
    json d = Get("apps", "deployments", "web");
    const json* p = Condition(d, "Progressing");
    return p && p->value("reason", "") == "NewReplicaSetAvailable" &&
           StatusOf(d).value("availableReplicas", 0) == 4;
  })) << Get("apps", "deployments", "web").dump();
  auto rs = List("apps", "replicasets");
  ASSERT_EQ(rs.size(), 1u);
  std::string hash = rs[0]["metadata"]["labels"].value("pod-template-hash", "");
  EXPECT_EQ(rs[0]["metadata"]["name"], "web-" + hash);
  EXPECT_EQ(rs[0]["spec"]["selector"]["matchLabels"]["pod-template-hash"], hash);
  EXPECT_EQ(Annotation(rs[0], "deployment.kubernetes.io/revision"), "1");
  EXPECT_EQ(Annotation(Get("apps", "deployments", "web"), "deployment.kubernetes.io/revision"),
            "1");
  for (const auto& p : List("", "pods")) {
    EXPECT_EQ(p["metadata"]["labels"].value("pod-template-hash", ""), hash);
    EXPECT_EQ(p["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");
  }
  json d = Get("apps", "deployments", "web");
  EXPECT_EQ(d["status"]["observedGeneration"], d["metadata"]["generation"]);
  EXPECT_EQ(Condition(d, "Available")->value("reason", ""), "MinimumReplicasAvailable");

  // A new template rolls a second ReplicaSet, never above 4 + maxSurge (1) pods nor
  // below 4 - maxUnavailable (1) ready ones.
  Modify("apps", "deployments", "web",
         [](json& o) { o["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"; });
  size_t most = 0;
  ASSERT_TRUE(WaitFor([&] {
    most = std::max(most, RunAll());
    json d = Get("apps", "deployments", "web");
    const json* p = Condition(d, "Progressing");
    return Annotation(d, "deployment.kubernetes.io/revision") == "2" && p &&
           StatusOf(d).value("observedGeneration", 0) == d["metadata"].value("generation", -1) &&
           p->value("reason", "") == "NewReplicaSetAvailable" &&
           StatusOf(d).value("updatedReplicas", 0) == 4 && StatusOf(d).value("replicas", 0) == 4;
  })) << Get("apps", "deployments", "web").dump();
  EXPECT_LE(most, 5u);
  rs = List("apps", "replicasets");
  ASSERT_EQ(rs.size(), 2u);
  for (const auto& r : rs) {
    bool is_new = Annotation(r, "deployment.kubernetes.io/revision") == "2";
    EXPECT_EQ(r["spec"]["replicas"], is_new ? 4 : 0) << r.dump();
  }
  EXPECT_TRUE(WaitFor([&] {
    for (const auto& e : EventReasons())
      if (e.find("ScalingReplicaSet: Scaled down replica set web-" + hash + " from ") == 0 &&
          e.substr(e.size() - 5) == " to 0")
        return true;
    return false;
  }));

  // Back to the first template (what `kubectl rollout undo` writes): the first
  // ReplicaSet becomes the new one with revision 3.
  Modify("apps", "deployments", "web",
         [](json& o) { o["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1"; });
  ASSERT_TRUE(WaitFor([&] {
    RunAll();
    json r = Get("apps", "replicasets", "web-" + hash);
    return Annotation(r, "deployment.kubernetes.io/revision") == "3" &&
           StatusOf(r).value("availableReplicas", 0) == 4;
  })) << Get("apps", "replicasets", "web-" + hash).dump();
  EXPECT_EQ(Annotation(Get("apps", "replicasets", "web-" + hash),
                       "deployment.kubernetes.io/revision-history"),
            "1");
  EXPECT_EQ(List("apps", "replicasets").size(), 2u);
}

TEST_F(ControllersTest, RecreateStopsOldPodsFirstAndHistoryIsLimited) {
  json dep = Deployment("db", 2, "pg:1");
  dep["spec"]["strategy"] = {{"type", "Recreate"}};
  dep["spec"]["revisionHistoryLimit"] = 1;
  Create("apps", "deployments", dep);
  ASSERT_TRUE(WaitFor([&] {
    RunAll();
    return StatusOf(Get("apps", "deployments", "db")).value("availableReplicas", 0) == 2;
  }));
  for (const char* image : {"pg:2", "pg:3"}) {
    Modify("apps", "deployments", "db",
           [&](json& o) { o["spec"]["template"]["spec"]["containers"][0]["image"] = image; });
    bool mixed = false;
    ASSERT_TRUE(WaitFor([&] {
      std::set<std::string> images;
      for (const auto& p : List("", "pods"))
        images.insert(p["spec"]["containers"][0].value("image", ""));
      mixed = mixed || images.size() > 1;
      RunAll();
      json d = Get("apps", "deployments", "db");
      return images == std::set<std::string>{image} &&
             StatusOf(d).value("availableReplicas", 0) == 2 &&
             StatusOf(d).value("updatedReplicas", 0) == 2;
    }));
    EXPECT_FALSE(mixed) << "Recreate never runs two templates at once";
  }
  EXPECT_TRUE(WaitFor([&] { return List("apps", "replicasets").size() == 2u; }))
      << "revisionHistoryLimit 1 keeps one old ReplicaSet";
}

TEST_F(ControllersTest, ReplicaSetReplacesDeletedPodsAndDropsUnreadyFirst) {
  json rs = {{"apiVersion", "apps/v1"},
             {"kind", "ReplicaSet"},
             {"metadata", {{"name", "rs"}}},
             {"spec",
              {{"replicas", 3},
               {"selector", {{"matchLabels", {{"app", "rs"}}}}},
               {"template",
                {{"metadata", {{"labels", {{"app", "rs"}}}}},
                 {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "x"}}})}}}}}}}};
  Create("apps", "replicasets", rs);
  ASSERT_TRUE(WaitFor([&] { return List("", "pods").size() == 3; }));
  auto pods = List("", "pods");
  SetPodStatus(pods[0]["metadata"]["name"], true);
  SetPodStatus(pods[1]["metadata"]["name"], true);
  SetPodStatus(pods[2]["metadata"]["name"], false);
  ASSERT_TRUE(WaitFor([&] {
    json s = StatusOf(Get("apps", "replicasets", "rs"));
    return s.value("readyReplicas", 0) == 2 && s.value("fullyLabeledReplicas", 0) == 3 &&
           s.value("availableReplicas", 0) == 2;
  }));
  WriteContext ctx;
  cluster_.Delete(*Type("", "pods"), "default", pods[0]["metadata"]["name"], DeleteOptions{});
  ASSERT_TRUE(WaitFor([&] { return List("", "pods").size() == 3; }));
  Modify("apps", "replicasets", "rs", [](json& o) { o["spec"]["replicas"] = 1; });
  ASSERT_TRUE(WaitFor([&] { return List("", "pods").size() == 1; }));
  EXPECT_EQ(List("", "pods")[0]["metadata"]["name"], pods[1]["metadata"]["name"])
      << "the ready pod stays";
  // kube-controller-manager's Events, one per pod created and deleted (recorded just after
  // the write).
  auto has_event = [&](const std::string& text) {
    auto events = EventReasons();
    return std::find(events.begin(), events.end(), text) != events.end();
  };
  for (const auto& p : pods) {
    const std::string name = p["metadata"]["name"];
    EXPECT_TRUE(WaitFor([&] { return has_event("SuccessfulCreate: Created pod: " + name); }))
        << name;
  }
  const std::string unready = pods[2]["metadata"]["name"];
  EXPECT_TRUE(WaitFor([&] { return has_event("SuccessfulDelete: Deleted pod: " + unready); }))
      << "the unready pod goes first";
}

TEST_F(ControllersTest, EndpointSlicesFollowPodReadiness) {
  Create("", "services",
         {{"metadata", {{"name", "web"}, {"labels", {{"team", "a"}}}}},
          {"spec",
           {{"selector", {{"app", "web"}}},
            {"ports", json::array({{{"name", "http"},
                                    {"port", 80},
                                    {"targetPort", "http"},
                                    {"appProtocol", "http"}}})}}}});
  ASSERT_TRUE(WaitFor([&] { return List("discovery.k8s.io", "endpointslices").size() == 1; }))
      << "a Service without endpoints has a placeholder slice";
  Create("apps", "deployments", Deployment("web", 2, "nginx:1"));
  ASSERT_TRUE(WaitFor([&] {
    RunAll();
    auto slices = List("discovery.k8s.io", "endpointslices");
    return slices.size() == 1 && slices[0].value("endpoints", json::array()).size() == 2 &&
           slices[0]["endpoints"][0]["conditions"].value("ready", false) &&
           slices[0]["endpoints"][1]["conditions"].value("ready", false);
  })) << List("discovery.k8s.io", "endpointslices")[0].dump();
  json slice = List("discovery.k8s.io", "endpointslices")[0];
  EXPECT_EQ(slice["metadata"]["labels"]["kubernetes.io/service-name"], "web");
  EXPECT_EQ(slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
            "endpointslice-controller.k8s.io");
  EXPECT_EQ(slice["metadata"]["labels"]["team"], "a");
  EXPECT_EQ(slice["metadata"]["ownerReferences"][0]["kind"], "Service");
  EXPECT_EQ(slice["addressType"], "IPv4");
  EXPECT_EQ(slice["ports"],
            json::parse(R"([{"name":"http","port":8080,"protocol":"TCP","appProtocol":"http"}])"))
      << "the named targetPort resolves to the container port";
  json ep0 = slice["endpoints"][0];
  EXPECT_EQ(ep0["targetRef"]["kind"], "Pod");
  EXPECT_EQ(ep0["nodeName"], "node-1");
  std::string pod0 = ep0["targetRef"]["name"];
  std::string ip0 = ep0["addresses"][0];

  // Endpoints (v1) agree.
  json eps;
  ASSERT_TRUE(WaitFor([&] {
    eps = Get("", "endpoints", "web");
    return eps.is_object() && eps.value("subsets", json::array()).size() == 1 &&
           eps["subsets"][0].value("addresses", json::array()).size() == 2;
  })) << eps.dump();
  EXPECT_EQ(eps["subsets"][0]["ports"][0]["port"], 8080);

  // Not ready: ready=false, serving=false; Endpoints moves it to notReadyAddresses.
  SetPodStatus(pod0, false);
  auto endpoint_of = [&](const std::string& pod) -> json {
    for (const auto& s : List("discovery.k8s.io", "endpointslices"))
      for (const auto& e : s.value("endpoints", json::array()))
        if (e["targetRef"].value("name", "") == pod) return e;
    return json();
  };
  ASSERT_TRUE(WaitFor([&] {
    json e = endpoint_of(pod0);
    return !e.is_null() &&
           e["conditions"] == json{{"ready", false}, {"serving", false}, {"terminating", false}};
  })) << endpoint_of(pod0).dump();
  ASSERT_TRUE(WaitFor([&] {
    json s = Get("", "endpoints", "web")["subsets"];
    return s.size() == 1 && s[0].value("notReadyAddresses", json::array()).size() == 1 &&
           s[0]["notReadyAddresses"][0]["ip"] == ip0;
  })) << Get("", "endpoints", "web").dump();

  // Terminating (a finalizer holds it): terminating=true, ready=false, serving per readiness.
  SetPodStatus(pod0, true);
  Modify("", "pods", pod0, [](json& o) { o["metadata"]["finalizers"] = {"test/hold"}; });
  cluster_.Delete(*Type("", "pods"), "default", pod0, DeleteOptions{});
  ASSERT_TRUE(WaitFor([&] {
    json e = endpoint_of(pod0);
    return !e.is_null() &&
           e["conditions"] == json{{"ready", false}, {"serving", true}, {"terminating", true}};
  })) << endpoint_of(pod0).dump();
  EXPECT_TRUE(WaitFor([&] {
    json endpoints = Get("", "endpoints", "web");  // outlives the loop over its addresses
    for (const auto& a : endpoints["subsets"][0]["addresses"])
      if (a["ip"] == ip0) return false;
    return true;
  })) << "Endpoints leave terminating pods out";

  // Gone: the endpoint goes.
  Modify("", "pods", pod0, [](json& o) { o["metadata"].erase("finalizers"); });
  EXPECT_TRUE(WaitFor([&] {
    RunAll();
    return endpoint_of(pod0).is_null();
  }));
}

TEST_F(ControllersTest, PublishNotReadyAddressesAndHeadlessServices) {
  Create("", "services",
         {{"metadata", {{"name", "db"}}},
          {"spec",
           {{"clusterIP", "None"},
            {"publishNotReadyAddresses", true},
            {"selector", {{"app", "db"}}},
            {"ports", json::array({{{"port", 5432}}})}}}});
  json sts = {{"apiVersion", "apps/v1"},
              {"kind", "StatefulSet"},
              {"metadata", {{"name", "db"}}},
              {"spec",
               {{"replicas", 1},
                {"serviceName", "db"},
                {"selector", {{"matchLabels", {{"app", "db"}}}}},
                {"template",
                 {{"metadata", {{"labels", {{"app", "db"}}}}},
                  {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "pg"}}})}}}}}}}};
  Create("apps", "statefulsets", sts);
  ASSERT_TRUE(WaitFor([&] { return !Get("", "pods", "db-0").is_null(); }));
  SetPodStatus("db-0", false);
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& s : List("discovery.k8s.io", "endpointslices"))
      for (const auto& e : s.value("endpoints", json::array()))
        if (e.value("conditions", json::object()).value("ready", false) &&
            e.value("hostname", "") == "db-0")
          return true;
    return false;
  }));
  json eps;
  ASSERT_TRUE(WaitFor([&] {
    eps = Get("", "endpoints", "db");  // null until the controller has written it
    return eps.is_object() && !eps.value("subsets", json::array()).empty();
  })) << eps.dump();
  EXPECT_EQ(eps["metadata"]["labels"].count("service.kubernetes.io/headless"), 1u);
  EXPECT_EQ(eps["subsets"][0]["addresses"][0]["hostname"], "db-0");
}

json StatefulSet(const std::string& name, long replicas, const std::string& image) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "StatefulSet"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"replicas", replicas},
            {"serviceName", name},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", name}}}}},
              {"spec", {{"containers", json::array({{{"name", "c"}, {"image", image}}})}}}}},
            {"volumeClaimTemplates",
             json::array({{{"metadata", {{"name", "data"}, {"labels", {{"tier", "db"}}}}},
                           {"spec",
                            {{"accessModes", {"ReadWriteOnce"}},
                             {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}}})}}}};
}

TEST_F(ControllersTest, StatefulSetOrderedReadyRevisionsAndClaims) {
  json set = StatefulSet("web", 3, "app:1");
  set["spec"]["persistentVolumeClaimRetentionPolicy"] = {{"whenScaled", "Delete"}};
  Create("apps", "statefulsets", set);
  json got = Get("apps", "statefulsets", "web");
  EXPECT_EQ(got["spec"]["updateStrategy"],
            json::parse(R"({"type":"RollingUpdate","rollingUpdate":{"partition":0}})"));
  EXPECT_EQ(got["spec"]["podManagementPolicy"], "OrderedReady");
  EXPECT_EQ(got["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"], "Retain");

  // One ordinal at a time, each waiting for the previous to be Ready.
  ASSERT_TRUE(WaitFor([&] { return !Get("", "pods", "web-0").is_null(); }));
  EXPECT_TRUE(Get("", "pods", "web-1").is_null());
  for (const char* pod : {"web-0", "web-1", "web-2"}) {
    ASSERT_TRUE(WaitFor([&] { return !Get("", "pods", pod).is_null(); })) << pod;
    SetPodStatus(pod, true);
  }
  ASSERT_TRUE(WaitFor([&] {
    json s = StatusOf(Get("apps", "statefulsets", "web"));
    return s.value("readyReplicas", 0) == 3 && s.value("updatedReplicas", 0) == 3 &&
           s.value("currentRevision", "") == s.value("updateRevision", "x");
  })) << Get("apps", "statefulsets", "web").dump();
  json status = Get("apps", "statefulsets", "web")["status"];
  std::string rev1 = status["updateRevision"];
  EXPECT_EQ(Get("", "pods", "web-2")["metadata"]["labels"]["controller-revision-hash"], rev1);
  json cr = Get("apps", "controllerrevisions", rev1);
  EXPECT_EQ(cr["revision"], 1);
  json claim = Get("", "persistentvolumeclaims", "data-web-1");
  EXPECT_EQ(claim["metadata"]["labels"], json({{"tier", "db"}, {"app", "web"}}));
  EXPECT_EQ(claim["status"]["phase"], "Bound");
  bool mounted = false;
  json web1 = Get("", "pods", "web-1");
  for (const auto& v : web1["spec"]["volumes"])
    mounted |= v["persistentVolumeClaim"].value("claimName", "") == "data-web-1";
  EXPECT_TRUE(mounted) << Get("", "pods", "web-1").dump();

  // A rolling update replaces the highest ordinal first.
  Modify("apps", "statefulsets", "web",
         [](json& o) { o["spec"]["template"]["spec"]["containers"][0]["image"] = "app:2"; });
  std::vector<std::string> order;
  ASSERT_TRUE(WaitFor([&] {
    for (const char* pod : {"web-0", "web-1", "web-2"}) {
      json p = Get("", "pods", pod);
      if (p.is_null()) continue;
      if (p["spec"]["containers"][0]["image"] == "app:2" &&
          std::find(order.begin(), order.end(), pod) == order.end())
        order.push_back(pod);
      SetPodStatus(pod, true);
    }
    json s = StatusOf(Get("apps", "statefulsets", "web"));
    return s.value("updatedReplicas", 0) == 3 && s.value("currentRevision", "") != rev1 &&
           s.value("readyReplicas", 0) == 3;
  })) << Get("apps", "statefulsets", "web").dump();
  EXPECT_EQ(order, (std::vector<std::string>{"web-2", "web-1", "web-0"}));

  // A deleted pod comes back under its name; scaling down hands its claim to the pod.
  cluster_.Delete(*Type("", "pods"), "default", "web-1", DeleteOptions{});
  ASSERT_TRUE(WaitFor([&] { return !Get("", "pods", "web-1").is_null(); }));
  SetPodStatus("web-1", true);
  Modify("apps", "statefulsets", "web", [](json& o) { o["spec"]["replicas"] = 2; });
  ASSERT_TRUE(WaitFor([&] { return Get("", "pods", "web-2").is_null(); }));
  json refs = Get("", "persistentvolumeclaims", "data-web-2")["metadata"].value("ownerReferences",
                                                                                json::array());
  ASSERT_EQ(refs.size(), 1u) << "whenScaled: Delete";
  EXPECT_EQ(refs[0]["kind"], "Pod");
  EXPECT_TRUE(Get("", "persistentvolumeclaims", "data-web-0")["metadata"]
                  .value("ownerReferences", json::array())
                  .empty())
      << "whenDeleted: Retain";
}

TEST_F(ControllersTest, PodDisruptionBudgetStatus) {
  Create("apps", "deployments", Deployment("web", 3, "nginx:1"));
  Create("policy", "poddisruptionbudgets",
         {{"metadata", {{"name", "web"}}},
          {"spec", {{"minAvailable", 2}, {"selector", {{"matchLabels", {{"app", "web"}}}}}}}});
  Create(
      "policy", "poddisruptionbudgets",
      {{"metadata", {{"name", "web-pct"}}},
       {"spec", {{"maxUnavailable", "50%"}, {"selector", {{"matchLabels", {{"app", "web"}}}}}}}});
  ASSERT_TRUE(WaitFor([&] {
    RunAll();
    json s = StatusOf(Get("policy", "poddisruptionbudgets", "web"));
    return s.value("currentHealthy", 0) == 3 && s.value("disruptionsAllowed", 0) == 1;
  })) << Get("policy", "poddisruptionbudgets", "web").dump();
  json pdb = Get("policy", "poddisruptionbudgets", "web");
  EXPECT_EQ(pdb["status"]["desiredHealthy"], 2);
  EXPECT_EQ(pdb["status"]["expectedPods"], 3);
  EXPECT_EQ(Condition(pdb, "DisruptionAllowed")->value("reason", ""), "SufficientPods");
  ASSERT_TRUE(WaitFor([&] {
    json s = StatusOf(Get("policy", "poddisruptionbudgets", "web-pct"));
    return s.value("expectedPods", 0) == 3 && s.value("desiredHealthy", 0) == 1 &&
           s.value("disruptionsAllowed", 0) == 2;
  })) << Get("policy", "poddisruptionbudgets", "web-pct").dump();
}

TEST_F(ControllersTest, HpaScalesOnPodsMetricAndReportsFailures) {
  Create("apps", "deployments", Deployment("web", 2, "nginx:1"));
  ASSERT_TRUE(WaitFor([&] { return RunAll() == 2; }));
  Create(
      "autoscaling", "horizontalpodautoscalers",
      {{"metadata", {{"name", "web"}}},
       {"spec",
        {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}}},
         {"maxReplicas", 10},
         {"metrics",
          json::array({{{"type", "Pods"},
                        {"pods",
                         {{"metric", {{"name", "rps"}}},
                          {"target", {{"type", "AverageValue"}, {"averageValue", "0.5"}}}}}}})},
         {"behavior", {{"scaleDown", {{"stabilizationWindowSeconds", 1}}}}}}}},
      "v2");
  // No metrics API yet: ScalingActive=False with the real reason.
  ASSERT_TRUE(WaitFor([&] {
    json h = Get("autoscaling", "horizontalpodautoscalers", "web", "v2");
    const json* c = Condition(h, "ScalingActive");
    return c && c->value("reason", "") == "FailedGetPodsMetric";
  })) << Get("autoscaling", "horizontalpodautoscalers", "web", "v2").dump();
  json hpa = Get("autoscaling", "horizontalpodautoscalers", "web", "v2");
  EXPECT_EQ(hpa["spec"]["behavior"]["scaleUp"]["policies"].size(), 2u) << "API defaults";
  EXPECT_EQ(hpa["spec"]["metrics"][0]["pods"]["target"]["averageValue"], "500m")
      << "quantities are stored in canonical form";
  EXPECT_EQ(hpa["spec"]["behavior"]["scaleDown"]["selectPolicy"], "Max");
  EXPECT_EQ(hpa["status"]["currentReplicas"], 2);
  {
    std::lock_guard<std::mutex> lock(metrics_mu_);
    EXPECT_EQ(metric_paths_.count("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/"
                                  "rps?labelSelector=app%3Dweb"),
              1u);
  }

  // Every pod reports 1500m against 500m: ratio 3, 2 -> 6.
  auto serve = [&](const std::string& value) {
    json items = json::array();
    for (const auto& p : List("", "pods"))
      items.push_back({{"describedObject", {{"kind", "Pod"}, {"name", p["metadata"]["name"]}}},
                       {"metric", {{"name", "rps"}}},
                       {"value", value}});
    std::lock_guard<std::mutex> lock(metrics_mu_);
    metrics_code_ = 200;
    metrics_body_ = json{{"kind", "MetricValueList"}, {"items", items}}.dump();
  };
  ASSERT_TRUE(WaitFor([&] {
    serve("1500m");
    RunAll();
    return Get("apps", "deployments", "web")["spec"].value("replicas", 0) == 6;
  })) << Get("autoscaling", "horizontalpodautoscalers", "web", "v2").dump();
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& e : EventReasons())
      if (e == "SuccessfulRescale: New size: 6; reason: pods metric rps above target") return true;
    return false;
  }));
  // The status is written just after /scale.
  ASSERT_TRUE(WaitFor([&] {
    hpa = Get("autoscaling", "horizontalpodautoscalers", "web", "v2");
    return StatusOf(hpa).value("desiredReplicas", 0) == 6;
  })) << hpa.dump();
  EXPECT_EQ(hpa["status"]["currentMetrics"][0]["pods"]["current"]["averageValue"], "1500m");
  EXPECT_EQ(Condition(hpa, "ScalingActive")->value("reason", ""), "ValidMetricFound");
  EXPECT_TRUE(hpa["status"].contains("lastScaleTime"));

  // Load drops: after the 1 s downscale window, back to the minimum.
  ASSERT_TRUE(WaitFor([&] {
    serve("100m");
    RunAll();
    return Get("apps", "deployments", "web")["spec"].value("replicas", 0) == 2;
  })) << Get("autoscaling", "horizontalpodautoscalers", "web", "v2").dump();
  EXPECT_TRUE(WaitFor([&] {
    for (const auto& e : EventReasons())
      if (e == "SuccessfulRescale: New size: 2; reason: All metrics below target") return true;
    return false;
  }));
}

TEST_F(ControllersTest, HpaScalesACustomResourceOnObjectAndExternalMetrics) {
  Create("apiextensions.k8s.io", "customresourcedefinitions", json::parse(R"({
    "apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
    "metadata":{"name":"pools.example.com"},
    "spec":{"group":"example.com","scope":"Namespaced",
      "names":{"plural":"pools","singular":"pool","kind":"Pool"},
      "versions":[{"name":"v1","served":true,"storage":true,
        "subresources":{"status":{},"scale":{"specReplicasPath":".spec.replicas",
          "statusReplicasPath":".status.replicas","labelSelectorPath":".status.selector"}},
        "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}})"));
  Create("example.com", "pools",
         {{"apiVersion", "example.com/v1"},
          {"kind", "Pool"},
          {"metadata", {{"name", "p"}}},
          {"spec", {{"replicas", 2}}}});
  WriteContext ctx;
  json pool = Get("example.com", "pools", "p");
  pool["status"] = {{"replicas", 2}, {"selector", "app=pool"}};
  ASSERT_TRUE(
      cluster_.Update(*Type("example.com", "pools"), "default", "p", pool, ctx, "status").ok());
  for (const char* name : {"pool-0", "pool-1"}) {
    Create("", "pods",
           {{"metadata", {{"name", name}, {"labels", {{"app", "pool"}}}}},
            {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "x"}}})}}}});
    SetPodStatus(name, true);
  }
  {
    std::lock_guard<std::mutex> lock(metrics_mu_);
    metrics_fn_ = [](const std::string& path) {
      if (path.find("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pools.example.com/p/"
                    "queue") == 0)
        return std::make_pair(200, std::string(R"({"items":[{"value":"3k"}]})"));
      if (path.find("/apis/external.metrics.k8s.io/v1beta1/namespaces/default/backlog") == 0)
        return std::make_pair(200, std::string(R"({"items":[{"value":"40"},{"value":"20"}]})"));
      return std::make_pair(404, std::string("{}"));
    };
  }
  // Object: 3k / 1k = 3 over 2 ready pods -> 6; External average: 60 / 10 -> 6; capped
  // at maxReplicas 5.
  Create("autoscaling", "horizontalpodautoscalers", json::parse(R"({"metadata":{"name":"p"},"spec":{
           "scaleTargetRef":{"apiVersion":"example.com/v1","kind":"Pool","name":"p"},
           "minReplicas":1,"maxReplicas":5,
           "metrics":[
             {"type":"Object","object":{"describedObject":{"apiVersion":"example.com/v1","kind":"Pool","name":"p"},
               "metric":{"name":"queue"},"target":{"type":"Value","value":"1k"}}},
             {"type":"External","external":{"metric":{"name":"backlog","selector":{"matchLabels":{"q":"a"}}},
               "target":{"type":"AverageValue","averageValue":"10"}}}],
           "behavior":{"scaleUp":{"policies":[{"type":"Pods","value":10,"periodSeconds":15}]}}}})"),
         "v2");
  ASSERT_TRUE(WaitFor([&] {
    return Get("example.com", "pools", "p")["spec"].value("replicas", 0) == 5;
  })) << Get("autoscaling", "horizontalpodautoscalers", "p", "v2").dump();
  json hpa;
  ASSERT_TRUE(WaitFor([&] {
    hpa = Get("autoscaling", "horizontalpodautoscalers", "p", "v2");
    return StatusOf(hpa).value("desiredReplicas", 0) == 5;
  })) << hpa.dump();
  const json* limited = Condition(hpa, "ScalingLimited");
  ASSERT_NE(limited, nullptr);
  EXPECT_EQ(limited->value("reason", ""), "TooManyReplicas");
  EXPECT_EQ(hpa["status"]["currentMetrics"][0]["object"]["current"]["value"], "3k");
  EXPECT_EQ(hpa["status"]["currentMetrics"][1]["external"]["current"]["averageValue"], "30");
  std::lock_guard<std::mutex> lock(metrics_mu_);
  EXPECT_EQ(
      metric_paths_.count(
          "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/backlog?labelSelector=q%3Da"),
      1u);
}

TEST_F(ControllersTest, DaemonSetRunsOnePodPerMatchingNode) {
  WriteContext ctx;
  TypePtr nodes = Type("", "nodes");
  ASSERT_TRUE(nodes);
  for (const char* n : {"ds-a", "ds-b"}) {
    json node = {{"apiVersion", "v1"},
                 {"kind", "Node"},
                 {"metadata", {{"name", n}, {"labels", {{"kubernetes.io/hostname", n}}}}}};
    if (std::string(n) == "ds-a") node["metadata"]["labels"]["role"] = "edge";
    auto r = cluster_.Create(*nodes, "", node, ctx);
    ASSERT_TRUE(r.ok()) << r.error().message();
  }
  json ds = {{"apiVersion", "apps/v1"},
             {"kind", "DaemonSet"},
             {"metadata", {{"name", "ne"}}},
             {"spec",
              {{"selector", {{"matchLabels", {{"app", "ne"}}}}},
               {"template",
                {{"metadata", {{"labels", {{"app", "ne"}}}}},
                 {"spec",
                  {{"nodeSelector", {{"role", "edge"}}},
                   {"containers", json::array({{{"name", "c"}, {"image", "ne:1"}}})}}}}}}}};
  Create("apps", "daemonsets", ds);
  auto ds_pods = [&] {
    std::vector<json> out;
    for (auto& p : List("", "pods"))
      if (p["metadata"]["labels"].value("app", "") == "ne" &&
          !p["metadata"].contains("deletionTimestamp"))
        out.push_back(p);
    return out;
  };
  ASSERT_TRUE(WaitFor([&] { return ds_pods().size() == 1; }));
  json pod = ds_pods()[0];
  EXPECT_EQ(pod["spec"]["nodeName"], "ds-a");
  EXPECT_EQ(
      pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
         ["nodeSelectorTerms"][0]["matchFields"][0],
      json::parse(R"({"key":"metadata.name","operator":"In","values":["ds-a"]})"));
  // The second node qualifies: a second pod.
  json b = cluster_.Get(*nodes, "", "ds-b").value();
  b["metadata"]["labels"]["role"] = "edge";
  ASSERT_TRUE(cluster_.Update(*nodes, "", "ds-b", b, ctx).ok());
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& p : ds_pods()) SetPodStatus(p["metadata"]["name"], true);
    json s = StatusOf(Get("apps", "daemonsets", "ne"));
    return s.value("desiredNumberScheduled", 0) == 2 && s.value("numberAvailable", 0) == 2 &&
           s.value("updatedNumberScheduled", 0) == 2;
  })) << Get("apps", "daemonsets", "ne").dump();
  // A new template rolls one node at a time.
  Modify("apps", "daemonsets", "ne",
         [](json& o) { o["spec"]["template"]["spec"]["containers"][0]["image"] = "ne:2"; });
  size_t fewest_ready = 2;
  ASSERT_TRUE(WaitFor([&] {
    size_t ready = 0;
    for (const auto& p : ds_pods()) {
      json q = Get("", "pods", p["metadata"]["name"]);
      for (const auto& c : StatusOf(q).value("conditions", json::array()))
        if (c.value("type", "") == "Ready" && c.value("status", "") == "True") ++ready;
    }
    fewest_ready = std::min(fewest_ready, ready);
    for (const auto& p : ds_pods()) SetPodStatus(p["metadata"]["name"], true);
    json s = StatusOf(Get("apps", "daemonsets", "ne"));
    json d = Get("apps", "daemonsets", "ne");
    return s.value("observedGeneration", 0) == d["metadata"].value("generation", -1) &&
           s.value("updatedNumberScheduled", 0) == 2 && s.value("numberAvailable", 0) == 2;
  })) << Get("apps", "daemonsets", "ne").dump();
  EXPECT_GE(fewest_ready, 1u) << "maxUnavailable 1";
  for (const auto& p : ds_pods()) EXPECT_EQ(p["spec"]["containers"][0]["image"], "ne:2");
  // Four pods created (two nodes, two templates), the two old ones deleted, each with its
  // Event from the daemonset controller.
  size_t created = 0, deleted = 0;
  EXPECT_TRUE(WaitFor([&] {
    created = deleted = 0;
    for (const auto& e : List("", "events")) {
      if (e["involvedObject"].value("name", "") != "ne" ||
          e["source"].value("component", "") != "daemonset-controller")
        continue;
      if (e.value("reason", "") == "SuccessfulCreate") created += e.value("count", 1);
      if (e.value("reason", "") == "SuccessfulDelete") deleted += e.value("count", 1);
    }
    return created == 4 && deleted == 2;
  })) << created
      << " created, " << deleted << " deleted";
}

}  // namespace
}  // namespace shardwise::kubesim
