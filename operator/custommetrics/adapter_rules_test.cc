#include "operator/custommetrics/adapter_rules.h"

#include <gtest/gtest.h>

namespace shardwise::custommetrics {
namespace {

#ifndef SHARDWISE_CUSTOMMETRICS_TESTDATA
#define SHARDWISE_CUSTOMMETRICS_TESTDATA "operator/custommetrics/testdata"
#endif

// prometheus-adapter's docs/config-walkthrough.md, unchanged in substance.
TEST(AdapterRules, ConfigWalkthroughRuleRendersAsTheAdapterDoes) {
  auto cfg = LoadAdapterConfig(SHARDWISE_CUSTOMMETRICS_TESTDATA "/config_walkthrough.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ASSERT_EQ(cfg->rules.size(), 1u);
  EXPECT_TRUE(cfg->warnings.empty());
  const AdapterRule& r = cfg->rules[0];
  EXPECT_EQ(r.MetricName("http_requests_total"), "http_requests_per_second");
  EXPECT_EQ(r.ResourceForLabel("kubernetes_pod_name"), (GroupResource{"", "pods"}));
  EXPECT_EQ(r.ResourceForLabel("kubernetes_namespace"), kNamespaces);
  EXPECT_EQ(r.ResourceForLabel("method"), std::nullopt);
  ASSERT_EQ(r.series_matchers.size(), 3u);

  auto one = CustomQueryArgs(r, "http_requests_total", {"", "pods"}, "production",
                             {"frontend-server-abcd-0123"});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*RenderMetricsQuery(r, *one),
            "sum(rate(http_requests_total{kubernetes_namespace=\"production\","
            "kubernetes_pod_name=\"frontend-server-abcd-0123\"}[2m])) by (kubernetes_pod_name)");
  auto two = CustomQueryArgs(r, "http_requests_total", {"", "pods"}, "production",
                             {"frontend-server-abcd-0123", "frontend-server-abcd-4567"});
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*RenderMetricsQuery(r, *two),
            "sum(rate(http_requests_total{kubernetes_namespace=\"production\","
            "kubernetes_pod_name=~\"frontend-server-abcd-0123|frontend-server-abcd-4567\"}[2m])) "
            "by (kubernetes_pod_name)");
  // namespaces/production/http_requests_per_second: the namespace is the object.
  auto ns = CustomQueryArgs(r, "http_requests_total", kNamespaces, "", {"production"});
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(*RenderMetricsQuery(r, *ns),
            "sum(rate(http_requests_total{kubernetes_namespace=\"production\"}[2m])) by "
            "(kubernetes_namespace)");
  // No label for services in this rule.
  EXPECT_EQ(CustomQueryArgs(r, "http_requests_total", {"", "services"}, "production", {"x"})
                .status()
                .code(),
            Status::Code::kNotFound);
}

TEST(AdapterRules, FullFormat) {
  auto cfg = ParseAdapterConfig(R"yaml(
rules:
- seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
  seriesFilters:
  - isNot: "^container_.*_seconds_total$"
  - is: "^container_"
  resources:
    template: "<<.Resource>>"
  name:
    matches: "^container_(.*)_total$"
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[1m])) by (<<.GroupBy>>)
- seriesQuery: 'kube_deployment_labels'
  resources:
    template: "kube_<<.Group>>_<<.Resource>>"
    overrides:
      namespace: {resource: namespace}
  name:
    matches: "(?P<x>kube)_(.*)"
    as: "${x}-$2-$$-$9"
  metricsQuery: '<< .Series >>{<<.LabelMatchers>>}'
externalRules:
- seriesQuery: '{__name__="queue_depth",queue!=""}'
  resources:
    namespaced: false
  metricsQuery: max(<<.Series>>{<<.LabelMatchers>>})
resourceRules:
  cpu: {}
)yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ASSERT_EQ(cfg->rules.size(), 2u);
  ASSERT_EQ(cfg->external_rules.size(), 1u);
  ASSERT_EQ(cfg->warnings.size(), 1u);
  EXPECT_NE(cfg->warnings[0].find("resourceRules ignored"), std::string::npos);

  const AdapterRule& c = cfg->rules[0];
  EXPECT_TRUE(c.KeepsSeries("container_network_receive_bytes_total"));
  EXPECT_FALSE(c.KeepsSeries("container_cpu_usage_seconds_total"));
  EXPECT_EQ(c.MetricName("container_network_receive_bytes_total"), "network_receive_bytes");
  EXPECT_EQ(c.MetricName("up"), std::nullopt);
  EXPECT_EQ(c.ResourceForLabel("pod"), (GroupResource{"", "pods"}));
  EXPECT_EQ(c.ResourceForLabel("deployment"), (GroupResource{"apps", "deployments"}));
  EXPECT_EQ(c.LabelForResource({"", "pods"}), "pod");
  EXPECT_EQ(c.LabelForResource({"apps", "deployments"}), "deployment");
  auto q = CustomQueryArgs(c, "container_network_receive_bytes_total", {"", "pods"}, "default",
                           {"web-0"}, {"interface=\"eth0\""});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(*RenderMetricsQuery(c, *q),
            "sum(rate(container_network_receive_bytes_total{namespace=\"default\",pod=\"web-0\","
            "interface=\"eth0\",container!=\"POD\"}[1m])) by (pod)");

  const AdapterRule& k = cfg->rules[1];
  EXPECT_EQ(k.MetricName("kube_deployment_labels"), "kube-deployment_labels-$-");
  EXPECT_EQ(k.LabelForResource({"apps", "deployments"}), "kube_apps_deployment");
  EXPECT_EQ(k.ResourceForLabel("kube_apps_deployment"), (GroupResource{"apps", "deployments"}));
  EXPECT_EQ(k.ResourceForLabel("namespace"), kNamespaces);

  const AdapterRule& e = cfg->external_rules[0];
  EXPECT_FALSE(e.namespaced);
  EXPECT_EQ(e.MetricName("queue_depth"), "queue_depth");  // default as "$0"
  auto x = ExternalQueryArgs(e, "queue_depth", "default", {"queue=\"jobs\""});
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(*RenderMetricsQuery(e, *x), "max(queue_depth{queue=\"jobs\"})");
}

TEST(AdapterRules, NormalizeResource) {
  EXPECT_EQ(NormalizeResource("", "Pod"), (GroupResource{"", "pods"}));
  EXPECT_EQ(NormalizeResource("", "deployment"), (GroupResource{"apps", "deployments"}));
  EXPECT_EQ(NormalizeResource("apps", "statefulsets"), (GroupResource{"apps", "statefulsets"}));
  EXPECT_EQ(NormalizeResource("example.com", "widget"), (GroupResource{"example.com", "widgets"}));
  EXPECT_EQ((GroupResource{"apps", "deployments"}).ToString(), "deployments.apps");
}

TEST(AdapterRules, TemplateRendering) {
  std::map<std::string, std::string> f{{"Series", "x"}, {"GroupBy", "pod"}};
  EXPECT_EQ(*RenderTemplate("a <<.Series>> b << .GroupBy >>", f), "a x b pod");
  EXPECT_EQ(*RenderTemplate("a   <<- .Series ->>   b", f), "axb");
  EXPECT_FALSE(RenderTemplate("<<.Nope>>", f).ok());
  EXPECT_FALSE(RenderTemplate("<<range .GroupBySlice>>", f).ok());
  EXPECT_FALSE(RenderTemplate("<<.Series", f).ok());
  EXPECT_EQ(GoQuote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
}

struct BadConfig {
  const char* yaml;
  const char* error;
};

class BadConfigs : public testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigs, ClearErrors) {
  auto cfg = ParseAdapterConfig(GetParam().yaml);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(cfg.status().message().find(GetParam().error), std::string::npos)
      << cfg.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadConfigs,
    testing::Values(BadConfig{"rules: [{}]", "rules[0]: seriesQuery is required"},
                    BadConfig{"rules:\n- seriesQuery: 'x{'\n", "rules[0]: seriesQuery"},
                    BadConfig{"rules:\n- seriesQuery: 'rate(x[1m])'\n",
                              "must be a series selector"},
                    BadConfig{"rules:\n- seriesQuery: x\n  metricsQuery: x\n",
                              "resources needs overrides or a template"},
                    BadConfig{"rules:\n- seriesQuery: x\n  resources: {template: <<.Resource>>}\n  "
                              "name: {matches: '(a)(b)'}\n  metricsQuery: x\n",
                              "name.as is required"},
                    BadConfig{"rules:\n- seriesQuery: x\n  resources: {template: <<.Resource>>}\n  "
                              "name: {matches: '('}\n  metricsQuery: x\n",
                              "invalid regular expression"},
                    BadConfig{"rules:\n- seriesQuery: x\n  resources: {template: <<.Resource>>}\n  "
                              "metricsQuery: '<<.Bogus>>'\n",
                              "unknown field"},
                    BadConfig{"rules:\n- seriesQuery: x\n  resources: {template: <<.Resource>>}\n  "
                              "seriesFilters: [{}]\n  metricsQuery: x\n",
                              "exactly one of is / isNot"},
                    BadConfig{"rules: {a: 1}", "rules must be a list"},
                    BadConfig{"rules: [", "adapter config"}));

}  // namespace
}  // namespace shardwise::custommetrics
