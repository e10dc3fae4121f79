// prometheus-adapter's configuration format, read unchanged so an existing adapter ConfigMap
// works with the operator: `rules` (custom.metrics.k8s.io) and `externalRules`
// (external.metrics.k8s.io), each with seriesQuery, seriesFilters (is/isNot), resources
// (overrides label -> {group, resource} and/or a template with <<.Group>>/<<.Resource>>),
// name (matches/as) and a metricsQuery Go template over <<.Series>>, <<.LabelMatchers>> and
// <<.GroupBy>>. `resourceRules` is accepted and ignored with a warning (the operator does not
// serve metrics.k8s.io). Rendering follows the adapter: matchers are `label="value"` (Go
// quoting), several object names become `label=~"a|b"`, the resource label is the first
// group-by label, and naming uses Go's regexp Expand ($1, ${1}, $name).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "operator/promql/ast.h"

namespace re2 {
class RE2;
}

namespace shardwise::custommetrics {

// A Kubernetes resource as the metrics APIs name it: plural, lower case ("pods",
// "deployments" in group "apps").
struct GroupResource {
  std::string group;
  std::string resource;
  bool operator==(const GroupResource&) const = default;
  auto operator<=>(const GroupResource&) const = default;
  // "pods", "deployments.apps".
  std::string ToString() const;
};

// Normalizes "pod", "Pods", {apps, deployment}, "deployment" to the plural resource with its
// group, for the well-known kinds; other names are lower-cased and pluralized with "s".
GroupResource NormalizeResource(std::string_view group, std::string_view resource);
inline const GroupResource kNamespaces{"", "namespaces"};

struct AdapterRule {
  std::string series_query;
  std::vector<promql::Matcher> series_matchers;  // the parsed seriesQuery selector
  struct Filter {
    bool is = true;  // `is` keeps matching names, `isNot` drops them
    std::string pattern;
    std::shared_ptr<re2::RE2> re;
  };
  std::vector<Filter> series_filters;
  std::map<std::string, GroupResource> overrides;  // label -> resource
  std::string resource_template;                   // "" when none
  bool namespaced = true;                          // externalRules: resources.namespaced
  std::string name_matches;
  std::shared_ptr<re2::RE2> name_re;
  std::string name_as;
  std::string metrics_query;

  // Whether a series of this metric name passes the seriesFilters.
  bool KeepsSeries(std::string_view metric_name) const;
  // The API metric name for a series name, or nullopt when `matches` does not match.
  std::optional<std::string> MetricName(std::string_view series_name) const;
  // The series label holding `resource`'s object names, or "" when the rule has none.
  std::string LabelForResource(const GroupResource& resource) const;
  // The resource a series label stands for, if any.
  std::optional<GroupResource> ResourceForLabel(std::string_view label) const;
};

struct AdapterConfig {
  std::vector<AdapterRule> rules;
  std::vector<AdapterRule> external_rules;
  std::vector<std::string> warnings;  // e.g. resourceRules ignored
};

Result<AdapterConfig> ParseAdapterConfig(std::string_view yaml);
Result<AdapterConfig> LoadAdapterConfig(const std::string& path);

// The values a metricsQuery template sees.
struct QueryArgs {
  std::string series;
  std::vector<std::string> label_matchers;  // rendered, e.g. namespace="default"
  std::vector<std::string> group_by;
};

// Renders a template with << >> delimiters. Supports field references (<<.Series>>,
// <<.LabelMatchers>>, <<.GroupBy>>, <<.Group>>, <<.Resource>>); anything else is
// InvalidArgument naming the action.
Result<std::string> RenderTemplate(std::string_view tmpl,
                                   const std::map<std::string, std::string>& fields);
Result<std::string> RenderMetricsQuery(const AdapterRule& rule, const QueryArgs& args);

// The arguments for a custom metric of `resource` objects `names` in `ns` ("" for
// cluster-scoped objects and namespaces themselves), as the adapter builds them.
// `extra_matchers` come from metricLabelSelector.
Result<QueryArgs> CustomQueryArgs(const AdapterRule& rule, const std::string& series,
                                  const GroupResource& resource, const std::string& ns,
                                  const std::vector<std::string>& names,
                                  const std::vector<std::string>& extra_matchers = {});
// The arguments for an external metric: the namespace (when the rule is namespaced) and the
// request's label selector as matchers; no group-by.
Result<QueryArgs> ExternalQueryArgs(const AdapterRule& rule, const std::string& series,
                                    const std::string& ns,
                                    const std::vector<std::string>& selector_matchers);

// Go's %q for the strings matchers carry.
std::string GoQuote(std::string_view s);

}  // namespace shardwise::custommetrics
