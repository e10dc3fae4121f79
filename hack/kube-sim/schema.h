// Structural-schema handling for custom resources, in the apiserver's order: prune
// unknown fields (unless x-kubernetes-preserve-unknown-fields), apply defaults, then
// validate (type, required, enum, minimum/maximum with exclusive variants,
// minLength/maxLength, pattern (RE2), minItems/maxItems, items, additionalProperties,
// nullable, x-kubernetes-int-or-string). apiVersion, kind and metadata at the root are
// never pruned or validated.
#pragma once

#include <string>
#include <vector>

#include "hack/kube-sim/api_error.h"

namespace shardwise::kubesim {

struct SchemaOutcome {
  std::vector<std::string> pruned;  // field paths of dropped unknown fields ("spec.bogus")
  json causes = json::array();      // metav1.StatusCause entries for a 422
};

// Prunes and defaults `object` in place and returns what was dropped and what is invalid.
SchemaOutcome ApplySchema(const json& schema, json& object);

}  // namespace shardwise::kubesim
