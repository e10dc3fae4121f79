#include "hack/kube-sim/json_path.h"

#include <string>
#include <vector>

namespace shardwise::kubesim {
namespace {

using json = nlohmann::json;

struct Step {
  enum Kind { kField, kIndex, kFilter };
  Step(Kind k, std::string f, long i = 0) : kind(k), field(std::move(f)), index(i) {}
  Kind kind;
  std::string field;  // kField: key; kFilter: the filtered key
  long index = 0;
  json filter_value;  // kFilter: value to compare (string, number or bool)
};

std::optional<std::vector<Step>> Parse(std::string_view p) {
  while (!p.empty() && p.front() == ' ') p.remove_prefix(1);
  while (!p.empty() && p.back() == ' ') p.remove_suffix(1);
  if (p.size() >= 2 && p.front() == '{' && p.back() == '}') p = p.substr(1, p.size() - 2);
  if (!p.empty() && p.front() == '$') p.remove_prefix(1);
  std::vector<Step> steps;
  size_t i = 0;
  while (i < p.size()) {
    if (p[i] == '.') {
      ++i;
      size_t start = i;
      while (i < p.size() && p[i] != '.' && p[i] != '[') ++i;
      if (i == start) continue;  // ".." or trailing "."
      steps.push_back({Step::kField, std::string(p.substr(start, i - start))});
    } else if (p[i] == '[') {
      size_t close = p.find(']', i);
      if (close == std::string_view::npos) return std::nullopt;
      std::string_view inner = p.substr(i + 1, close - i - 1);
      if (!inner.empty() && inner.front() == '?') {
        // ?(@.key=="value")
        size_t at = inner.find("@.");
        size_t eq = inner.find("==");
        if (at == std::string_view::npos || eq == std::string_view::npos) return std::nullopt;
        Step s{Step::kFilter, std::string(inner.substr(at + 2, eq - at - 2))};
        std::string_view rhs = inner.substr(eq + 2);
        while (!rhs.empty() && (rhs.back() == ')' || rhs.back() == ' ')) rhs.remove_suffix(1);
        while (!rhs.empty() && rhs.front() == ' ') rhs.remove_prefix(1);
        if (rhs.size() >= 2 && (rhs.front() == '"' || rhs.front() == '\'')) {
          s.filter_value = std::string(rhs.substr(1, rhs.size() - 2));
        } else {
          s.filter_value = json::parse(rhs, nullptr, false);
          if (s.filter_value.is_discarded()) s.filter_value = std::string(rhs);
        }
        steps.push_back(std::move(s));
      } else if (!inner.empty() && (inner.front() == '\'' || inner.front() == '"')) {
        steps.push_back({Step::kField, std::string(inner.substr(1, inner.size() - 2))});
      } else {
        try {
          steps.push_back({Step::kIndex, "", std::stol(std::string(inner))});
        } catch (...) {
          return std::nullopt;
        }
      }
      i = close + 1;
    } else {
      // A leading bare key ("spec.replicas").
      size_t start = i;
      while (i < p.size() && p[i] != '.' && p[i] != '[') ++i;
      steps.push_back({Step::kField, std::string(p.substr(start, i - start))});
    }
  }
  return steps;
}

}  // namespace

std::optional<json> EvalJsonPath(const json& root, std::string_view path) {
  auto steps = Parse(path);
  if (!steps) return std::nullopt;
  const json* cur = &root;
  for (const Step& s : *steps) {
    switch (s.kind) {
      case Step::kField: {
        if (!cur->is_object()) return std::nullopt;
        auto it = cur->find(s.field);
        if (it == cur->end()) return std::nullopt;
        cur = &*it;
        break;
      }
      case Step::kIndex: {
        if (!cur->is_array()) return std::nullopt;
        long n = static_cast<long>(cur->size());
        long idx = s.index < 0 ? n + s.index : s.index;
        if (idx < 0 || idx >= n) return std::nullopt;
        cur = &(*cur)[idx];
        break;
      }
      case Step::kFilter: {
        if (!cur->is_array()) return std::nullopt;
        const json* found = nullptr;
        for (const auto& el : *cur) {
          if (!el.is_object()) continue;
          auto it = el.find(s.field);
          if (it != el.end() && *it == s.filter_value) {
            found = &el;
            break;
          }
        }
        if (!found) return std::nullopt;
        cur = found;
        break;
      }
    }
  }
  return *cur;
}

bool SetJsonPath(json& root, std::string_view path, const json& value) {
  auto steps = Parse(path);
  if (!steps || steps->empty()) return false;
  json* cur = &root;
  for (const Step& s : *steps) {
    if (s.kind != Step::kField) return false;
    if (!cur->is_object()) *cur = json::object();
    cur = &(*cur)[s.field];
  }
  *cur = value;
  return true;
}

}  // namespace shardwise::kubesim
