#include "common/log/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace shardwise::log {
namespace {

TEST(LogTest, LogfmtQuotesWhatNeedsIt) {
  std::string line = Render(Format::kLogfmt, Level::kWarn, "scraper", "scrape failed",
                            {{"target", "http://a:1/m"}, {"err", "line 3: bad \"x\""}, {"n", 42}},
                            "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(line,
            "ts=2026-01-01T00:00:00.000Z level=warn component=scraper msg=\"scrape failed\" "
            "target=http://a:1/m err=\"line 3: bad \\\"x\\\"\" n=42");
}

TEST(LogTest, JsonIsValidJson) {
  std::string line =
      Render(Format::kJson, Level::kInfo, "operator", "hello\nworld", {{"k", "v\"q"}}, "t");
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["msg"], "hello\nworld");
  EXPECT_EQ(j["k"], "v\"q");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["component"], "operator");
}

TEST(LogTest, SetupRejectsUnknownValues) {
  EXPECT_FALSE(log::Setup("loud", "logfmt", "x").ok());
  EXPECT_FALSE(log::Setup("info", "xml", "x").ok());
  EXPECT_TRUE(log::Setup("info", "logfmt", "x").ok());
}

}  // namespace
}  // namespace shardwise::log
