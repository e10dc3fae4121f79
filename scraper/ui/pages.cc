#include "scraper/ui/pages.h"

#include "scraper/tsdb/api/tsdb_status.h"

namespace shardwise::scraper_ui {

namespace {

// A page at a fixed path: the asset handler answers `page` for its own prefix.
http::Handler Page(const char* path, const char* asset) {
  return http::AssetHandler(EmbeddedAssets(), path, asset);
}

}  // namespace

void RegisterPages(http::Server& server, const tsdb::Head& head) {
  server.HandleExact("/", Page("/", "targets.html"));
  server.HandleExact("/targets", Page("/targets", "targets.html"));
  server.HandleExact("/tsdb-status", Page("/tsdb-status", "tsdb-status.html"));
  server.Handle("/ui/", http::AssetHandler(EmbeddedAssets(), "/ui/"));
  server.HandleExact("/api/v1/status/tsdb",
                     http::Methods({"GET", "HEAD"}, http::Simple([&head](const http::Request& r) {
                                     return tsdb::api::TsdbStatusApi(head, r);
                                   })));
}

}  // namespace shardwise::scraper_ui
