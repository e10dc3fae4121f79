#include "scraper/scrape/duration.h"

#include <gtest/gtest.h>

namespace shardwise::scrape {
namespace {

using std::chrono::milliseconds;

TEST(DurationTest, ParsesPrometheusSyntax) {
  EXPECT_EQ(ParseDuration("15s").value(), milliseconds(15000));
  EXPECT_EQ(ParseDuration("1m30s").value(), milliseconds(90000));
  EXPECT_EQ(ParseDuration("500ms").value(), milliseconds(500));
  EXPECT_EQ(ParseDuration("1h").value(), milliseconds(3600000));
  EXPECT_EQ(ParseDuration("1d").value(), milliseconds(86400000));
  EXPECT_EQ(ParseDuration("1w").value(), milliseconds(7 * 86400000LL));
  EXPECT_EQ(ParseDuration("1y").value(), milliseconds(365 * 86400000LL));
  EXPECT_EQ(ParseDuration("1m1ms").value(), milliseconds(60001));
  EXPECT_EQ(ParseDuration("0").value(), milliseconds(0));
}

TEST(DurationTest, RejectsMalformed) {
  for (const char* bad : {"", "s", "1", "1.5s", "-1s", "1s1m", "1m1m", "10x", " 1s", "1S"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(DurationTest, FormatsShortestForm) {
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(90000)), "1m30s");
  EXPECT_EQ(FormatDuration(milliseconds(15000)), "15s");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1s500ms");
  EXPECT_EQ(FormatDuration(milliseconds(86400000)), "1d");
  EXPECT_EQ(FormatDuration(milliseconds(7 * 86400000LL)), "1w");
  for (const char* s : {"1h2m3s", "10s", "100ms", "2d3h"}) {
    EXPECT_EQ(FormatDuration(ParseDuration(s).value()), s);
  }
}

TEST(SizeTest, ParsesBase2Units) {
  EXPECT_EQ(ParseSize("0").value(), 0u);
  EXPECT_EQ(ParseSize("100").value(), 100u);
  EXPECT_EQ(ParseSize("100B").value(), 100u);
  EXPECT_EQ(ParseSize("1KB").value(), 1024u);
  EXPECT_EQ(ParseSize("10MB").value(), 10u << 20);
  EXPECT_EQ(ParseSize("1GiB").value(), 1u << 30);
  EXPECT_FALSE(ParseSize("MB").ok());
  EXPECT_FALSE(ParseSize("1XB").ok());
  EXPECT_FALSE(ParseSize("1.5MB").ok());
}

}  // namespace
}  // namespace shardwise::scrape
