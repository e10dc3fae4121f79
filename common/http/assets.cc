#include "common/http/assets.h"

#include <cstdio>

namespace shardwise::http {

namespace {

// FNV-1a: an ETag only has to change when the bytes do.
std::string ETagOf(std::string_view body) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

const Asset* FindAsset(const std::vector<Asset>& assets, std::string_view path) {
  for (const auto& a : assets) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

Handler AssetHandler(const std::vector<Asset>& assets, std::string prefix, std::string index) {
  return Methods(
      {"GET", "HEAD"},
      Simple([&assets, prefix = std::move(prefix), index = std::move(index)](const Request& req) {
        std::string_view rel;
        std::string_view path = req.path;
        if (path == prefix || req.path + "/" == prefix) {
          rel = index;
        } else if (path.starts_with(prefix)) {
          rel = path.substr(prefix.size());
        } else {
          return Response::Text(404, "not found\n");
        }
        const Asset* a = FindAsset(assets, rel);
        if (a == nullptr) return Response::Text(404, "not found\n");
        std::string etag = ETagOf(a->body);
        Response r;
        if (req.Header("If-None-Match") == etag) {
          r.status = 304;
        } else {
          r.status = 200;
          r.body = std::string(a->body);
        }
        r.With("Content-Type", std::string(a->content_type))
            .With("Cache-Control", "no-cache")
            .With("ETag", etag)
            .With("X-Content-Type-Options", "nosniff")
            .With("Content-Security-Policy",
                  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                  "frame-ancestors 'none'");
        return r;
      }));
}

}  // namespace shardwise::http
