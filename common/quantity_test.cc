#include "common/quantity.h"

#include <gtest/gtest.h>

namespace shardwise {
namespace {

TEST(QuantityTest, ParsesToMilliUnits) {
  struct Case {
    const char* text;
    int64_t milli;
  } cases[] = {{"0", 0},         {"10", 10000},
               {"1500m", 1500},  {"1.5", 1500},
               {"2k", 2000000},  {"10Mi", 10485760000},
               {"1Ki", 1024000}, {"1e3", 1000000},
               {"-2", -2000},    {"+3", 3000},
               {".5", 500},      {"100n", 1},  // rounds up
               {"1u", 1},        {"123456789m", 123456789},
               {"1E", 0}};
  for (const auto& c : cases) {
    auto q = ParseQuantity(c.text);
    if (std::string(c.text) == "1E") {
      EXPECT_FALSE(q.ok()) << "1E is 1e21 milli-units: too large";
      continue;
    }
    ASSERT_TRUE(q.ok()) << c.text << ": " << q.status().ToString();
    EXPECT_EQ(q->milli, c.milli) << c.text;
  }
}

TEST(QuantityTest, RejectsGarbage) {
  for (const char* bad : {"", "m", "abc", "1x", "1.2.3", "--1", "1e", "1Kii", "1 k"}) {
    auto q = ParseQuantity(bad);
    ASSERT_FALSE(q.ok()) << bad;
    EXPECT_NE(q.status().message().find("quantities must match"), std::string::npos) << bad;
  }
}

TEST(QuantityTest, FormatsCanonically) {
  EXPECT_EQ(FormatQuantity(1500), "1500m");
  EXPECT_EQ(FormatQuantity(450000), "450");
  EXPECT_EQ(FormatQuantity(2000000), "2k");
  EXPECT_EQ(FormatQuantity(2500000), "2500");
  EXPECT_EQ(FormatQuantity(0), "0");
  EXPECT_EQ(FormatQuantity(-1500), "-1500m");
  EXPECT_EQ(FormatQuantity(10485760000, QuantityFormat::kBinarySI), "10Mi");
  EXPECT_EQ(FormatQuantity(1000000, QuantityFormat::kBinarySI), "1k");
  EXPECT_EQ(FormatQuantity(1000000, QuantityFormat::kDecimalExponent), "1e3");
}

TEST(QuantityTest, RoundTrips) {
  for (const char* s : {"1500m", "2k", "10Mi", "450", "3G", "7Ki"}) {
    auto q = ParseQuantity(s);
    ASSERT_TRUE(q.ok()) << s;
    EXPECT_EQ(FormatQuantity(*q), s);
  }
}

}  // namespace
}  // namespace shardwise
