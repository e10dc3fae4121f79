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

}  // namespace shardwise::kubesim
