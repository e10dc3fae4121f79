// Guards the CRDs in crds/: their schemas must be structural, the printer-column and scale
// paths must exist, the status fields the pool controller writes must not be pruned, and the
// monitor fixtures used by discovery's tests must validate against the monitor CRDs.
// (It lives here because crds/ has no build of its own.)
#include <gtest/gtest.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "operator/discovery/testing.h"

namespace shardwise::opdiscovery {
namespace {

YAML::Node LoadCrd(const std::string& relative) {
  return YAML::LoadFile(std::string(SHARDWISE_CRDS_DIR) + "/" + relative);
}

YAML::Node RootSchema(const YAML::Node& crd) {
  return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
}

// Structural-schema rules the API server enforces (the subset our CRDs can break).
void CheckStructural(const YAML::Node& n, const std::string& path,
                     std::vector<std::string>* errors) {
  bool typed = n["type"].IsDefined() || n["x-kubernetes-int-or-string"].IsDefined() ||
               n["x-kubernetes-preserve-unknown-fields"].IsDefined();
  if (!typed) errors->push_back(path + ": no type");
  std::string type = n["type"].IsDefined() ? n["type"].as<std::string>() : "";
  if (n["properties"].IsDefined() && type != "object") errors->push_back(path + ": properties");
  if (type == "array" && !n["items"].IsDefined()) errors->push_back(path + ": array, no items");
  if (n["default"].IsDefined()) {
    if (n["enum"].IsDefined()) {
      bool found = false;
      for (const auto& e : n["enum"]) found = found || e.Scalar() == n["default"].Scalar();
      if (!found) errors->push_back(path + ": default not in enum");
    }
    if (n["pattern"].IsDefined() &&
        !RE2::PartialMatch(n["default"].Scalar(), RE2(n["pattern"].Scalar()))) {
      errors->push_back(path + ": default does not match pattern");
    }
  }
  if (n["required"].IsDefined()) {
    for (const auto& r : n["required"]) {
      if (!n["properties"].IsDefined() || !n["properties"][r.Scalar()].IsDefined()) {
        errors->push_back(path + ": required " + r.Scalar() + " is not a property");
      }
    }
  }
  if (n["properties"].IsDefined()) {
    for (const auto& kv : n["properties"]) {
      CheckStructural(kv.second, path + "." + kv.first.Scalar(), errors);
    }
  }
  if (n["items"].IsDefined()) CheckStructural(n["items"], path + "[]", errors);
  if (n["additionalProperties"].IsDefined() && n["additionalProperties"].IsMap()) {
    CheckStructural(n["additionalProperties"], path + "{}", errors);
  }
}

// The schema node for a dotted path (".status.shards"), or an undefined node.
YAML::Node Resolve(const YAML::Node& root, const std::string& json_path) {
  YAML::Node schema = YAML::Clone(root);
  size_t start = 1;
  while (start <= json_path.size()) {
    size_t end = json_path.find('.', start);
    if (end == std::string::npos) end = json_path.size();
    // reset(), not operator=: assigning a yaml-cpp node writes into the node it refers to.
    const YAML::Node& current = schema;
    schema.reset(current["properties"][json_path.substr(start, end - start)]);
    if (!schema.IsDefined()) return schema;
    start = end + 1;
  }
  return schema;
}

// Validates a JSON value against a schema: types, enums, patterns, minimums, and fields the
// API server would prune (unknown and not under x-kubernetes-preserve-unknown-fields).
void Validate(const nlohmann::json& v, const YAML::Node& s, const std::string& path,
              std::vector<std::string>* errors) {
  if (s["x-kubernetes-int-or-string"].IsDefined()) {
    if (!v.is_string() && !v.is_number_integer()) errors->push_back(path + ": int-or-string");
    return;
  }
  std::string type = s["type"].IsDefined() ? s["type"].as<std::string>() : "";
  if (type == "object") {
    if (!v.is_object()) return errors->push_back(path + ": want object");
    bool preserve = s["x-kubernetes-preserve-unknown-fields"].IsDefined();
    const YAML::Node props = s["properties"];
    for (const auto& [k, child] : v.items()) {
      if (props.IsDefined() && props[k].IsDefined()) {
        Validate(child, s["properties"][k], path + "." + k, errors);
      } else if (s["additionalProperties"].IsDefined() && s["additionalProperties"].IsMap()) {
        Validate(child, s["additionalProperties"], path + "." + k, errors);
      } else if (!preserve) {
        errors->push_back(path + "." + k + ": would be pruned");
      }
    }
  } else if (type == "array") {
    if (!v.is_array()) return errors->push_back(path + ": want array");
    for (size_t i = 0; i < v.size(); ++i) {
      Validate(v[i], s["items"], path + "[" + std::to_string(i) + "]", errors);
    }
  } else if (type == "string") {
    if (!v.is_string()) return errors->push_back(path + ": want string");
    std::string str = v.get<std::string>();
    if (s["pattern"].IsDefined() && !RE2::PartialMatch(str, RE2(s["pattern"].Scalar()))) {
      errors->push_back(path + ": pattern");
    }
    if (s["enum"].IsDefined()) {
      bool found = false;
      for (const auto& e : s["enum"]) found = found || e.Scalar() == str;
      if (!found) errors->push_back(path + ": not in enum");
    }
  } else if (type == "integer") {
    if (!v.is_number_integer()) return errors->push_back(path + ": want integer");
    if (s["minimum"].IsDefined() && v.get<double>() < s["minimum"].as<double>()) {
      errors->push_back(path + ": below minimum");
    }
  } else if (type == "number") {
    if (!v.is_number()) errors->push_back(path + ": want number");
  } else if (type == "boolean") {
    if (!v.is_boolean()) errors->push_back(path + ": want boolean");
  }
}

const char* const kCrds[] = {
    "monitoring.coreos.com/servicemonitors.yaml",
    "monitoring.coreos.com/podmonitors.yaml",
    "shardwise.io/scrapepools.yaml",
    "shardwise.io/scrapeshards.yaml",
};

TEST(CrdSchemaTest, StructuralWithResolvableColumns) {
  for (const char* file : kCrds) {
    YAML::Node crd = LoadCrd(file);
    EXPECT_EQ(crd["apiVersion"].as<std::string>(), "apiextensions.k8s.io/v1") << file;
    std::vector<std::string> errors;
    CheckStructural(RootSchema(crd), file, &errors);
    EXPECT_TRUE(errors.empty()) << ::testing::PrintToString(errors);
    for (const auto& col : crd["spec"]["versions"][0]["additionalPrinterColumns"]) {
      std::string p = col["jsonPath"].as<std::string>();
      if (p.starts_with(".metadata.")) continue;
      EXPECT_TRUE(Resolve(RootSchema(crd), p).IsDefined()) << file << " column " << p;
    }
  }
}

TEST(CrdSchemaTest, ScaleSubresourcePointsAtIntegers) {
  YAML::Node crd = LoadCrd("shardwise.io/scrapepools.yaml");
  YAML::Node scale = crd["spec"]["versions"][0]["subresources"]["scale"];
  ASSERT_TRUE(scale.IsDefined());
  for (const char* key : {"specReplicasPath", "statusReplicasPath"}) {
    YAML::Node n = Resolve(RootSchema(crd), scale[key].as<std::string>());
    ASSERT_TRUE(n.IsDefined()) << key;
    EXPECT_EQ(n["type"].as<std::string>(), "integer") << key;
  }
  YAML::Node selector = Resolve(RootSchema(crd), scale["labelSelectorPath"].as<std::string>());
  ASSERT_TRUE(selector.IsDefined());
  EXPECT_EQ(selector["type"].as<std::string>(), "string");
}

// Status objects shaped as operator/pool/pool_controller.cc writes them: a field missing
// from the schema would be pruned silently by the API server.
TEST(CrdSchemaTest, ControllerStatusSurvivesPruning) {
  auto pool_status = nlohmann::json::parse(R"({
    "observedGeneration": 3, "shards": 2, "desiredShards": 3, "readyShards": 2,
    "availableShards": 2, "selector": "app.kubernetes.io/name=shardwise-scraper",
    "targets": 120, "monitors": 4, "series": 50000, "samplesPerSecond": 1666.5,
    "autoscaling": {"mode": "Operator", "desiredShards": 3, "recommendedShards": 3,
                    "reason": "50k series over a target of 20k per shard",
                    "held": "scale-down to 2 waits for the 600s stabilization window",
                    "lastScaleTime": "2026-11-21T08:00:00Z",
                    "lastScaleReason": "2 -> 3: 50k series over a target of 20k per shard",
                    "recommendations": [{"time": "2026-11-21T08:00:00Z", "shards": 3,
                                         "reason": "50k series over a target of 20k per shard"}]},
    "conditions": [{"type": "Available", "status": "True", "reason": "AllShardsReporting",
                    "message": "2 of 2 shards report load",
                    "lastTransitionTime": "2026-11-21T08:00:00Z"}]})");
  auto shard_status = nlohmann::json::parse(R"({
    "phase": "Active", "pods": ["pool-0-0", "pool-0-1"], "targets": 60, "handingOff": 2,
    "assignedWeight": 25000.0, "activeSeries": 25000, "samplesPerSecond": 833.2,
    "saturation": 0.4, "remoteWriteLagSeconds": 1.5,
    "lastHeartbeat": "2026-11-21T08:00:00Z"})");
  std::vector<std::string> errors;
  Validate(pool_status, Resolve(RootSchema(LoadCrd("shardwise.io/scrapepools.yaml")), ".status"),
           "ScrapePool.status", &errors);
  Validate(shard_status, Resolve(RootSchema(LoadCrd("shardwise.io/scrapeshards.yaml")), ".status"),
           "ScrapeShard.status", &errors);
  EXPECT_TRUE(errors.empty()) << ::testing::PrintToString(errors);
}

TEST(CrdSchemaTest, MonitorFixturesValidate) {
  auto monitors = testing::LoadJson("monitors.json");
  YAML::Node sm = RootSchema(LoadCrd("monitoring.coreos.com/servicemonitors.yaml"));
  YAML::Node pm = RootSchema(LoadCrd("monitoring.coreos.com/podmonitors.yaml"));
  for (const auto& [name, m] : monitors.items()) {
    // The API server would reject this one (duration pattern); discovery still copes with it,
    // as objects can predate the CRD or come from clusters with the operator's own CRDs.
    if (name == "bad_duration") continue;
    std::vector<std::string> errors;
    Validate(m["spec"],
             m["kind"] == "PodMonitor" ? pm["properties"]["spec"] : sm["properties"]["spec"],
             name + ".spec", &errors);
    EXPECT_TRUE(errors.empty()) << ::testing::PrintToString(errors);
  }
  // And the validator does reject what the schema forbids.
  std::vector<std::string> errors;
  Validate(nlohmann::json::parse(R"({"selector": {}, "endpoints": [{"scheme": "ftp",
             "interval": "10 seconds", "relabelings": [{"action": "rename"}]}]})"),
           sm["properties"]["spec"], "bad", &errors);
  EXPECT_EQ(errors.size(), 3u) << ::testing::PrintToString(errors);
}

TEST(CrdSchemaTest, SamplePoolValidates) {
  auto pool = nlohmann::json::parse(R"({
    "serviceMonitorSelector": {"matchLabels": {"team": "a"}}, "podMonitorSelector": {},
    "shards": 2, "replicasPerShard": 2,
    "autoscaling": {"mode": "Operator", "minShards": 1, "maxShards": 8,
                    "targetSeriesPerShard": 1000000},
    "assignment": {"strategy": "consistent-bounded", "loadFactor": 1.25, "handoffTimeout": "2m"},
    "scrapeDefaults": {"interval": "30s", "timeout": "10s"},
    "externalLabels": {"cluster": "prod"},
    "remoteWrite": [{"url": "http://vm:8428/api/v1/write", "name": "vm",
                     "queueConfig": {"maxShards": 10},
                     "writeRelabelConfigs": [{"sourceLabels": ["__name__"], "regex": "go_.*",
                                              "action": "drop"}]}],
    "storage": {"retention": "2h", "volumeClaimTemplate": {"spec": {"resources": {}}}},
    "scraper": {"image": "shardwise/scraper:dev", "resources": {"limits": {"cpu": "1", "memory": 1073741824}},
                "args": ["--log.level=debug"], "env": [{"name": "A", "value": "b"}],
                "nodeSelector": {"pool": "infra"}, "tolerations": [{"operator": "Exists"}]}})");
  std::vector<std::string> errors;
  Validate(pool, Resolve(RootSchema(LoadCrd("shardwise.io/scrapepools.yaml")), ".spec"),
           "ScrapePool.spec", &errors);
  EXPECT_TRUE(errors.empty()) << ::testing::PrintToString(errors);
}

}  // namespace
}  // namespace shardwise::opdiscovery
