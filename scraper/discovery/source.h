// TargetSource: something that discovers targets and reports them as target groups.
// Start() begins discovery; the source calls `update` with its complete current group
// list whenever it changes (and at least once after a successful first read). `update`
// may be called from the source's own thread; it must not call back into the source.
// Stop() ends discovery and joins any thread; no update is delivered after it returns.
#pragma once

#include <functional>
#include <vector>

#include "scraper/discovery/target_group.h"

namespace shardwise::sd {

using UpdateFn = std::function<void(std::vector<TargetGroup>)>;

class TargetSource {
 public:
  virtual ~TargetSource() = default;
  virtual void Start(UpdateFn update) = 0;
  virtual void Stop() = 0;
};

}  // namespace shardwise::sd
