#include "scraper/operator_client/sample_rate.h"

#include <gtest/gtest.h>

namespace shardwise::opclient {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Reports every 5 s, one target of 366 series scraped every 10 s (at t = 3, 13, 23, ...):
// the per-report figure used to alternate between 73.2 and 0.
TEST(SampleRateTest, ASteadyLoadReadsSteadyWhenScrapesAreSparserThanReports) {
  SampleRate rate;
  const auto t0 = SampleRate::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(rate.Update(t0, 12345, seconds(10)), 0) << "the first reading only starts";
  double last_scrape = 3;
  for (int report = 1; report <= 60; ++report) {
    const double t = 5.0 * report;
    double samples = 0;
    while (last_scrape + 10 <= t) {
      last_scrape += 10;
      samples += 366;
    }
    if (report == 1) samples += 366;  // the scrape at t = 3
    const double per_second =
        rate.Update(t0 + milliseconds(static_cast<long>(t * 1000)), samples, seconds(10));
    if (t >= 60) {
      // A 60 s window holds 6 scrapes: exactly the rate of 36.6/s.
      EXPECT_NEAR(per_second, 36.6, 36.6 / 6) << "at t=" << t;
    }
  }
}

TEST(SampleRateTest, LongScrapeIntervalsWidenTheWindow) {
  SampleRate rate(seconds(60));
  const auto t0 = SampleRate::Clock::time_point{} + std::chrono::hours(1);
  rate.Update(t0, 0, seconds(60));
  double per_second = 0;
  // 600 samples once a minute, reported every 15 s, for 10 minutes.
  for (int i = 1; i <= 40; ++i) {
    per_second = rate.Update(t0 + seconds(15 * i), i % 4 == 1 ? 600 : 0, seconds(60));
    if (i >= 16) {
      EXPECT_NEAR(per_second, 10, 10.0 / 4 + 1e-9) << "report " << i;
    }
  }
}

TEST(SampleRateTest, FollowsALoadChangeWithinTheWindow) {
  SampleRate rate(seconds(60));
  const auto t0 = SampleRate::Clock::time_point{} + std::chrono::hours(1);
  rate.Update(t0, 0, seconds(5));
  double per_second = 0;
  for (int i = 1; i <= 24; ++i) per_second = rate.Update(t0 + seconds(5 * i), 500, seconds(5));
  EXPECT_DOUBLE_EQ(per_second, 100);
  for (int i = 25; i <= 36; ++i) per_second = rate.Update(t0 + seconds(5 * i), 0, seconds(5));
  EXPECT_DOUBLE_EQ(per_second, 0) << "a full window after the targets went away";
}

TEST(SampleRateTest, NegativeDeltasAndRepeatedTimesAreHarmless) {
  SampleRate rate;
  const auto t0 = SampleRate::Clock::time_point{} + std::chrono::hours(1);
  rate.Update(t0, 0, milliseconds(0));
  EXPECT_EQ(rate.Update(t0, 10, milliseconds(0)), 0) << "no time passed";
  EXPECT_DOUBLE_EQ(rate.Update(t0 + seconds(10), -50, milliseconds(0)), 1);
}

}  // namespace
}  // namespace shardwise::opclient
