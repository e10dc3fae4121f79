#include "hack/kube-sim/openapi_schemas.h"

#include <set>

namespace shardwise::kubesim {
namespace {

const char kBuiltinSchemas[] =
#include "builtin_schemas.inc"
    ;

constexpr char kRefPrefix[] = "#/components/schemas/";

// Abbreviations used in the data file.
const std::vector<std::pair<std::string, std::string>> kPackages = {
    {"meta.", "io.k8s.apimachinery.pkg.apis.meta.v1."},
    {"resource.", "io.k8s.apimachinery.pkg.api.resource."},
    {"intstr.", "io.k8s.apimachinery.pkg.util.intstr."},
    {"core.", "io.k8s.api.core.v1."},
    {"apps.", "io.k8s.api.apps.v1."},
    {"discovery.", "io.k8s.api.discovery.v1."},
    {"autoscaling.", "io.k8s.api.autoscaling.v2."},
    {"policy.", "io.k8s.api.policy.v1."},
    {"coordination.", "io.k8s.api.coordination.v1."},
    {"rbac.", "io.k8s.api.rbac.v1."},
    {"apiregistration.", "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1."},
    {"apiextensions.", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."}};

std::string FullName(const std::string& short_name) {
  for (const auto& [abbrev, full] : kPackages)
    if (short_name.rfind(abbrev, 0) == 0) return full + short_name.substr(abbrev.size());
  return short_name;
}

json Ref(const std::string& short_name) { return {{"$ref", kRefPrefix + FullName(short_name)}}; }

// A field's schema from its compact TYPE.
json TypeSchema(const std::string& type) {
  if (type.rfind("[]", 0) == 0) return {{"type", "array"}, {"items", TypeSchema(type.substr(2))}};
  if (type.rfind("map[string]", 0) == 0)
    return {{"type", "object"}, {"additionalProperties", TypeSchema(type.substr(11))}};
  if (type[0] == '#') return Ref(type.substr(1));
  if (type == "Time") return Ref("meta.Time");
  if (type == "MicroTime") return Ref("meta.MicroTime");
  if (type == "Quantity") return Ref("resource.Quantity");
  if (type == "IntOrString") return Ref("intstr.IntOrString");
  return {{"type", type}};
}

json FieldSchema(const std::string& spec) {
  size_t bar = spec.find('|');
  std::string type = spec.substr(0, bar);
  std::string description = bar == std::string::npos ? "" : spec.substr(bar + 1);
  json s = TypeSchema(type);
  // A described reference is wrapped in allOf, as kube-apiserver's v3 documents do.
  if (s.contains("$ref")) s = {{"allOf", json::array({s})}};
  if (!description.empty()) s["description"] = description;
  if (type == "object") s["x-kubernetes-preserve-unknown-fields"] = true;
  return s;
}

json Expand(const json& compact) {
  json out = json::object();
  if (compact.contains("type")) {
    out["type"] = compact["type"];
    if (compact.contains("format")) out["format"] = compact["format"];
    out["description"] = compact.value("d", "");
    return out;
  }
  out["type"] = "object";
  out["description"] = compact.value("d", "");
  json props = json::object();
  const json fields = compact.value("p", json::object());
  for (const auto& [name, spec] : fields.items())
    if (spec.is_string()) props[name] = FieldSchema(spec.get<std::string>());
  out["properties"] = props;
  if (compact.contains("required")) out["required"] = compact["required"];
  if (compact.contains("gvk")) {
    std::string gvk = compact["gvk"];  // "group/version/Kind", group may be empty
    size_t a = gvk.find('/'), b = gvk.rfind('/');
    out["x-kubernetes-group-version-kind"] = {{{"group", gvk.substr(0, a)},
                                               {"version", gvk.substr(a + 1, b - a - 1)},
                                               {"kind", gvk.substr(b + 1)}}};
  }
  return out;
}

const json& Builtins() {
  static const json schemas = [] {
    json data = json::parse(kBuiltinSchemas);
    json out = json::object();
    for (const auto& [name, compact] : data.items())
      if (name[0] != '_') out[FullName(name)] = Expand(compact);
    return out;
  }();
  return schemas;
}

void CollectRefs(const json& j, std::set<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == "$ref" && v.is_string()) {
        std::string ref = v.get<std::string>();
        if (ref.rfind(kRefPrefix, 0) == 0) out.insert(ref.substr(sizeof(kRefPrefix) - 1));
      } else {
        CollectRefs(v, out);
      }
    }
  } else if (j.is_array()) {
    for (const auto& v : j) CollectRefs(v, out);
  }
}

// "shardwise.io" → "io.shardwise", as kube-apiserver names CRD schemas.
std::string ReverseDomain(const std::string& group) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= group.size()) {
    size_t dot = group.find('.', start);
    if (dot == std::string::npos) dot = group.size();
    parts.push_back(group.substr(start, dot - start));
    start = dot + 1;
  }
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += (out.empty() ? "" : ".") + *it;
  return out;
}

json CrdSchema(const ResourceType& t) {
  json s = t.schema.is_object() ? t.schema : json{{"type", "object"}};
  if (!s.contains("type")) s["type"] = "object";
  json& props = s["properties"];
  if (!props.is_object()) props = json::object();
  props["apiVersion"] = {{"type", "string"}, {"description", "Versioned schema of this object."}};
  props["kind"] = {{"type", "string"}, {"description", "Kind of this object."}};
  props["metadata"] = {{"allOf", json::array({Ref("meta.ObjectMeta")})},
                       {"description", "Standard object metadata."}};
  s["x-kubernetes-group-version-kind"] = {
      {{"group", t.group}, {"version", t.version}, {"kind", t.kind}}};
  return s;
}

}  // namespace

json OpenApiSchemas(const std::vector<TypePtr>& types, const std::string& group,
                    const std::string& version) {
  const json& builtins = Builtins();
  json out = json::object();
  for (const auto& [name, schema] : builtins.items()) {
    const json& gvks = schema.value("x-kubernetes-group-version-kind", json::array());
    for (const auto& gvk : gvks)
      if (gvk.value("group", "") == group && gvk.value("version", "") == version)
        out[name] = schema;
  }
  for (const auto& t : types)
    if (!t->builtin && t->group == group && t->version == version)
      out[ReverseDomain(t->group) + "." + t->version + "." + t->kind] = CrdSchema(*t);
  // Add everything referenced, transitively.
  std::set<std::string> pending;
  CollectRefs(out, pending);
  while (!pending.empty()) {
    std::string name = *pending.begin();
    pending.erase(pending.begin());
    if (out.contains(name) || !builtins.contains(name)) continue;
    out[name] = builtins[name];
    CollectRefs(builtins[name], pending);
  }
  return out;
}

}  // namespace shardwise::kubesim
