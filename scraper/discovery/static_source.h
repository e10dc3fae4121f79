// StaticSource: static_configs. Reports its fixed groups once, synchronously, on Start().
#pragma once

#include "scraper/discovery/source.h"

namespace shardwise::sd {

class StaticSource : public TargetSource {
 public:
  explicit StaticSource(std::vector<TargetGroup> groups) : groups_(std::move(groups)) {}
  void Start(UpdateFn update) override { update(groups_); }
  void Stop() override {}

 private:
  std::vector<TargetGroup> groups_;
};

}  // namespace shardwise::sd
