// Standard base64 (RFC 4648, with padding), as Kubernetes uses for Secret data; and base64url
// without padding (RFC 4648 section 5), as JSON Web Tokens use for their segments.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace shardwise {

std::string Base64Encode(std::string_view in);
// Rejects characters outside the alphabet and bad padding; ignores whitespace.
Result<std::string> Base64Decode(std::string_view in);

std::string Base64UrlEncode(std::string_view in);
// Rejects the standard alphabet's '+' and '/' and padding.
Result<std::string> Base64UrlDecode(std::string_view in);

}  // namespace shardwise
