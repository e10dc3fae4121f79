#include "operator/custommetrics/adapter_rules.h"

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "operator/promql/parser.h"

namespace shardwise::custommetrics {

std::string GroupResource::ToString() const {
  return group.empty() ? resource : resource + "." + group;
}

namespace {

struct KnownResource {
  const char* singular;
  const char* plural;
  const char* group;
};

// The kinds an HPA commonly describes; others are pluralized with "s".
constexpr KnownResource kKnown[] = {
    {"pod", "pods", ""},
    {"service", "services", ""},
    {"namespace", "namespaces", ""},
    {"node", "nodes", ""},
    {"endpoints", "endpoints", ""},
    {"persistentvolumeclaim", "persistentvolumeclaims", ""},
    {"replicationcontroller", "replicationcontrollers", ""},
    {"deployment", "deployments", "apps"},
    {"statefulset", "statefulsets", "apps"},
    {"replicaset", "replicasets", "apps"},
    {"daemonset", "daemonsets", "apps"},
    {"job", "jobs", "batch"},
    {"cronjob", "cronjobs", "batch"},
    {"ingress", "ingresses", "networking.k8s.io"},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Singular(const GroupResource& gr) {
  for (const auto& k : kKnown) {
    if (gr.resource == k.plural) return k.singular;
  }
  if (gr.resource.size() > 1 && gr.resource.back() == 's') {
    return gr.resource.substr(0, gr.resource.size() - 1);
  }
  return gr.resource;
}

// Go's regexp.Expand: $1, ${1}, $name, ${name}; $$ is a dollar; unknown references are empty.
std::string Expand(const RE2& re, std::string_view tmpl,
                   const std::vector<re2::StringPiece>& groups) {
  std::string out;
  const auto& named = re.NamedCapturingGroups();
  auto group = [&](const std::string& name) -> std::string {
    bool digits = !name.empty();
    for (char c : name) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    size_t idx = 0;
    if (digits) {
      if (name.size() > 4) return "";
      idx = static_cast<size_t>(std::stoi(name));
    } else {
      auto it = named.find(name);
      if (it == named.end()) return "";
      idx = static_cast<size_t>(it->second);
    }
    if (idx >= groups.size() || groups[idx].data() == nullptr) return "";
    return std::string(groups[idx].data(), groups[idx].size());
  };
  auto name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t i = 0; i < tmpl.size();) {
    char c = tmpl[i];
    if (c != '$' || i + 1 >= tmpl.size()) {
      out += c;
      ++i;
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    size_t j = i + 1;
    std::string name;
    if (tmpl[j] == '{') {
      size_t k = j + 1;
      while (k < tmpl.size() && name_char(tmpl[k])) ++k;
      if (k < tmpl.size() && tmpl[k] == '}' && k > j + 1) {
        name = std::string(tmpl.substr(j + 1, k - j - 1));
        j = k + 1;
      }
    } else {
      size_t k = j;
      while (k < tmpl.size() && name_char(tmpl[k])) ++k;
      if (k > j) {
        name = std::string(tmpl.substr(j, k - j));
        j = k;
      }
    }
    if (name.empty()) {  // malformed reference: Go keeps the dollar
      out += '$';
      ++i;
      continue;
    }
    out += group(name);
    i = j;
  }
  return out;
}

Result<std::shared_ptr<RE2>> Compile(const std::string& pattern, const std::string& what) {
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<RE2>(pattern, opts);
  if (!re->ok()) {
    return Status::InvalidArgument(what + ": invalid regular expression \"" + pattern +
                                   "\": " + re->error());
  }
  return re;
}

std::string Scalar(const YAML::Node& n, const char* key) {
  const YAML::Node v = n[key];
  if (!v || v.IsNull()) return "";
  return v.as<std::string>();
}

Result<AdapterRule> ParseRule(const YAML::Node& n, const std::string& where, bool external) {
  if (!n.IsMap()) return Status::InvalidArgument(where + ": a rule must be a mapping");
  AdapterRule r;
  r.series_query = Scalar(n, "seriesQuery");
  if (r.series_query.empty()) return Status::InvalidArgument(where + ": seriesQuery is required");
  auto sel = promql::Parse(r.series_query);
  if (!sel.ok()) return sel.status().WithContext(where + ": seriesQuery");
  if ((*sel)->kind != promql::ExprKind::kVectorSelector || (*sel)->offset_ms != 0) {
    return Status::InvalidArgument(where + ": seriesQuery must be a series selector, got \"" +
                                   r.series_query + "\"");
  }
  r.series_matchers = (*sel)->matchers;
  if (const YAML::Node f = n["seriesFilters"]; f && !f.IsNull()) {
    if (!f.IsSequence()) return Status::InvalidArgument(where + ": seriesFilters must be a list");
    for (size_t i = 0; i < f.size(); ++i) {
      AdapterRule::Filter filter;
      std::string is = Scalar(f[i], "is"), is_not = Scalar(f[i], "isNot");
      if (is.empty() == is_not.empty()) {
        return Status::InvalidArgument(where + ": seriesFilters[" + std::to_string(i) +
                                       "] needs exactly one of is / isNot");
      }
      filter.is = !is.empty();
      filter.pattern = filter.is ? is : is_not;
      auto re = Compile(filter.pattern, where + ": seriesFilters[" + std::to_string(i) + "]");
      if (!re.ok()) return re.status();
      filter.re = *re;
      r.series_filters.push_back(std::move(filter));
    }
  }
  if (const YAML::Node res = n["resources"]; res && !res.IsNull()) {
    if (!res.IsMap()) return Status::InvalidArgument(where + ": resources must be a mapping");
    r.resource_template = Scalar(res, "template");
    if (const YAML::Node ov = res["overrides"]; ov && !ov.IsNull()) {
      if (!ov.IsMap())
        return Status::InvalidArgument(where + ": resources.overrides must be a mapping");
      for (const auto& kv : ov) {
        std::string label = kv.first.as<std::string>();
        std::string resource = Scalar(kv.second, "resource");
        if (resource.empty()) {
          return Status::InvalidArgument(where + ": resources.overrides." + label +
                                         ": resource is required");
        }
        r.overrides[label] = NormalizeResource(Scalar(kv.second, "group"), resource);
      }
    }
    if (const YAML::Node ns = res["namespaced"]; ns && !ns.IsNull()) r.namespaced = ns.as<bool>();
  }
  if (!external && r.overrides.empty() && r.resource_template.empty()) {
    return Status::InvalidArgument(where + ": resources needs overrides or a template");
  }
  r.name_matches = ".*";
  if (const YAML::Node name = n["name"]; name && !name.IsNull()) {
    std::string m = Scalar(name, "matches");
    if (!m.empty()) r.name_matches = m;
    r.name_as = Scalar(name, "as");
  }
  auto re = Compile(r.name_matches, where + ": name.matches");
  if (!re.ok()) return re.status();
  r.name_re = *re;
  if (r.name_as.empty()) {
    int groups = r.name_re->NumberOfCapturingGroups();
    if (groups == 0) {
      r.name_as = "$0";
    } else if (groups == 1) {
      r.name_as = "$1";
    } else {
      return Status::InvalidArgument(where + ": name.as is required when name.matches \"" +
                                     r.name_matches + "\" has several capture groups");
    }
  }
  r.metrics_query = Scalar(n, "metricsQuery");
  if (r.metrics_query.empty()) return Status::InvalidArgument(where + ": metricsQuery is required");
  // Render once with sample values so a bad template fails at load time, not per request.
  QueryArgs probe{"x", {"a=\"b\""}, {"a"}};
  auto rendered = RenderMetricsQuery(r, probe);
  if (!rendered.ok()) return rendered.status().WithContext(where + ": metricsQuery");
  return r;
}

}  // namespace

GroupResource NormalizeResource(std::string_view group, std::string_view resource) {
  std::string g = Lower(group), res = Lower(resource);
  for (const auto& k : kKnown) {
    if ((res == k.singular || res == k.plural) && (g.empty() || g == k.group)) {
      return GroupResource{k.group, k.plural};
    }
  }
  if (!res.empty() && res.back() != 's') res += "s";
  return GroupResource{g, res};
}

bool AdapterRule::KeepsSeries(std::string_view metric_name) const {
  re2::StringPiece name(metric_name.data(), metric_name.size());
  for (const auto& f : series_filters) {
    bool match = RE2::PartialMatch(name, *f.re);
    if (match != f.is) return false;
  }
  return true;
}

std::optional<std::string> AdapterRule::MetricName(std::string_view series_name) const {
  int n = name_re->NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> groups(static_cast<size_t>(n));
  re2::StringPiece text(series_name.data(), series_name.size());
  if (!name_re->Match(text, 0, text.size(), RE2::UNANCHORED, groups.data(), n)) return std::nullopt;
  return Expand(*name_re, name_as, groups);
}

std::string AdapterRule::LabelForResource(const GroupResource& resource) const {
  for (const auto& [label, gr] : overrides) {
    if (gr == resource) return label;
  }
  if (resource_template.empty()) return "";
  std::string group = resource.group;
  for (char& c : group) {
    if (c == '.' || c == '-') c = '_';
  }
  auto out =
      RenderTemplate(resource_template, {{"Group", group}, {"Resource", Singular(resource)}});
  return out.ok() ? *out : "";
}

std::optional<GroupResource> AdapterRule::ResourceForLabel(std::string_view label) const {
  if (auto it = overrides.find(std::string(label)); it != overrides.end()) return it->second;
  if (resource_template.empty()) return std::nullopt;
  // The template as a pattern: literal text with <<.Group>> and <<.Resource>> as captures.
  std::string pattern = "^";
  std::string_view t = resource_template;
  int group_idx = 0, resource_idx = 0, idx = 0;
  while (!t.empty()) {
    size_t open = t.find("<<");
    pattern += RE2::QuoteMeta(re2::StringPiece(t.data(), std::min(open, t.size())));
    if (open == std::string_view::npos) break;
    size_t close = t.find(">>", open);
    if (close == std::string_view::npos) return std::nullopt;
    std::string action(t.substr(open + 2, close - open - 2));
    action.erase(0, action.find_first_not_of(' '));
    action.erase(action.find_last_not_of(' ') + 1);
    ++idx;
    if (action == ".Group") {
      group_idx = idx;
    } else if (action == ".Resource") {
      resource_idx = idx;
    } else {
      return std::nullopt;
    }
    pattern += "(.+?)";
    t = t.substr(close + 2);
  }
  pattern += "$";
  if (resource_idx == 0) return std::nullopt;
  RE2 re(pattern);
  std::vector<re2::StringPiece> groups(static_cast<size_t>(idx) + 1);
  re2::StringPiece text(label.data(), label.size());
  if (!re.ok() || !re.Match(text, 0, text.size(), RE2::ANCHOR_BOTH, groups.data(), idx + 1)) {
    return std::nullopt;
  }
  std::string group = group_idx ? std::string(groups[static_cast<size_t>(group_idx)]) : "";
  for (char& c : group) {
    if (c == '_') c = '.';
  }
  return NormalizeResource(group, std::string(groups[static_cast<size_t>(resource_idx)]));
}

Result<AdapterConfig> ParseAdapterConfig(std::string_view yaml) {
  AdapterConfig cfg;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (root.IsNull()) return cfg;
    if (!root.IsMap())
      return Status::InvalidArgument("adapter config: the top level must be a mapping");
    for (const auto& kv : root) {
      std::string key = kv.first.as<std::string>();
      if (key != "rules" && key != "externalRules" && key != "resourceRules") {
        cfg.warnings.push_back("unknown top-level key \"" + key + "\" ignored");
      }
    }
    if (root["resourceRules"] && !root["resourceRules"].IsNull()) {
      cfg.warnings.push_back(
          "resourceRules ignored: the operator serves custom.metrics.k8s.io and "
          "external.metrics.k8s.io, not metrics.k8s.io");
    }
    for (const char* key : {"rules", "externalRules"}) {
      const YAML::Node list = root[key];
      if (!list || list.IsNull()) continue;
      if (!list.IsSequence())
        return Status::InvalidArgument(std::string("adapter config: ") + key + " must be a list");
      bool external = std::string_view(key) == "externalRules";
      for (size_t i = 0; i < list.size(); ++i) {
        auto r = ParseRule(list[i], std::string(key) + "[" + std::to_string(i) + "]", external);
        if (!r.ok()) return r.status().WithContext("adapter config");
        (external ? cfg.external_rules : cfg.rules).push_back(std::move(r).value());
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("adapter config: ") + e.what());
  }
  return cfg;
}

Result<AdapterConfig> LoadAdapterConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read adapter config " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto cfg = ParseAdapterConfig(ss.str());
  if (!cfg.ok()) return cfg.status().WithContext(path);
  return cfg;
}

Result<std::string> RenderTemplate(std::string_view tmpl,
                                   const std::map<std::string, std::string>& fields) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find("<<", i);
    if (open == std::string_view::npos) {
      out += tmpl.substr(i);
      break;
    }
    out += tmpl.substr(i, open - i);
    size_t close = tmpl.find(">>", open + 2);
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("template: unclosed action at offset " + std::to_string(open));
    }
    std::string action(tmpl.substr(open + 2, close - open - 2));
    // Go's trim markers "<<- " and " ->>" trim surrounding space.
    bool trim_left = action.rfind("- ", 0) == 0,
         trim_right = action.size() >= 2 && action.substr(action.size() - 2) == " -";
    if (trim_left) {
      action.erase(0, 2);
      while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
    }
    if (trim_right) action.erase(action.size() - 2);
    action.erase(0, action.find_first_not_of(" \t"));
    action.erase(action.find_last_not_of(" \t") + 1);
    if (action.size() < 2 || action[0] != '.' ||
        action.find_first_of(" |()") != std::string::npos) {
      return Status::InvalidArgument("template: unsupported action \"<<" + action +
                                     ">>\" (only field references such as <<.Series>>)");
    }
    auto it = fields.find(action.substr(1));
    if (it == fields.end()) {
      return Status::InvalidArgument("template: unknown field \"" + action + "\"");
    }
    out += it->second;
    i = close + 2;
    if (trim_right) {
      while (i < tmpl.size() && std::isspace(static_cast<unsigned char>(tmpl[i]))) ++i;
    }
  }
  return out;
}

namespace {
std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}
}  // namespace

Result<std::string> RenderMetricsQuery(const AdapterRule& rule, const QueryArgs& args) {
  return RenderTemplate(rule.metrics_query, {{"Series", args.series},
                                             {"LabelMatchers", Join(args.label_matchers)},
                                             {"GroupBy", Join(args.group_by)}});
}

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

Result<QueryArgs> CustomQueryArgs(const AdapterRule& rule, const std::string& series,
                                  const GroupResource& resource, const std::string& ns,
                                  const std::vector<std::string>& names,
                                  const std::vector<std::string>& extra_matchers) {
  if (names.empty()) return Status::InvalidArgument("no object names to query");
  QueryArgs a;
  a.series = series;
  if (!ns.empty()) {
    std::string ns_label = rule.LabelForResource(kNamespaces);
    if (ns_label.empty()) {
      return Status::NotFound("the rule for " + series + " has no namespace label");
    }
    a.label_matchers.push_back(ns_label + "=" + GoQuote(ns));
  }
  std::string label = rule.LabelForResource(resource);
  if (label.empty()) {
    return Status::NotFound("the rule for " + series + " has no label for " + resource.ToString());
  }
  if (names.size() == 1) {
    a.label_matchers.push_back(label + "=" + GoQuote(names[0]));
  } else {
    std::string joined;
    for (const auto& n : names) joined += (joined.empty() ? "" : "|") + n;
    a.label_matchers.push_back(label + "=~" + GoQuote(joined));
  }
  for (const auto& m : extra_matchers) a.label_matchers.push_back(m);
  a.group_by.push_back(label);
  return a;
}

Result<QueryArgs> ExternalQueryArgs(const AdapterRule& rule, const std::string& series,
                                    const std::string& ns,
                                    const std::vector<std::string>& selector_matchers) {
  QueryArgs a;
  a.series = series;
  // The adapter puts the selector's matchers before the namespace.
  for (const auto& m : selector_matchers) a.label_matchers.push_back(m);
  if (rule.namespaced && !ns.empty()) {
    std::string ns_label = rule.LabelForResource(kNamespaces);
    if (!ns_label.empty()) a.label_matchers.push_back(ns_label + "=" + GoQuote(ns));
  }
  return a;
}

}  // namespace shardwise::custommetrics
