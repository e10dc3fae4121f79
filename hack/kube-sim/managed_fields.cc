#include "hack/kube-sim/managed_fields.h"

#include <algorithm>
#include <functional>
#include <map>

#include "hack/kube-sim/time_util.h"

namespace shardwise::kubesim {
namespace {

// The metadata an applier may own: the rest is the server's (name and namespace come from
// the URL). Owner references matter most: the garbage collector deletes what an operator
// applies with them when their owner goes.
constexpr const char* kAppliedMetadata[] = {"labels", "annotations", "ownerReferences",
                                            "finalizers"};

void CollectLeaves(const json& v, FieldPath& path, FieldSet& out) {
  if (v.is_object() && !v.empty()) {
    for (auto& [k, child] : v.items()) {
      path.push_back(k);
      CollectLeaves(child, path, out);
      path.pop_back();
    }
  } else {
    out.insert(path);
  }
}

const json* At(const json& obj, const FieldPath& path) {
  const json* cur = &obj;
  for (const auto& k : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

void EraseAt(json& obj, const FieldPath& path) {
  if (path.empty()) return;
  json* cur = &obj;
  std::vector<json*> parents;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    if (!cur->is_object() || !cur->contains(path[i])) return;
    parents.push_back(cur);
    cur = &(*cur)[path[i]];
  }
  if (cur->is_object()) cur->erase(path.back());
  // Drop maps the removal left empty, as apply does.
  for (size_t i = parents.size(); i-- > 0;) {
    json& child = (*parents[i])[path[i]];
    if (child.is_object() && child.empty()) {
      parents[i]->erase(path[i]);
    } else {
      break;
    }
  }
}

struct Entry {
  json meta;  // everything but fieldsV1
  FieldSet fields;
};

std::vector<Entry> ReadEntries(const json& obj) {
  std::vector<Entry> out;
  const json* mf = At(obj, {"metadata", "managedFields"});
  if (!mf || !mf->is_array()) return out;
  for (const auto& e : *mf) {
    Entry entry;
    entry.meta = e;
    entry.meta.erase("fieldsV1");
    entry.fields = FieldSetFromV1(e.value("fieldsV1", json::object()));
    out.push_back(std::move(entry));
  }
  return out;
}

void WriteEntries(json& obj, const std::vector<Entry>& entries) {
  json arr = json::array();
  for (const auto& e : entries) {
    if (e.fields.empty()) continue;
    json j = e.meta;
    j["fieldsType"] = "FieldsV1";
    j["fieldsV1"] = FieldSetToV1(e.fields);
    arr.push_back(std::move(j));
  }
  if (arr.empty()) {
    if (obj.contains("metadata")) obj["metadata"].erase("managedFields");
  } else {
    obj["metadata"]["managedFields"] = std::move(arr);
  }
}

Entry& FindOrAdd(std::vector<Entry>& entries, const std::string& manager, const std::string& op,
                 const std::string& api_version, const std::string& subresource) {
  for (auto& e : entries) {
    if (e.meta.value("manager", "") == manager && e.meta.value("operation", "") == op &&
        e.meta.value("subresource", "") == subresource) {
      e.meta["apiVersion"] = api_version;
      e.meta["time"] = NowRfc3339();
      return e;
    }
  }
  Entry e;
  e.meta = {
      {"manager", manager}, {"operation", op}, {"apiVersion", api_version}, {"time", NowRfc3339()}};
  if (!subresource.empty()) e.meta["subresource"] = subresource;
  entries.push_back(std::move(e));
  return entries.back();
}

// Drops owned paths that no longer exist in the object.
void DropMissing(std::vector<Entry>& entries, const json& obj) {
  for (auto& e : entries)
    for (auto it = e.fields.begin(); it != e.fields.end();)
      it = At(obj, *it) ? std::next(it) : e.fields.erase(it);
}

// True if `live` already holds everything `applied` sets: maps by key, lists item by item
// (same length), scalars equal. A list the apiserver filled in (a port's protocol, a
// container's imagePullPolicy, a schema default) is then not a change: real server-side
// apply merges such lists by key and finds no conflict, where comparing the whole list
// would.
bool Covers(const json& live, const json& applied) {
  if (applied.is_object() && live.is_object()) {
    for (auto& [k, v] : applied.items()) {
      auto it = live.find(k);
      if (it == live.end() || !Covers(*it, v)) return false;
    }
    return true;
  }
  if (applied.is_array() && live.is_array()) {
    if (applied.size() != live.size()) return false;
    for (size_t i = 0; i < applied.size(); ++i)
      if (!Covers(live[i], applied[i])) return false;
    return true;
  }
  return live == applied;
}

// True if `a` equals or is an ancestor/descendant of `b`.
bool Overlaps(const FieldPath& a, const FieldPath& b) {
  size_t n = std::min(a.size(), b.size());
  return std::equal(a.begin(), a.begin() + n, b.begin());
}

}  // namespace

FieldSet LeafFields(const json& object, bool skip_status) {
  FieldSet out;
  if (!object.is_object()) return out;
  FieldPath path;
  for (auto& [k, v] : object.items()) {
    if (k == "apiVersion" || k == "kind") continue;
    if (k == "status" && skip_status) continue;
    if (k == "metadata") {
      for (const char* sub : kAppliedMetadata) {
        if (v.is_object() && v.contains(sub)) {
          path = {"metadata", sub};
          CollectLeaves(v[sub], path, out);
        }
      }
      continue;
    }
    path = {k};
    CollectLeaves(v, path, out);
  }
  return out;
}

json FieldSetToV1(const FieldSet& fields) {
  json out = json::object();
  for (const auto& path : fields) {
    json* cur = &out;
    for (const auto& k : path) cur = &(*cur)["f:" + k];
    if (cur->is_null()) *cur = json::object();
  }
  return out;
}

FieldSet FieldSetFromV1(const json& v1) {
  FieldSet out;
  FieldPath path;
  std::function<void(const json&)> walk = [&](const json& node) {
    bool has_child = false;
    if (node.is_object()) {
      for (auto& [k, child] : node.items()) {
        if (k.rfind("f:", 0) != 0) continue;
        has_child = true;
        path.push_back(k.substr(2));
        walk(child);
        path.pop_back();
      }
    }
    if (!has_child && !path.empty()) out.insert(path);
  };
  walk(v1);
  return out;
}

std::string FieldPathString(const FieldPath& path) {
  std::string out;
  for (const auto& k : path) out += "." + k;
  return out;
}

ApiResult<json> ServerSideApply(const json& live, const json& applied, const ApplyRequest& req) {
  FieldSet applied_fields = LeafFields(applied, req.skip_status);
  json base = live.is_null() ? json::object() : live;
  std::vector<Entry> entries = ReadEntries(base);

  // 1. Conflicts: fields another manager owns whose value this apply changes.
  std::map<std::string, std::vector<std::string>> conflicts_by_manager;
  json causes = json::array();
  size_t conflict_count = 0;
  for (auto& e : entries) {
    bool same =
        e.meta.value("manager", "") == req.manager && e.meta.value("operation", "") == "Apply";
    if (same) continue;
    for (auto it = e.fields.begin(); it != e.fields.end();) {
      const FieldPath& owned = *it;
      bool conflict = false;
      for (const auto& f : applied_fields) {
        if (!Overlaps(f, owned)) continue;
        const json* live_v = At(base, owned);
        const json* new_v = At(applied, owned);
        if (!new_v) new_v = At(applied, f);
        if (!live_v || !new_v || !Covers(*live_v, *new_v)) conflict = true;
        break;
      }
      if (conflict && !req.force) {
        std::string who = "\"" + e.meta.value("manager", "") + "\"";
        // The apiserver's wording names the subresource a manager wrote through.
        if (!e.meta.value("subresource", "").empty())
          who += " with subresource \"" + e.meta.value("subresource", "") + "\"";
        if (e.meta.value("operation", "") == "Update")
          who += " using " + e.meta.value("apiVersion", "");
        conflicts_by_manager[who].push_back(FieldPathString(owned));
        causes.push_back({{"reason", "FieldManagerConflict"},
                          {"message", "conflict with " + who},
                          {"field", FieldPathString(owned)}});
        ++conflict_count;
      }
      it = (conflict && req.force) ? e.fields.erase(it) : std::next(it);
    }
  }
  if (conflict_count > 0) {
    std::string msg = "Apply failed with " + std::to_string(conflict_count) + " conflict" +
                      (conflict_count > 1 ? "s" : "") + ": ";
    bool first = true;
    for (const auto& [who, fields] : conflicts_by_manager) {
      if (!first) msg += "\n";
      first = false;
      msg += "conflict" + std::string(fields.size() > 1 ? "s" : "") + " with " + who;
      if (fields.size() == 1) {
        msg += ": " + fields[0];
      } else {
        msg += ":";
        for (const auto& f : fields) msg += "\n- " + f;
      }
    }
    json details = {{"causes", causes}, {"name", req.name}, {"kind", req.plural}};
    if (!req.group.empty()) details["group"] = req.group;
    return ApiError(409, "Conflict", msg, details);
  }

  // 2. Fields this manager applied before but not now, owned by nobody else, go away.
  Entry& mine = FindOrAdd(entries, req.manager, "Apply", req.api_version, "");
  FieldSet previously = mine.fields;
  json merged = base;
  json patch = applied;
  if (patch.contains("metadata")) {
    json md = json::object();
    for (const char* k : kAppliedMetadata)
      if (patch["metadata"].contains(k)) md[k] = patch["metadata"][k];
    patch["metadata"] = md;
  }
  if (req.skip_status) patch.erase("status");
  // 3. Set the applied values (maps merge, lists and scalars replace).
  // A list the live object already covers stays as it is (with what the server filled in).
  std::function<void(json&, const json&)> merge = [&](json& dst, const json& src) {
    for (auto& [k, v] : src.items()) {
      if (v.is_object() && !v.empty() && dst.contains(k) && dst[k].is_object()) {
        merge(dst[k], v);
      } else if (v.is_array() && dst.contains(k) && Covers(dst[k], v)) {
        continue;
      } else {
        dst[k] = v;
      }
    }
  };
  if (!merged.contains("metadata")) merged["metadata"] = json::object();
  merge(merged, patch);
  for (const auto& old : previously) {
    if (applied_fields.count(old)) continue;
    bool owned_elsewhere = false;
    for (const auto& e : entries)
      if (&e != &mine && e.fields.count(old)) owned_elsewhere = true;
    if (!owned_elsewhere) EraseAt(merged, old);
  }
  mine.fields = applied_fields;
  // Other managers lose fields the new values replaced.
  DropMissing(entries, merged);
  WriteEntries(merged, entries);
  return merged;
}

void RecordUpdate(const json& before, json& after, const std::string& manager,
                  const std::string& api_version, const std::string& subresource,
                  bool skip_status) {
  std::vector<Entry> entries = ReadEntries(before.is_null() ? after : before);
  FieldSet now = LeafFields(after, skip_status && subresource.empty());
  if (subresource == "status") {
    FieldSet st;
    for (const auto& f : LeafFields(after, false))
      if (!f.empty() && f[0] == "status") st.insert(f);
    now = st;
  }
  FieldSet changed;
  for (const auto& f : now) {
    const json* old_v = before.is_null() ? nullptr : At(before, f);
    if (!old_v || *old_v != *At(after, f)) changed.insert(f);
  }
  if (!changed.empty()) {
    for (auto& e : entries)
      for (const auto& f : changed) e.fields.erase(f);
    Entry& mine = FindOrAdd(entries, manager, "Update", api_version, subresource);
    mine.fields.insert(changed.begin(), changed.end());
  }
  DropMissing(entries, after);
  WriteEntries(after, entries);
}

}  // namespace shardwise::kubesim
