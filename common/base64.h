// Standard base64 (RFC 4648, with padding), as Kubernetes uses for Secret data.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace shardwise {

std::string Base64Encode(std::string_view in);
// Rejects characters outside the alphabet and bad padding; ignores whitespace.
Result<std::string> Base64Decode(std::string_view in);

}  // namespace shardwise
