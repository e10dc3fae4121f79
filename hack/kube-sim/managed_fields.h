// Field ownership for server-side apply (metadata.managedFields, FieldsV1).
// Simplifications against the real structured-merge-diff: lists are owned as a whole,
// and only metadata.labels, annotations, ownerReferences and finalizers are tracked (and
// applied) inside metadata. An applied list that
// the live one covers item by item (the live items only add fields, e.g. defaults) is no
// change and no conflict, as real apply's merge by key finds.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "hack/kube-sim/api_error.h"

namespace shardwise::kubesim {

using FieldPath = std::vector<std::string>;
using FieldSet = std::set<FieldPath>;

// Leaf fields of an object (scalars, lists and empty maps), skipping apiVersion, kind,
// status when `skip_status`, and metadata other than labels, annotations, ownerReferences
// and finalizers.
FieldSet LeafFields(const json& object, bool skip_status);
json FieldSetToV1(const FieldSet& fields);
FieldSet FieldSetFromV1(const json& v1);
// ".spec.replicas"
std::string FieldPathString(const FieldPath& path);

struct ApplyRequest {
  std::string manager;
  std::string api_version;  // of the request ("example.com/v1alpha1")
  bool force = false;
  bool skip_status = false;         // the resource has a status subresource
  std::string group, plural, name;  // for the 409 message
};

// Server-side apply of `applied` onto `live` (null when the object does not exist yet).
// Returns the merged object with updated metadata.managedFields, or 409 on conflicts.
ApiResult<json> ServerSideApply(const json& live, const json& applied, const ApplyRequest& req);

// Records a non-apply write: `manager` takes ownership of every field that differs
// between `before` (null for create) and `after`; other managers lose those fields.
// Updates after.metadata.managedFields in place.
void RecordUpdate(const json& before, json& after, const std::string& manager,
                  const std::string& api_version, const std::string& subresource, bool skip_status);

}  // namespace shardwise::kubesim
