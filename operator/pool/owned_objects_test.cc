#include "operator/pool/owned_objects.h"

#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>
#include <set>

namespace shardwise::pool {
namespace {

using nlohmann::json;

PoolSpec Spec() {
  PoolSpec s;
  s.ns = "mon";
  s.name = "main";
  s.uid = "uid-1";
  s.shards = 3;
  s.replicas_per_shard = 2;
  s.external_labels = Labels{{"cluster", "c1"}};
  s.remote_write = json::array(
      {{{"url", "https://vm/api/v1/write"},
        {"name", "vm"},
        {"basicAuth",
         {{"username", {{"name", "rw"}, {"key", "user"}}},
          {"password", {{"name", "rw"}, {"key", "pass"}}}}},
        {"queueConfig", {{"maxSamplesPerSend", 500}, {"batchSendDeadline", "2s"}}},
        {"writeRelabelConfigs",
         json::array(
             {{{"sourceLabels", {"__name__"}}, {"regex", "go_.*"}, {"action", "Drop"}}})}}});
  return s;
}

TEST(OwnedObjectsTest, StatefulSetPerReplicaWithDownwardApiAndOwner) {
  OperatorSettings settings;
  settings.operator_url = "http://shardwise-operator.mon:8080";
  json sts = BuildStatefulSet(Spec(), 1, 3, settings);
  EXPECT_EQ(sts["metadata"]["name"], "shardwise-main-1");
  EXPECT_EQ(sts["spec"]["replicas"], 3);
  EXPECT_EQ(sts["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  EXPECT_EQ(sts["metadata"]["ownerReferences"][0]["controller"], true);
  const json& c = sts["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["env"][0]["name"], "POD_NAME");
  EXPECT_EQ(c["readinessProbe"]["periodSeconds"], 2);
  // A long WAL replay is covered by the startup probe, not cut short by liveness.
  EXPECT_EQ(c["startupProbe"]["httpGet"]["path"], "/healthz");
  EXPECT_GE(c["startupProbe"]["periodSeconds"].get<int>() *
                c["startupProbe"]["failureThreshold"].get<int>(),
            30 * 60);
  EXPECT_EQ(c["env"][0]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");
  bool has_operator_url = false, has_replica_label = false;
  for (const auto& a : c["args"]) {
    has_operator_url |= a == "--operator-url=http://shardwise-operator.mon:8080";
    has_replica_label |= a == "--remote-write.replica-label=shardwise_replica";
  }
  EXPECT_TRUE(has_operator_url);
  EXPECT_TRUE(has_replica_label);
  EXPECT_EQ(sts["spec"]["template"]["spec"]["terminationGracePeriodSeconds"], 120);
  EXPECT_TRUE(sts["spec"]["template"]["spec"]["affinity"].contains("podAntiAffinity"));
  // The remote-write Secret is mounted where the generated config expects it.
  bool mounted = false;
  for (const auto& m : c["volumeMounts"]) mounted |= m["mountPath"] == "/etc/shardwise/secrets/rw";
  EXPECT_TRUE(mounted);
  EXPECT_EQ(sts["spec"]["selector"]["matchLabels"]["shardwise.io/replica"], "1");
}

TEST(OwnedObjectsTest, ScraperPodsHoldOnlyAProjectedShardwiseTokenAndRunLocked) {
  OperatorSettings settings;
  settings.operator_url = "https://shardwise-operator.mon:8443";
  settings.operator_ca_config_map = "shardwise-operator-ca";
  json sts = BuildStatefulSet(Spec(), 0, 2, settings);
  const json& pod = sts["spec"]["template"]["spec"];
  EXPECT_EQ(pod["serviceAccountName"], "shardwise-main-scraper");
  EXPECT_EQ(pod["automountServiceAccountToken"], false);
  EXPECT_EQ(pod["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
  const json& c = pod["containers"][0];
  EXPECT_EQ(c["securityContext"]["allowPrivilegeEscalation"], false);
  EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(c["securityContext"]["capabilities"]["drop"], json::array({"ALL"}));
  json projected;
  for (const auto& v : pod["volumes"]) {
    if (v["name"] == "operator-credentials") projected = v["projected"]["sources"];
  }
  ASSERT_EQ(projected.size(), 2u);
  EXPECT_EQ(projected[0]["serviceAccountToken"]["audience"], "shardwise");
  EXPECT_EQ(projected[0]["serviceAccountToken"]["path"], "token");
  EXPECT_EQ(projected[1]["configMap"]["name"], "shardwise-operator-ca");
  std::set<std::string> args(c["args"].begin(), c["args"].end());
  EXPECT_TRUE(args.count("--operator.token-file=/var/run/secrets/shardwise.io/operator/token"));
  EXPECT_TRUE(args.count("--operator.ca-file=/var/run/secrets/shardwise.io/operator/ca.crt"));
  bool mounted_read_only = false;
  for (const auto& m : c["volumeMounts"]) {
    if (m["name"] == "operator-credentials") mounted_read_only = m["readOnly"] == true;
  }
  EXPECT_TRUE(mounted_read_only);
  json sa = BuildServiceAccount(Spec());
  EXPECT_EQ(sa["metadata"]["name"], "shardwise-main-scraper");
  EXPECT_EQ(sa["automountServiceAccountToken"], false);
  EXPECT_EQ(sa["metadata"]["ownerReferences"][0]["controller"], true);
}

TEST(OwnedObjectsTest, ScraperConfigTranslatesRemoteWrite) {
  YAML::Node cfg = YAML::Load(BuildScraperConfig(Spec()));
  EXPECT_EQ(cfg["global"]["external_labels"]["cluster"].as<std::string>(), "c1");
  YAML::Node rw = cfg["remote_write"][0];
  EXPECT_EQ(rw["url"].as<std::string>(), "https://vm/api/v1/write");
  EXPECT_EQ(rw["basic_auth"]["password_file"].as<std::string>(), "/etc/shardwise/secrets/rw/pass");
  EXPECT_EQ(rw["queue_config"]["max_samples_per_send"].as<int>(), 500);
  EXPECT_EQ(rw["queue_config"]["batch_send_deadline"].as<std::string>(), "2s");
  EXPECT_EQ(rw["write_relabel_configs"][0]["action"].as<std::string>(), "drop");
  EXPECT_EQ(rw["write_relabel_configs"][0]["source_labels"][0].as<std::string>(), "__name__");
}

TEST(OwnedObjectsTest, ServicePdbShard) {
  json svc = BuildService(Spec());
  EXPECT_EQ(svc["spec"]["clusterIP"], "None");
  EXPECT_EQ(svc["spec"]["selector"]["shardwise.io/pool"], "main");
  json pdb = BuildPodDisruptionBudget(Spec());
  EXPECT_EQ(pdb["spec"]["maxUnavailable"], 1);
  json shard = BuildScrapeShard(Spec(), 2);
  EXPECT_EQ(shard["metadata"]["name"], "main-2");
  EXPECT_EQ(shard["spec"]["index"], 2);
  EXPECT_EQ(PodSelector(Spec()), "shardwise.io/pool=main");
}

}  // namespace
}  // namespace shardwise::pool
