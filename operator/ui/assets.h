// The web UI's files (operator/ui/assets/), compiled in by CMake (shardwise_embed_assets).
#pragma once

#include <vector>

#include "common/http/assets.h"

namespace shardwise::ui {

const std::vector<http::Asset>& EmbeddedAssets();

}  // namespace shardwise::ui
