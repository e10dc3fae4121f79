#include "scraper/parse/lexer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace shardwise::parse::lex {
namespace {

TEST(ParseValueTest, AcceptsWhatPrometheusAccepts) {
  struct Case {
    std::string_view in;
    double want;
  };
  const Case cases[] = {
      {"0", 0},
      {"42", 42},
      {"-42", -42},
      {"+42", 42},
      {"123456789012345", 123456789012345.0},
      {"1234567890123456789", 1234567890123456789.0},  // beyond the integer fast path
      {"1.5", 1.5},
      {"-0.25", -0.25},
      {".5", 0.5},
      {"5.", 5},
      {"1e3", 1000},
      {"1E+06", 1e6},
      {"2.5e-05", 2.5e-05},
      {"1.7976931348623157e+308", std::numeric_limits<double>::max()},
      {"1e-400", 0},  // underflow is zero, not an error (as in Go)
      {"Inf", std::numeric_limits<double>::infinity()},
      {"+Inf", std::numeric_limits<double>::infinity()},
      {"-Inf", -std::numeric_limits<double>::infinity()},
      {"inf", std::numeric_limits<double>::infinity()},
      {"+infinity", std::numeric_limits<double>::infinity()},
      {"-INFINITY", -std::numeric_limits<double>::infinity()},
  };
  for (const auto& c : cases) {
    double got = -1;
    ASSERT_TRUE(ParseValue(c.in, got)) << c.in;
    EXPECT_EQ(got, c.want) << c.in;
  }
  double got = 0;
  ASSERT_TRUE(ParseValue("-0", got));
  EXPECT_TRUE(std::signbit(got));
  for (std::string_view nan : {"NaN", "nan", "NAN"}) {
    ASSERT_TRUE(ParseValue(nan, got)) << nan;
    EXPECT_TRUE(std::isnan(got)) << nan;
  }
}

TEST(ParseValueTest, RejectsEverythingElse) {
  for (std::string_view in :
       {"",       "-",       "+",         "--1",   "+-1", "1x",    "x",      "1 ",   " 1",
        "0x10",   "0x1p-2",  "1_000",     "1e",    "1e+", "1e999", "-1e999", "+NaN", "-NaN",
        "nan(1)", "infinit", "Infinityy", "1.2.3", "1,5", "..",    "e5"}) {
    double got = 0;
    EXPECT_FALSE(ParseValue(in, got)) << '"' << in << '"';
  }
}

TEST(TimestampTest, Text) {
  int64_t ms = 0;
  ASSERT_TRUE(ParseTextTimestamp("1700000000123", ms));
  EXPECT_EQ(ms, 1700000000123);
  ASSERT_TRUE(ParseTextTimestamp("9223372036854775807", ms));
  EXPECT_EQ(ms, std::numeric_limits<int64_t>::max());
  // Prometheus's text lexer takes digits only: a sign is malformed input.
  for (std::string_view in :
       {"", "+", "+-1", "-5", "+7", "1.5", "1e3", "9223372036854775808", "12a", "NaN"}) {
    EXPECT_FALSE(ParseTextTimestamp(in, ms)) << in;
  }
}

TEST(TimestampTest, OpenMetricsSecondsRoundToMilliseconds) {
  int64_t ms = 0;
  ASSERT_TRUE(ParseOpenMetricsTimestamp("1.5", ms));
  EXPECT_EQ(ms, 1500);
  ASSERT_TRUE(ParseOpenMetricsTimestamp("1700000000.123", ms));
  EXPECT_EQ(ms, 1700000000123);
  ASSERT_TRUE(ParseOpenMetricsTimestamp("1.001", ms));  // 1000.9999... before rounding
  EXPECT_EQ(ms, 1001);
  ASSERT_TRUE(ParseOpenMetricsTimestamp("-1", ms));
  EXPECT_EQ(ms, -1000);
  for (std::string_view in : {"", "NaN", "Inf", "-Inf", "1e300", "x"}) {
    EXPECT_FALSE(ParseOpenMetricsTimestamp(in, ms)) << in;
  }
}

TEST(Utf8Test, ValidAndInvalid) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST(UnescapeTest, KnownEscapesOnly) {
  std::string out;
  AppendUnescaped(R"(a\\b\nc\"d\te)", /*unescape_quote=*/true, out);
  EXPECT_EQ(out, "a\\b\nc\"d\\te");
  out.clear();
  AppendUnescaped(R"(q\"x\)", /*unescape_quote=*/false, out);
  EXPECT_EQ(out, "q\\\"x\\");
}

TEST(CharClassTest, Names) {
  EXPECT_TRUE(Is(':', kMetricNameStart));
  EXPECT_FALSE(Is(':', kLabelNameStart));
  EXPECT_FALSE(Is('0', kMetricNameStart));
  EXPECT_TRUE(Is('0', kLabelNameChar));
  EXPECT_FALSE(Is('-', kMetricNameChar));
  EXPECT_FALSE(Is('\xc3', kLabelNameChar));
}

}  // namespace
}  // namespace shardwise::parse::lex
