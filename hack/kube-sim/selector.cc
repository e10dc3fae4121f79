#include "hack/kube-sim/selector.h"

#include <map>
#include <set>

#include <algorithm>
#include <optional>

namespace shardwise::kubesim {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Splits on commas that are not inside parentheses.
std::vector<std::string_view> SplitTerms(std::string_view text) {
  std::vector<std::string_view> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || (text[i] == ',' && depth == 0)) {
      auto term = Trim(text.substr(start, i - start));
      if (!term.empty()) out.push_back(term);
      start = i + 1;
    } else if (text[i] == '(') {
      ++depth;
    } else if (text[i] == ')') {
      --depth;
    }
  }
  return out;
}

// The value at a dotted field path, as the string the field selector compares.
std::optional<std::string> FieldValue(const json& obj, const std::string& path) {
  const json* cur = &obj;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string key =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object()) return std::nullopt;
    auto it = cur->find(key);
    if (it == cur->end()) return std::nullopt;
    cur = &*it;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return std::string();
  return cur->dump();
}

}  // namespace

ApiResult<Selector> Selector::ParseLabels(std::string_view text) {
  Selector sel;
  for (std::string_view term : SplitTerms(text)) {
    Requirement r;
    size_t pos;
    if (term.front() == '!') {
      r.key = std::string(Trim(term.substr(1)));
      r.op = Op::kNotExists;
    } else if ((pos = term.find("!=")) != std::string_view::npos) {
      r.key = std::string(Trim(term.substr(0, pos)));
      r.op = Op::kNotEquals;
      r.values.emplace_back(Trim(term.substr(pos + 2)));
    } else if ((pos = term.find("==")) != std::string_view::npos) {
      r.key = std::string(Trim(term.substr(0, pos)));
      r.op = Op::kEquals;
      r.values.emplace_back(Trim(term.substr(pos + 2)));
    } else if ((pos = term.find('=')) != std::string_view::npos) {
      r.key = std::string(Trim(term.substr(0, pos)));
      r.op = Op::kEquals;
      r.values.emplace_back(Trim(term.substr(pos + 1)));
    } else if ((pos = term.find('(')) != std::string_view::npos) {
      std::string_view head = Trim(term.substr(0, pos));
      size_t space = head.rfind(' ');
      if (space == std::string_view::npos || term.back() != ')')
        return ApiError::BadRequest("unable to parse requirement: " + std::string(term));
      r.key = std::string(Trim(head.substr(0, space)));
      std::string_view op = Trim(head.substr(space + 1));
      if (op == "in") {
        r.op = Op::kIn;
      } else if (op == "notin") {
        r.op = Op::kNotIn;
      } else {
        return ApiError::BadRequest("unable to parse requirement: unknown operator " +
                                    std::string(op));
      }
      std::string_view list = term.substr(pos + 1, term.size() - pos - 2);
      size_t start = 0;
      while (start <= list.size()) {
        size_t comma = list.find(',', start);
        auto v = Trim(list.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        if (!v.empty()) r.values.emplace_back(v);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
    } else {
      r.key = std::string(term);
      r.op = Op::kExists;
    }
    if (r.key.empty()) return ApiError::BadRequest("unable to parse requirement: empty key");
    sel.requirements_.push_back(std::move(r));
  }
  return sel;
}

ApiResult<Selector> Selector::ParseFields(std::string_view text) {
  Selector sel;
  sel.fields_ = true;
  for (std::string_view term : SplitTerms(text)) {
    Requirement r;
    size_t pos;
    if ((pos = term.find("!=")) != std::string_view::npos) {
      r.op = Op::kNotEquals;
      r.key = std::string(Trim(term.substr(0, pos)));
      r.values.emplace_back(Trim(term.substr(pos + 2)));
    } else if ((pos = term.find("==")) != std::string_view::npos) {
      r.op = Op::kEquals;
      r.key = std::string(Trim(term.substr(0, pos)));
      r.values.emplace_back(Trim(term.substr(pos + 2)));
    } else if ((pos = term.find('=')) != std::string_view::npos) {
      r.op = Op::kEquals;
      r.key = std::string(Trim(term.substr(0, pos)));
      r.values.emplace_back(Trim(term.substr(pos + 1)));
    } else {
      return ApiError::BadRequest("invalid selector: '" + std::string(text) +
                                  "'; can't understand '" + std::string(term) + "'");
    }
    sel.requirements_.push_back(std::move(r));
  }
  return sel;
}

std::string Selector::FromMatchLabels(const json& match_labels) {
  std::string out;
  if (!match_labels.is_object()) return out;
  for (auto& [k, v] : match_labels.items()) {
    if (!out.empty()) out += ",";
    out += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

Selector Selector::FromLabelSelector(const json& label_selector) {
  Selector sel;
  if (label_selector.is_null()) return sel;
  if (!label_selector.is_object()) {
    sel.match_nothing_ = true;
    return sel;
  }
  const json& ml = label_selector.value("matchLabels", json::object());
  if (ml.is_object()) {
    for (auto& [k, v] : ml.items())
      sel.requirements_.push_back(
          {k, Op::kEquals, {v.is_string() ? v.get<std::string>() : v.dump()}});
  }
  const json& exprs = label_selector.value("matchExpressions", json::array());
  if (!exprs.is_array()) {
    sel.match_nothing_ = true;
    return sel;
  }
  for (const auto& e : exprs) {
    if (!e.is_object()) {
      sel.match_nothing_ = true;
      continue;
    }
    Requirement r;
    r.key = e.value("key", "");
    std::string op = e.value("operator", "");
    if (op == "In") {
      r.op = Op::kIn;
    } else if (op == "NotIn") {
      r.op = Op::kNotIn;
    } else if (op == "Exists") {
      r.op = Op::kExists;
    } else if (op == "DoesNotExist") {
      r.op = Op::kNotExists;
    } else {
      sel.match_nothing_ = true;
      continue;
    }
    for (const auto& v : e.value("values", json::array()))
      if (v.is_string()) r.values.push_back(v.get<std::string>());
    sel.requirements_.push_back(std::move(r));
  }
  return sel;
}

bool Selector::Matches(const json& object) const {
  if (match_nothing_) return false;
  static const json kEmpty = json::object();
  const json& labels = object.contains("metadata") && object["metadata"].contains("labels") &&
                               object["metadata"]["labels"].is_object()
                           ? object["metadata"]["labels"]
                           : kEmpty;
  for (const Requirement& r : requirements_) {
    std::optional<std::string> value;
    if (fields_) {
      value = FieldValue(object, r.key);
      if (!value) value = std::string();  // a missing field compares as ""
    } else {
      auto it = labels.find(r.key);
      if (it != labels.end()) value = it->is_string() ? it->get<std::string>() : it->dump();
    }
    auto in_values = [&] {
      return value && std::find(r.values.begin(), r.values.end(), *value) != r.values.end();
    };
    switch (r.op) {
      case Op::kEquals:
      case Op::kIn:
        if (!in_values()) return false;
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        if (in_values()) return false;
        break;
      case Op::kExists:
        if (!value) return false;
        break;
      case Op::kNotExists:
        if (value) return false;
        break;
    }
  }
  return true;
}

std::vector<std::string> Selector::Keys() const {
  std::vector<std::string> out;
  for (const auto& r : requirements_) out.push_back(r.key);
  return out;
}

ApiError CheckFieldLabels(const Selector& fields, const std::string& group, const std::string& kind,
                          bool builtin) {
  static const std::map<std::string, std::set<std::string>> kByKind = {
      {"/Pod",
       {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs",
        "status.nominatedNodeName"}},
      {"/Event",
       {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
        "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
        "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"}},
      {"events.k8s.io/Event",
       {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
        "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
        "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
        "regarding.kind", "regarding.name", "regarding.namespace"}},
      {"/Secret", {"type"}},
      {"/Namespace", {"status.phase"}},
      {"/Node", {"spec.unschedulable"}},
      {"/Service", {"spec.clusterIP", "spec.type"}},
      {"/ReplicationController", {"status.replicas"}},
      {"apps/ReplicaSet", {"status.replicas"}},
      {"batch/Job", {"status.successful"}},
      {"certificates.k8s.io/CertificateSigningRequest", {"spec.signerName"}},
  };
  for (const auto& key : fields.Keys()) {
    if (key == "metadata.name" || key == "metadata.namespace") continue;
    auto it = kByKind.find(group + "/" + kind);
    if (it != kByKind.end() && it->second.count(key)) continue;
    if (!builtin)
      return ApiError::BadRequest("\"" + key +
                                  "\" is not a known field selector: only \"metadata.name\", "
                                  "\"metadata.namespace\"");
    return ApiError::BadRequest("field label not supported: " + key);
  }
  return ApiError();
}

}  // namespace shardwise::kubesim
