#include "hack/kube-sim/cluster.h"

#include <gtest/gtest.h>

#include <thread>

#include "hack/kube-sim/controller.h"

namespace shardwise::kubesim {
namespace {

const json kCrd = json::parse(R"({
  "apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
  "metadata":{"name":"widgets.example.com"},
  "spec":{"group":"example.com","scope":"Namespaced",
    "names":{"plural":"widgets","singular":"widget","kind":"Widget"},
    "versions":[{"name":"v1","served":true,"storage":true,
      "subresources":{"status":{},"scale":{"specReplicasPath":".spec.replicas","statusReplicasPath":".status.replicas"}},
      "schema":{"openAPIV3Schema":{"type":"object","properties":{
        "spec":{"type":"object","properties":{"replicas":{"type":"integer","minimum":0}}},
        "status":{"type":"object","properties":{"replicas":{"type":"integer"}}}}}}}]}})");

class ClusterTest : public ::testing::Test {
 protected:
  const ResourceType& Type(const std::string& g, const std::string& v, const std::string& p) {
    TypePtr t = cluster_.FindType(g, v, p);
    EXPECT_TRUE(t) << g << "/" << v << "/" << p;
    held_.push_back(t);
    return *t;
  }
  const ResourceType& ConfigMaps() { return Type("", "v1", "configmaps"); }
  json Create(const ResourceType& t, const std::string& ns, json body) {
    WriteContext ctx;
    auto r = cluster_.Create(t, ns, body, ctx);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message());
    return r.ok() ? r.value().object : json();
  }
  // Polls until `done` holds or 10 s pass (controllers run asynchronously).
  bool Eventually(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  }

  Cluster cluster_;
  std::vector<TypePtr> held_;
};

TEST_F(ClusterTest, DefaultNamespacesExist) {
  const ResourceType& ns = Type("", "v1", "namespaces");
  for (const char* name : {"default", "kube-system", "kube-public"}) {
    auto r = cluster_.Get(ns, "", name);
    ASSERT_TRUE(r.ok()) << name;
    EXPECT_EQ(r.value()["status"]["phase"], "Active");
    EXPECT_EQ(r.value()["spec"]["finalizers"], json({"kubernetes"}));
  }
}

// What kube-apiserver's SetDefaults_PodSpec and friends fill in, in pods and in the pod
// templates of workloads (kubectl describe prints probes and env from these fields).
TEST_F(ClusterTest, PodSpecDefaultsInPodsAndTemplates) {
  json spec = json::parse(R"({
    "containers":[{"name":"c","image":"app:1.2",
      "ports":[{"containerPort":8080}],
      "env":[{"name":"POD","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],
      "livenessProbe":{"httpGet":{"port":8080}},
      "readinessProbe":{"tcpSocket":{"port":8080},"periodSeconds":2},
      "lifecycle":{"preStop":{"httpGet":{"port":8080,"path":"/stop"}}}},
     {"name":"latest","image":"registry:5000/tool"}],
    "volumes":[{"name":"cm","configMap":{"name":"x"}},
               {"name":"tok","projected":{"sources":[{"serviceAccountToken":{"path":"t"}}]}}]})");
  json pod =
      Create(Type("", "v1", "pods"), "default", {{"metadata", {{"name", "p"}}}, {"spec", spec}});
  json deploy =
      Create(Type("apps", "v1", "deployments"), "default",
             {{"metadata", {{"name", "d"}}},
              {"spec",
               {{"selector", {{"matchLabels", {{"a", "b"}}}}},
                {"template", {{"metadata", {{"labels", {{"a", "b"}}}}}, {"spec", spec}}}}}});
  for (const json& s : {pod["spec"], deploy["spec"]["template"]["spec"]}) {
    const json& c = s["containers"][0];
    EXPECT_EQ(c["imagePullPolicy"], "IfNotPresent");
    EXPECT_EQ(s["containers"][1]["imagePullPolicy"], "Always") << "no tag means :latest";
    EXPECT_EQ(c["terminationMessagePath"], "/dev/termination-log");
    EXPECT_EQ(c["terminationMessagePolicy"], "File");
    EXPECT_EQ(c["ports"][0]["protocol"], "TCP");
    EXPECT_EQ(c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
    EXPECT_EQ(c["livenessProbe"],
              json::parse(R"({"httpGet":{"port":8080,"path":"/","scheme":"HTTP"},
                "timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3})"));
    EXPECT_EQ(c["readinessProbe"]["periodSeconds"], 2) << "what is set stays";
    EXPECT_EQ(c["readinessProbe"]["failureThreshold"], 3);
    EXPECT_EQ(c["lifecycle"]["preStop"]["httpGet"]["path"], "/stop");
    EXPECT_EQ(c["lifecycle"]["preStop"]["httpGet"]["scheme"], "HTTP");
    EXPECT_EQ(s["volumes"][0]["configMap"]["defaultMode"], 420);
    EXPECT_EQ(s["volumes"][1]["projected"]["defaultMode"], 420);
    EXPECT_EQ(
        s["volumes"][1]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
        3600);
    EXPECT_EQ(s["restartPolicy"], "Always");
    EXPECT_EQ(s["dnsPolicy"], "ClusterFirst");
    EXPECT_EQ(s["schedulerName"], "default-scheduler");
    EXPECT_EQ(s["terminationGracePeriodSeconds"], 30);
    EXPECT_EQ(s["securityContext"], json::object());
  }
}

TEST_F(ClusterTest, CreateSetsServerOwnedMetadata) {
  json cm = Create(ConfigMaps(), "default",
                   {{"metadata", {{"generateName", "cm-"}}}, {"data", {{"a", "1"}}}});
  const json& md = cm["metadata"];
  EXPECT_EQ(md["name"].get<std::string>().size(), 8u);
  EXPECT_EQ(md["namespace"], "default");
  EXPECT_EQ(md["uid"].get<std::string>().size(), 36u);
  EXPECT_EQ(md["generation"], 1);
  EXPECT_FALSE(md["creationTimestamp"].get<std::string>().empty());
  EXPECT_EQ(cm["apiVersion"], "v1");
  EXPECT_EQ(cm["kind"], "ConfigMap");

  WriteContext ctx;
  auto dup = cluster_.Create(ConfigMaps(), "default", cm, ctx);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code(), 409);
  EXPECT_EQ(dup.error().message(),
            "configmaps \"" + md["name"].get<std::string>() + "\" already exists");

  auto missing_ns = cluster_.Create(ConfigMaps(), "nope", {{"metadata", {{"name", "x"}}}}, ctx);
  ASSERT_FALSE(missing_ns.ok());
  EXPECT_EQ(missing_ns.error().message(), "namespaces \"nope\" not found");
}

TEST_F(ClusterTest, UpdateChecksResourceVersionAndKeepsItOnNoOp) {
  json cm =
      Create(ConfigMaps(), "default", {{"metadata", {{"name", "u"}}}, {"data", {{"a", "1"}}}});
  WriteContext ctx;
  auto same = cluster_.Update(ConfigMaps(), "default", "u", cm, ctx);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same.value().object["metadata"]["resourceVersion"], cm["metadata"]["resourceVersion"]);

  json changed = cm;
  changed["data"]["a"] = "2";
  auto ok = cluster_.Update(ConfigMaps(), "default", "u", changed, ctx);
  ASSERT_TRUE(ok.ok());
  auto stale = cluster_.Update(ConfigMaps(), "default", "u", changed, ctx);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), 409);
  EXPECT_EQ(stale.error().reason(), "Conflict");
}

TEST_F(ClusterTest, CrdServesValidatesAndSplitsStatus) {
  Create(Type("apiextensions.k8s.io", "v1", "customresourcedefinitions"), "", kCrd);
  const ResourceType& widgets = Type("example.com", "v1", "widgets");
  json w = Create(widgets, "default",
                  {{"apiVersion", "example.com/v1"},
                   {"kind", "Widget"},
                   {"metadata", {{"name", "w"}}},
                   {"spec", {{"replicas", 2}}},
                   {"status", {{"replicas", 9}}}});
  EXPECT_FALSE(w.contains("status")) << "status is written through /status only";

  WriteContext ctx;
  auto status =
      cluster_.Patch(widgets, "default", "w", PatchType::kMerge,
                     {{"status", {{"replicas", 2}}}, {"spec", {{"replicas", 50}}}}, ctx, "status");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status.value().object["status"]["replicas"], 2);
  EXPECT_EQ(status.value().object["spec"]["replicas"], 2);
  EXPECT_EQ(status.value().object["metadata"]["generation"], 1)
      << "status does not bump generation";

  auto scaled = cluster_.PatchScale(widgets, "default", "w", PatchType::kMerge,
                                    {{"spec", {{"replicas", 5}}}}, ctx);
  ASSERT_TRUE(scaled.ok());
  EXPECT_EQ(scaled.value().object["spec"]["replicas"], 5);
  EXPECT_EQ(scaled.value().object["status"]["replicas"], 2);
  EXPECT_EQ(cluster_.Get(widgets, "default", "w").value()["metadata"]["generation"], 2);

  auto invalid = cluster_.Patch(widgets, "default", "w", PatchType::kMerge,
                                {{"spec", {{"replicas", -1}}}}, ctx);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code(), 422);

  auto smp = cluster_.Patch(widgets, "default", "w", PatchType::kStrategic,
                            {{"spec", {{"replicas", 1}}}}, ctx);
  ASSERT_FALSE(smp.ok());
  EXPECT_EQ(smp.error().code(), 415);

  ASSERT_TRUE(cluster_
                  .Delete(Type("apiextensions.k8s.io", "v1", "customresourcedefinitions"), "",
                          "widgets.example.com", {})
                  .ok());
  EXPECT_FALSE(cluster_.FindType("example.com", "v1", "widgets"));
}

TEST_F(ClusterTest, FinalizersDelayDeletion) {
  Create(ConfigMaps(), "default",
         {{"metadata", {{"name", "f"}, {"finalizers", {"example.com/x"}}}}});
  auto del = cluster_.Delete(ConfigMaps(), "default", "f", {});
  ASSERT_TRUE(del.ok());
  json obj = cluster_.Get(ConfigMaps(), "default", "f").value();
  EXPECT_TRUE(obj["metadata"].contains("deletionTimestamp"));
  obj["metadata"]["finalizers"] = json::array();
  WriteContext ctx;
  ASSERT_TRUE(cluster_.Update(ConfigMaps(), "default", "f", obj, ctx).ok());
  EXPECT_FALSE(cluster_.Get(ConfigMaps(), "default", "f").ok());
}

TEST_F(ClusterTest, GarbageCollectorAndNamespaceController) {
  ControllerManager controllers(cluster_);
  controllers.Add(NewGarbageCollector(cluster_));
  controllers.Add(NewNamespaceController(cluster_, 0));
  controllers.Start();
  const ResourceType& ns = Type("", "v1", "namespaces");
  Create(ns, "", {{"metadata", {{"name", "gc"}}}});
  json owner = Create(ConfigMaps(), "gc", {{"metadata", {{"name", "owner"}}}});
  json ref = {{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"name", "owner"},
              {"uid", owner["metadata"]["uid"]}};
  Create(ConfigMaps(), "gc", {{"metadata", {{"name", "dep"}, {"ownerReferences", {ref}}}}});
  ASSERT_TRUE(cluster_.Delete(ConfigMaps(), "gc", "owner", {}).ok());
  EXPECT_TRUE(Eventually([&] { return !cluster_.Get(ConfigMaps(), "gc", "dep").ok(); }));

  ASSERT_TRUE(cluster_.Delete(ns, "", "gc", {}).ok());
  EXPECT_EQ(cluster_.Get(ns, "", "gc").value()["status"]["phase"], "Terminating");
  WriteContext ctx;
  auto refused = cluster_.Create(ConfigMaps(), "gc", {{"metadata", {{"name", "late"}}}}, ctx);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), 403);
  EXPECT_TRUE(Eventually([&] { return !cluster_.Get(ns, "", "gc").ok(); }));
  controllers.Stop();
}

}  // namespace
}  // namespace shardwise::kubesim
