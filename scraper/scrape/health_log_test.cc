#include "scraper/scrape/health_log.h"

#include <gtest/gtest.h>

namespace shardwise::scrape {
namespace {

using Change = HealthLog::Change;

TEST(HealthLogTest, OneLinePerStateChangeNotPerScrape) {
  HealthLog log;
  EXPECT_EQ(log.Observe(Status::OK()), Change::kNone);
  EXPECT_EQ(log.Observe(Status::Unavailable("connect to 127.0.0.1:9100 refused")),
            Change::kFailing);
  int lines = 0;
  for (int i = 0; i < 1000; ++i) {
    // Only digits differ (ports, durations): the same failure.
    Status st =
        Status::Unavailable("connect to 127.0.0.1:" + std::to_string(9000 + i) + " refused");
    if (log.Observe(st) != Change::kNone) ++lines;
  }
  EXPECT_EQ(lines, 0);
  EXPECT_EQ(log.Observe(Status::DeadlineExceeded("timeout after 10001 ms")), Change::kErrorChanged);
  EXPECT_EQ(log.Observe(Status::DeadlineExceeded("timeout after 10003 ms")), Change::kNone);
  EXPECT_EQ(log.Observe(Status::OK()), Change::kRecovered);
  EXPECT_EQ(log.failures(), 1003u);
  EXPECT_EQ(log.Observe(Status::OK()), Change::kNone);
  EXPECT_EQ(log.failures(), 0u);
  // A new outage is reported again.
  EXPECT_EQ(log.Observe(Status::Unavailable("down")), Change::kFailing);
  EXPECT_EQ(log.failures(), 1u);
}

}  // namespace
}  // namespace shardwise::scrape
