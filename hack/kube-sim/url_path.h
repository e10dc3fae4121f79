// How the simulator reads a request path: the server has already percent-decoded it
// (http::Request::path); routing, RBAC attributes and the aggregation proxy all work on its
// non-empty '/'-separated segments, so "/api//v1/" and "/api/v1" route alike.
#pragma once

#include <string>
#include <vector>

namespace shardwise::kubesim {

// The non-empty segments of `path`, in order ("/apis/g/v/x" -> {"apis", "g", "v", "x"}).
std::vector<std::string> SplitPath(const std::string& path);

}  // namespace shardwise::kubesim
