// Static web assets compiled into a binary (cmake: shardwise_embed_assets) and the handler
// that serves them. Every page a Shardwise binary shows comes from here: nothing is read
// from disk or fetched from elsewhere at run time.
//
// AssetHandler(assets, prefix, index): GET/HEAD of `prefix` + an asset's path answers it
// with its content type; `prefix` alone (and `prefix` without its trailing slash) answers
// `index`. Unknown paths → 404. Responses carry a strict Content-Security-Policy (only this
// origin; no inline script), X-Content-Type-Options: nosniff and Cache-Control: no-cache with
// an ETag, so an upgraded binary's pages are never mixed with cached old ones.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/http/server.h"

namespace shardwise::http {

struct Asset {
  std::string_view path;  // relative, e.g. "index.html", "js/app.js"
  std::string_view content_type;
  std::string_view body;
};

const Asset* FindAsset(const std::vector<Asset>& assets, std::string_view path);

Handler AssetHandler(const std::vector<Asset>& assets, std::string prefix,
                     std::string index = "index.html");

}  // namespace shardwise::http
