#include "common/relabel/parse.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace shardwise::relabel {
namespace {

TEST(ParseYamlTest, PrometheusFieldsAndDefaults) {
  auto configs = ParseYaml(R"(
- source_labels: [__meta_kubernetes_pod_name, __meta_kubernetes_namespace]
  separator: /
  regex: (.+)/(.+)
  target_label: pod_ns
  replacement: $2.$1
- action: HashMod
  source_labels: [__address__]
  modulus: 8
  target_label: __tmp_hash
- source_labels: [a]
  target_label: b
)");
  ASSERT_TRUE(configs.ok()) << configs.status().ToString();
  ASSERT_EQ(configs->size(), 3u);
  const RelabelConfig& c0 = (*configs)[0];
  EXPECT_EQ(c0.source_labels, (std::vector<std::string>{"__meta_kubernetes_pod_name",
                                                        "__meta_kubernetes_namespace"}));
  EXPECT_EQ(c0.separator, "/");
  EXPECT_EQ(c0.regex, "(.+)/(.+)");
  EXPECT_EQ(c0.target_label, "pod_ns");
  EXPECT_EQ(c0.replacement, "$2.$1");
  EXPECT_EQ(c0.action, Action::kReplace);
  EXPECT_EQ((*configs)[1].action, Action::kHashMod);
  EXPECT_EQ((*configs)[1].modulus, 8u);
  const RelabelConfig& c2 = (*configs)[2];
  EXPECT_EQ(c2.separator, ";");
  EXPECT_EQ(c2.regex, "(.*)");
  EXPECT_EQ(c2.replacement, "$1");
}

TEST(ParseYamlTest, EmptyDocumentIsNoRules) {
  auto configs = ParseYaml("");
  ASSERT_TRUE(configs.ok());
  EXPECT_TRUE(configs->empty());
}

TEST(ParseYamlTest, ExplicitEmptySeparatorIsKept) {
  auto configs = ParseYaml("[{source_labels: [a, b], separator: '', target_label: c}]");
  ASSERT_TRUE(configs.ok());
  EXPECT_EQ((*configs)[0].separator, "");
}

TEST(ParseYamlTest, Errors) {
  struct Case {
    const char* yaml;
    const char* message_part;
  };
  const Case cases[] = {
      {"[{source_labels: [a], target_lable: b}]", "unknown field \"target_lable\""},
      {"[{action: rename}]", "unknown relabel action \"rename\""},
      {"[{source_labels: [a], regex: '[', action: keep}]", "invalid regex \"[\""},
      {"[{source_labels: [a], action: hashmod, target_label: h}]", "non-zero modulus"},
      {"[{source_labels: [a], modulus: -1, action: hashmod, target_label: h}]", "modulus"},
      {"[{source_labels: [a]}]", "requires a target_label"},
      {"{source_labels: [a]}", "must be a list"},
      {"[{source_labels: a}]", "must be a list"},
      {"[1, {target_label: x}]", "rule 0"},
      {"[{target_label: x}, {action: keep, regex: '(?<x'}]", "rule 1"},
      {"[ {", "YAML"},
  };
  for (const Case& c : cases) {
    auto configs = ParseYaml(c.yaml);
    ASSERT_FALSE(configs.ok()) << c.yaml;
    EXPECT_EQ(configs.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(configs.status().message().find(c.message_part), std::string::npos)
        << c.yaml << " -> " << configs.status().message();
  }
}

TEST(ParseJsonTest, OperatorCamelCaseFields) {
  auto configs = FromJson(nlohmann::json::parse(R"([
    {"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node",
     "action": "Replace"},
    {"sourceLabels": ["a", "b"], "separator": "", "regex": "", "targetLabel": "c",
     "replacement": ""},
    {"action": "LabelDrop", "regex": "tmp_.*"},
    {"sourceLabels": ["__address__"], "modulus": 4, "targetLabel": "__tmp_hash",
     "action": "hashmod"},
    {"sourceLabels": ["a"], "targetLabel": "b", "unknownField": true}
  ])"));
  ASSERT_TRUE(configs.ok()) << configs.status().ToString();
  ASSERT_EQ(configs->size(), 5u);
  EXPECT_EQ((*configs)[0].target_label, "node");
  EXPECT_EQ((*configs)[0].action, Action::kReplace);
  // Present but empty: separator and replacement are used, an empty regex means the default.
  EXPECT_EQ((*configs)[1].separator, "");
  EXPECT_EQ((*configs)[1].replacement, "");
  EXPECT_EQ((*configs)[1].regex, "(.*)");
  EXPECT_EQ((*configs)[2].action, Action::kLabelDrop);
  EXPECT_EQ((*configs)[2].regex, "tmp_.*");
  EXPECT_EQ((*configs)[3].modulus, 4u);
  EXPECT_EQ((*configs)[4].replacement, "$1");
}

TEST(ParseJsonTest, Errors) {
  struct Case {
    const char* json;
    const char* message_part;
  };
  const Case cases[] = {
      {R"([{"sourceLabels": ["a"], "regex": "(", "action": "keep"}])", "invalid regex"},
      {R"([{"sourceLabels": "a", "targetLabel": "b"}])", "sourceLabels must be a list"},
      {R"([{"targetLabel": "b", "modulus": -3, "action": "hashmod"}])", "modulus"},
      {R"([{"action": "hashmod", "targetLabel": "b"}])", "non-zero modulus"},
      {R"([{"action": "nope"}])", "unknown relabel action"},
      {R"({"action": "keep"})", "must be a list"},
  };
  for (const Case& c : cases) {
    auto configs = FromJson(nlohmann::json::parse(c.json));
    ASSERT_FALSE(configs.ok()) << c.json;
    EXPECT_NE(configs.status().message().find(c.message_part), std::string::npos)
        << c.json << " -> " << configs.status().message();
  }
}

TEST(ParseJsonTest, NullIsNoRules) {
  auto configs = FromJson(nlohmann::json());
  ASSERT_TRUE(configs.ok());
  EXPECT_TRUE(configs->empty());
}

}  // namespace
}  // namespace shardwise::relabel
