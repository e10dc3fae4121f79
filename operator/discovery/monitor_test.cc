#include "operator/discovery/monitor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace shardwise::opdiscovery {
namespace {

using nlohmann::json;

TEST(LabelSelectorTest, KubernetesSemantics) {
  auto sel = ParseLabelSelector(json::parse(R"({
    "matchLabels": {"app": "web"},
    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]},
                         {"key": "legacy", "operator": "DoesNotExist"}]})"),
                                "spec.selector");
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  EXPECT_TRUE(sel->Matches({{"app", "web"}, {"tier", "fe"}}));
  EXPECT_FALSE(sel->Matches({{"app", "web"}, {"tier", "db"}}));
  EXPECT_FALSE(sel->Matches({{"app", "web"}, {"tier", "fe"}, {"legacy", ""}}));
  EXPECT_FALSE(sel->Matches({{"tier", "fe"}}));
  // Values are compared literally here (the generated relabeling uses them as regexes).
  EXPECT_FALSE(sel->Matches({{"app", "w.b"}, {"tier", "fe"}}));

  auto empty = ParseLabelSelector(json::object(), "s");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->Matches({}));

  auto not_in = ParseLabelSelector(
      json::parse(R"({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["x"]},
                                           {"key": "b", "operator": "Exists"}]})"),
      "s");
  ASSERT_TRUE(not_in.ok());
  EXPECT_TRUE(not_in->Matches({{"b", "1"}}));
  EXPECT_FALSE(not_in->Matches({{"a", "x"}, {"b", "1"}}));
  EXPECT_FALSE(not_in->Matches({{"a", "y"}}));
}

TEST(LabelSelectorTest, Errors) {
  auto bad_op = ParseLabelSelector(
      json::parse(R"({"matchExpressions": [{"key": "a", "operator": "Like"}]})"), "spec.sel");
  ASSERT_FALSE(bad_op.ok());
  EXPECT_NE(bad_op.status().message().find("spec.sel.matchExpressions[0].operator"),
            std::string::npos)
      << bad_op.status().message();
  auto no_values = ParseLabelSelector(
      json::parse(R"({"matchExpressions": [{"key": "a", "operator": "In"}]})"), "s");
  EXPECT_FALSE(no_values.ok());
  EXPECT_FALSE(ParseLabelSelector(json::parse(R"({"matchLabels": {"a": 1}})"), "s").ok());
  EXPECT_FALSE(ParseLabelSelector(json::array(), "s").ok());
}

TEST(ParseMonitorTest, FieldsAndDefaults) {
  auto m = ParseMonitor(json::parse(R"({
    "kind": "PodMonitor", "metadata": {"name": "pm", "namespace": "ns"},
    "spec": {"selector": {}, "namespaceSelector": {"matchNames": ["a", "b"]},
      "podMetricsEndpoints": [{"portNumber": 9100, "honorLabels": true, "honorTimestamps": false,
                               "filterRunning": false, "scheme": "HTTPS",
                               "params": {"collect[]": ["cpu", "mem"]}}]}})"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->kind, Monitor::Kind::kPodMonitor);
  EXPECT_EQ(m->JobName(0), "podMonitor/ns/pm/0");
  EXPECT_EQ(m->match_namespaces, (std::vector<std::string>{"a", "b"}));
  const MonitorEndpoint& ep = m->endpoints[0];
  EXPECT_EQ(ep.port_number, 9100);
  EXPECT_EQ(ep.EndpointLabel(), "9100");
  EXPECT_TRUE(ep.honor_labels);
  EXPECT_EQ(ep.honor_timestamps, false);
  EXPECT_FALSE(ep.filter_running);
  EXPECT_EQ(ep.scheme, "https");
  EXPECT_EQ(ep.params.at("collect[]"), (std::vector<std::string>{"cpu", "mem"}));
}

TEST(ParseMonitorTest, ErrorsNameTheMonitorAndField) {
  struct Case {
    const char* json;
    const char* message_part;
  };
  const Case cases[] = {
      {R"({"kind": "Probe", "metadata": {"name": "p", "namespace": "n"}, "spec": {}})",
       "unsupported monitor kind"},
      {R"({"kind": "ServiceMonitor", "metadata": {"name": "m"}, "spec": {}})",
       "needs metadata.namespace"},
      {R"({"kind": "ServiceMonitor", "metadata": {"name": "m", "namespace": "n"},
           "spec": {"endpoints": [{"port": "a", "targetPort": 80}]}})",
       "ServiceMonitor n/m: spec.endpoints[0]: port and targetPort are mutually exclusive"},
      {R"({"kind": "ServiceMonitor", "metadata": {"name": "m", "namespace": "n"},
           "spec": {"endpoints": [{"scheme": "ftp"}]}})",
       "spec.endpoints[0].scheme must be http or https"},
      {R"({"kind": "ServiceMonitor", "metadata": {"name": "m", "namespace": "n"},
           "spec": {"endpoints": [{"authorization": {"type": "Basic"}}]}})",
       "cannot be Basic"},
      {R"({"kind": "ServiceMonitor", "metadata": {"name": "m", "namespace": "n"},
           "spec": {"sampleLimit": -1}})",
       "spec.sampleLimit must be a non-negative integer"},
      {R"({"kind": "ServiceMonitor", "metadata": {"name": "m", "namespace": "n"},
           "spec": {"endpoints": [{"metricRelabelings": [{"action": "hashmod"}]}]}})",
       "spec.endpoints[0].metricRelabelings"},
      {R"({"kind": "ServiceMonitor", "metadata": {"name": "m", "namespace": "n"},
           "spec": {"endpoints": [{"bearerTokenSecret": {"name": "s"}}]}})",
       "bearerTokenSecret.key is required"},
  };
  for (const Case& c : cases) {
    auto m = ParseMonitor(json::parse(c.json));
    ASSERT_FALSE(m.ok()) << c.json;
    EXPECT_EQ(m.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(m.status().message().find(c.message_part), std::string::npos) << m.status().message();
  }
}

}  // namespace
}  // namespace shardwise::opdiscovery
