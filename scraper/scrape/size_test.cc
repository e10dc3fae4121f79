#include "scraper/scrape/size.h"

#include <gtest/gtest.h>

namespace shardwise::scrape {
namespace {

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
