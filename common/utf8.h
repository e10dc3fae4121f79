// UTF-8 validation, shared by the exposition parsers and the HTTP servers (paths and
// parameters that are not UTF-8 are answered 400).
#pragma once

#include <string_view>

namespace shardwise {

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. Fast on ASCII.
bool IsValidUtf8(std::string_view s);

}  // namespace shardwise
