// Parses a PromQL expression of the supported subset into an Expr tree, type-checking it as
// Prometheus does (e.g. rate() needs a range vector, scalar comparisons need `bool`).
// Errors are InvalidArgument with the byte position: "1:12: parse error: ...".
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "operator/promql/ast.h"

namespace shardwise::promql {

Result<ExprPtr> Parse(std::string_view query);

// Parses a Prometheus duration such as "5m", "1h30m" or "250ms" into milliseconds.
Result<int64_t> ParseDuration(std::string_view s);

}  // namespace shardwise::promql
