// Kubernetes timestamps out and back in.
#include "operator/kube/time_format.h"

#include <gtest/gtest.h>

namespace shardwise::kube {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

TEST(TimeFormatTest, BothFormsParseBack) {
  const Clock::time_point t = Clock::time_point(1796666468s) + 123456us;
  EXPECT_EQ(FormatTime(t), "2026-12-07T18:01:08Z");
  EXPECT_EQ(ParseTime(FormatTime(t)), Clock::time_point(1796666468s));
  EXPECT_EQ(ParseTime(FormatMicroTime(t)), t);
  EXPECT_EQ(ParseTime("2026-12-07T18:01:08.5Z"), Clock::time_point(1796666468s) + 500ms);
  EXPECT_EQ(ParseTime("1970-01-01T00:00:00Z"), Clock::time_point{});
}

TEST(TimeFormatTest, AnythingElseIsNoTime) {
  for (const char* s : {"", "yesterday", "2026-12-07", "2026-12-07T18:01:08",
                        "2026-12-07 18:01:08Z", "2026-13-07T18:01:08Z", "2026-12-07T25:01:08Z",
                        "2026-12-07T18:01:08.Z", "2026-12-07T18:01:08.12x4Z",
                        "2026-12-07T18:01:08+01:00", "2026-12-07T18:01:08.1234567890123Z"}) {
    EXPECT_FALSE(ParseTime(s)) << s;
  }
}

}  // namespace
}  // namespace shardwise::kube
