#include "common/duration.h"

#include <gtest/gtest.h>

namespace shardwise {
namespace {

using std::chrono::milliseconds;

TEST(DurationTest, ParsesPrometheusForms) {
  EXPECT_EQ(*ParseDuration("0"), milliseconds(0));
  EXPECT_EQ(*ParseDuration("15s"), milliseconds(15000));
  EXPECT_EQ(*ParseDuration("1h30m"), milliseconds(5400000));
  EXPECT_EQ(*ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(*ParseDuration("1m500ms"), milliseconds(60500));
  EXPECT_EQ(*ParseDuration("2d"), milliseconds(2LL * 86400000));
  EXPECT_EQ(*ParseDuration("1y"), milliseconds(365LL * 86400000));
}

TEST(DurationTest, RejectsMalformed) {
  for (const char* bad : {"", "s", "10", "1.5s", "1m1h", "1s1s", "5x", "-1s", "1h 2m"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
  EXPECT_NE(ParseDuration("5x").status().message().find("unit"), std::string::npos);
}

TEST(DurationTest, FormatsShortestForm) {
  EXPECT_EQ(FormatDuration(milliseconds(90000)), "1m30s");
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1s500ms");
  // Years and weeks only when exact, as Prometheus prints them.
  EXPECT_EQ(FormatDuration(milliseconds(90LL * 86400000)), "90d");
  EXPECT_EQ(FormatDuration(milliseconds(14LL * 86400000)), "2w");
  EXPECT_EQ(FormatDuration(milliseconds(365LL * 86400000)), "1y");
  EXPECT_EQ(*ParseDuration(FormatDuration(milliseconds(123456789))), milliseconds(123456789));
}

}  // namespace
}  // namespace shardwise
