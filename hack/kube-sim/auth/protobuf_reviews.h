// Decodes the Kubernetes protobuf encoding ("k8s\0" + runtime.Unknown) of the review
// and TokenRequest objects into their JSON form. kubectl 1.32 sends these (`auth can-i`,
// `auth whoami`, `create token`) as protobuf only; the simulator answers in JSON, which
// kubectl accepts. Only the fields the auth layer reads are decoded; metadata is
// dropped. Field numbers follow k8s.io/api authentication/v1 and authorization/v1.
#pragma once

#include <string_view>

#include "hack/kube-sim/api_error.h"

namespace shardwise::kubesim {

// The object as JSON ({apiVersion, kind, spec}), 415 for other kinds, 400 when malformed.
ApiResult<json> DecodeReviewProtobuf(std::string_view body);

}  // namespace shardwise::kubesim
