// shardwise-operator: discovers scrape targets from ServiceMonitors/PodMonitors, assigns
// them to scraper shards and runs the scraper fleet of each ScrapePool.
#include "common/app/app.h"
#include "common/log/log.h"

int main(int argc, char** argv) {
  shardwise::App app("shardwise-operator",
                     "Kubernetes operator and adaptive scrape scheduler: discovers targets, "
                     "spreads them over scraper shards and scales the fleet by load.",
                     ":8080");
  if (auto code = app.Init(argc, argv)) return *code;
  if (auto s = app.StartServer(); !s.ok()) {
    shardwise::log::Error("cannot start HTTP server", {{"err", s}});
    return 1;
  }
  app.SetReady(true);
  app.WaitForShutdown();
  return 0;
}
