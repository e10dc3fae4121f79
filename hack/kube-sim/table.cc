#include "hack/kube-sim/table.h"

#include "hack/kube-sim/json_path.h"
#include "hack/kube-sim/time_util.h"

namespace shardwise::kubesim {
namespace {

json CrdCell(const Column& c, const json& obj) {
  auto v = EvalJsonPath(obj, c.json_path);
  if (!v || v->is_null()) return nullptr;
  if (c.type == "integer") return v->is_number_integer() || v->is_number_unsigned() ? *v : json();
  if (c.type == "number") return v->is_number() ? *v : json();
  if (c.type == "boolean") return v->is_boolean() ? *v : json();
  if (c.type == "date") {
    if (!v->is_string()) return nullptr;
    auto t = ParseRfc3339(v->get<std::string>());
    if (!t) return nullptr;
    return HumanDuration(NowSeconds() - *t);
  }
  if (v->is_string()) return *v;
  if (v->is_array() || v->is_object()) return v->dump();
  return v->dump();
}

}  // namespace

bool WantsTable(std::string_view accept) {
  return accept.find("as=Table") != std::string_view::npos;
}

json RenderTable(const ResourceType& type, const std::vector<json>& objects,
                 const json& list_metadata, const TableOptions& opts) {
  json table = {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", list_metadata}};
  if (opts.headers) {
    json defs = json::array();
    for (const auto& c : type.columns) {
      defs.push_back({{"name", c.name},
                      {"type", c.type == "date" ? "date" : c.type},
                      {"format", c.format},
                      {"description", c.description},
                      {"priority", c.priority}});
    }
    table["columnDefinitions"] = defs;
  }
  json rows = json::array();
  for (const auto& obj : objects) {
    json cells = json::array();
    for (const auto& c : type.columns) cells.push_back(c.cell ? c.cell(obj) : CrdCell(c, obj));
    json row = {{"cells", cells}};
    if (opts.include_object == "Object") {
      row["object"] = obj;
    } else if (opts.include_object != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", obj.value("metadata", json::object())}};
    }
    rows.push_back(std::move(row));
  }
  table["rows"] = rows;
  return table;
}

}  // namespace shardwise::kubesim
