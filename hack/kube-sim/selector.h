// Label and field selectors as the apiserver accepts them in `labelSelector` and
// `fieldSelector` query parameters. Label selectors support =, ==, !=, in, notin,
// existence ("k") and non-existence ("!k"); field selectors support =, == and != on
// a dotted field path ("metadata.name", "involvedObject.kind").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hack/kube-sim/api_error.h"

namespace shardwise::kubesim {

class Selector {
 public:
  // An empty selector matches everything.
  Selector() = default;
  static ApiResult<Selector> ParseLabels(std::string_view text);
  static ApiResult<Selector> ParseFields(std::string_view text);
  // A matchLabels map as an equality selector ("a=b,c=d").
  static std::string FromMatchLabels(const json& match_labels);
  // A metav1.LabelSelector object (matchLabels + matchExpressions with In, NotIn, Exists,
  // DoesNotExist). Null or {} matches everything; a malformed one matches nothing.
  static Selector FromLabelSelector(const json& label_selector);

  bool Matches(const json& object) const;
  bool empty() const { return requirements_.empty(); }
  // A field selector's keys, or a label selector's.
  std::vector<std::string> Keys() const;

 private:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kNotExists };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };
  bool fields_ = false;
  bool match_nothing_ = false;
  std::vector<Requirement> requirements_;
};

// 400 unless every key of field selector `fields` is one the apiserver supports for
// the kind: metadata.name and metadata.namespace everywhere, plus the kind's own
// (pods: spec.nodeName, status.phase, ...; events: involvedObject.*, reason, type, ...).
// Built-ins say `field label not supported: KEY`; custom resources name what is allowed.
ApiError CheckFieldLabels(const Selector& fields, const std::string& group, const std::string& kind,
                          bool builtin);

}  // namespace shardwise::kubesim
