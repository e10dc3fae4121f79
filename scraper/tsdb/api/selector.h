// Parses PromQL series selectors, as /api/v1/series and friends take in match[]:
//   up    up{job="api", instance=~"10\\..*"}    {__name__=~"http_.*", code!="200"}
// Strings may be double-, single- or back-quoted, with Go escapes in the first two.
// Only selectors: no functions, offsets or ranges.
#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"
#include "scraper/tsdb/index/matcher.h"

namespace shardwise::tsdb::api {

Result<std::vector<Matcher>> ParseSelector(std::string_view text);

}  // namespace shardwise::tsdb::api
