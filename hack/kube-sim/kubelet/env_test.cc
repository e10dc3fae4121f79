#include "hack/kube-sim/kubelet/env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/base64.h"
#include "hack/kube-sim/kubelet/image_map.h"

namespace shardwise::kubesim {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Pair;

TEST(ExpandVarsTest, KubernetesSemantics) {
  std::map<std::string, std::string> vars = {{"A", "1"}, {"POD_IP", "127.1.0.4"}};
  EXPECT_EQ(ExpandVars("$(POD_IP):8080", vars), "127.1.0.4:8080");
  EXPECT_EQ(ExpandVars("$(A)$(A)-$(MISSING)", vars), "11-$(MISSING)");
  EXPECT_EQ(ExpandVars("$$(A) costs $$5", vars), "$(A) costs $5");
  EXPECT_EQ(ExpandVars("$A $( $(A", vars), "$A $( $(A");
  EXPECT_EQ(ExpandVars("tail$", vars), "tail$");
}

json TestPod() {
  return {
      {"metadata",
       {{"name", "web-0"}, {"namespace", "prod"}, {"uid", "u-1"}, {"labels", {{"app", "web"}}}}},
      {"spec", {{"nodeName", "node-2"}, {"serviceAccountName", "sa"}}},
      {"status", {{"podIP", "127.1.0.9"}, {"podIPs", {{{"ip", "127.1.0.9"}}}}}}};
}

EnvSources Sources() {
  EnvSources s;
  s.config_map = [](const std::string& name) -> std::optional<json> {
    if (name != "cfg") return std::nullopt;
    return json{{"data", {{"level", "debug"}, {"mode", "fast"}}}};
  };
  s.secret = [](const std::string& name) -> std::optional<json> {
    if (name != "creds") return std::nullopt;
    return json{{"data", {{"password", Base64Encode("s3cret")}}}};
  };
  s.api_host = "127.0.0.1";
  s.api_port = 6443;
  s.node_memory = 8589934592.0;
  s.node_cpu = 4;
  s.services = {{{"metadata", {{"name", "my-db"}}},
                 {"spec",
                  {{"clusterIP", "127.96.0.12"},
                   {"ports", {{{"name", "sql"}, {"port", 5432}, {"protocol", "TCP"}}}}}}}};
  return s;
}

TEST(BuildContainerEnvTest, AllSources) {
  json c = {
      {"name", "app"},
      {"envFrom", {{{"configMapRef", {{"name", "cfg"}}}, {"prefix", "CFG_"}}}},
      {"resources", {{"limits", {{"memory", "256Mi"}}}}},
      {"env",
       {{{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
        {{"name", "NS"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.namespace"}}}}}},
        {{"name", "IP"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "status.podIP"}}}}}},
        {{"name", "NODE"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "spec.nodeName"}}}}}},
        {{"name", "APP"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.labels['app']"}}}}}},
        {{"name", "ADDR"}, {"value", "$(IP):8080 for $(POD_NAME)"}},
        {{"name", "MEM"},
         {"valueFrom",
          {{"resourceFieldRef", {{"resource", "limits.memory"}, {"divisor", "1Mi"}}}}}},
        {{"name", "CPU"}, {"valueFrom", {{"resourceFieldRef", {{"resource", "limits.cpu"}}}}}},
        {{"name", "PASS"},
         {"valueFrom", {{"secretKeyRef", {{"name", "creds"}, {"key", "password"}}}}}},
        {{"name", "LEVEL"},
         {"valueFrom", {{"configMapKeyRef", {{"name", "cfg"}, {"key", "level"}}}}}},
        {{"name", "OPT"},
         {"valueFrom",
          {{"configMapKeyRef", {{"name", "nope"}, {"key", "k"}, {"optional", true}}}}}},
        {{"name", "DB"}, {"value", "$(MY_DB_SERVICE_HOST)"}}}}};
  auto env = BuildContainerEnv(TestPod(), c, Sources());
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  std::map<std::string, std::string> m(env->begin(), env->end());
  EXPECT_EQ(m["CFG_level"], "debug");
  EXPECT_EQ(m["POD_NAME"], "web-0");
  EXPECT_EQ(m["NS"], "prod");
  EXPECT_EQ(m["NODE"], "node-2");
  EXPECT_EQ(m["APP"], "web");
  EXPECT_EQ(m["ADDR"], "127.1.0.9:8080 for web-0");
  EXPECT_EQ(m["MEM"], "256");
  EXPECT_EQ(m["CPU"], "4");
  EXPECT_EQ(m["PASS"], "s3cret");
  EXPECT_EQ(m["LEVEL"], "debug");
  EXPECT_EQ(m.count("OPT"), 0u);
  EXPECT_EQ(m["DB"], "127.96.0.12");
  EXPECT_EQ(m["MY_DB_SERVICE_PORT_SQL"], "5432");
  EXPECT_EQ(m["MY_DB_PORT_5432_TCP"], "tcp://127.96.0.12:5432");
  EXPECT_EQ(m["KUBERNETES_SERVICE_HOST"], "127.0.0.1");
  EXPECT_EQ(m["KUBERNETES_SERVICE_PORT"], "6443");
}

TEST(BuildContainerEnvTest, MissingReferencesAreConfigErrors) {
  json c = {
      {"env",
       {{{"name", "X"}, {"valueFrom", {{"secretKeyRef", {{"name", "gone"}, {"key", "k"}}}}}}}}};
  auto env = BuildContainerEnv(TestPod(), c, Sources());
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().message(), "secret \"gone\" not found");
  c = {{"env",
        {{{"name", "X"}, {"valueFrom", {{"configMapKeyRef", {{"name", "cfg"}, {"key", "k"}}}}}}}}};
  env = BuildContainerEnv(TestPod(), c, Sources());
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().message(), "couldn't find key k in ConfigMap prod/cfg");
}

TEST(BuildArgvTest, CommandAndArgsOverrideTheImage) {
  auto images = ImageMap::Parse(
      "images:\n  shardwise/app:\n    command: [/bin/app]\n    args: [--default]\n");
  ASSERT_TRUE(images.ok()) << images.status().ToString();
  EnvList env = {{"POD_IP", "127.1.0.2"}};
  json c = {{"image", "shardwise/app:v1"}};
  EXPECT_THAT(*BuildArgv(c, *images, env), ElementsAre("/bin/app", "--default"));
  c["args"] = {"--listen=$(POD_IP):80"};
  EXPECT_THAT(*BuildArgv(c, *images, env), ElementsAre("/bin/app", "--listen=127.1.0.2:80"));
  c = {{"image", "registry.local:5000/shardwise/app@sha256:abc"}, {"command", {"sh"}}};
  EXPECT_FALSE(BuildArgv(c, *images, env).ok());  // another image name
  c = {{"image", "shardwise/app"}, {"command", {"sh", "-c"}}};
  EXPECT_THAT(*BuildArgv(c, *images, env), ElementsAre("sh", "-c"));  // default args dropped
  c = {{"image", "unknown/image"}};
  auto argv = BuildArgv(c, *images, env);
  ASSERT_FALSE(argv.ok());
  EXPECT_THAT(argv.status().message(), ::testing::HasSubstr("not in the simulator's image map"));
}

TEST(ImageMapTest, RejectsBadFiles) {
  EXPECT_FALSE(ImageMap::Parse("images: [a]").ok());
  EXPECT_FALSE(ImageMap::Parse("images:\n  x:\n    args: [a]\n").ok());
  EXPECT_FALSE(ImageMap::Parse("images:\n  x:\n    command: /bin/x\n").ok());
  EXPECT_FALSE(ImageMap::Parse("images:\n  x:\n    entrypoint: [a]\n").ok());
  EXPECT_FALSE(ImageMap::Parse("{{{").ok());
  auto m = ImageMap::Parse("images:\n  docker.io/library/nginx:1.2:\n    command: [/bin/nginx]\n");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->Find("nginx").has_value());
  EXPECT_TRUE(m->Find("docker.io/nginx:latest").has_value());
  EXPECT_EQ(ImageMap::StripTag("registry:5000/a/b:1@sha256:x"), "registry:5000/a/b");
}

}  // namespace
}  // namespace shardwise::kubesim
