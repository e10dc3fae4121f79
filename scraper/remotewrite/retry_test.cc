#include "scraper/remotewrite/retry.h"

#include <gtest/gtest.h>

namespace shardwise::remotewrite {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// 2026-11-21 08:00:00 UTC
const auto kNow = std::chrono::system_clock::time_point(seconds(1795248000));

TEST(RetryTest, ClassifiesStatuses) {
  EXPECT_EQ(ClassifyStatus(200, "", true, kNow).outcome, SendOutcome::kDelivered);
  EXPECT_EQ(ClassifyStatus(204, "", true, kNow).outcome, SendOutcome::kDelivered);
  EXPECT_EQ(ClassifyStatus(500, "", true, kNow).outcome, SendOutcome::kRetry);
  EXPECT_EQ(ClassifyStatus(503, "", false, kNow).outcome, SendOutcome::kRetry);
  EXPECT_EQ(ClassifyStatus(429, "", true, kNow).outcome, SendOutcome::kRetry);
  EXPECT_EQ(ClassifyStatus(429, "", false, kNow).outcome, SendOutcome::kDrop);
  EXPECT_EQ(ClassifyStatus(400, "", true, kNow).outcome, SendOutcome::kDrop);
  EXPECT_EQ(ClassifyStatus(404, "", true, kNow).outcome, SendOutcome::kDrop);
  EXPECT_EQ(ClassifyStatus(413, "", true, kNow).outcome, SendOutcome::kDrop);
  EXPECT_EQ(ClassifyStatus(301, "", true, kNow).outcome, SendOutcome::kDrop);
  EXPECT_EQ(ClassifyTransportError(Status::Unavailable("refused")).outcome, SendOutcome::kRetry);
}

TEST(RetryTest, RetryAfterOnlyMattersWhenRetrying) {
  EXPECT_EQ(ClassifyStatus(503, "7", true, kNow).retry_after, milliseconds(7000));
  EXPECT_EQ(ClassifyStatus(429, "2", true, kNow).retry_after, milliseconds(2000));
  EXPECT_FALSE(ClassifyStatus(400, "7", true, kNow).retry_after.has_value());
  EXPECT_FALSE(ClassifyStatus(503, "", true, kNow).retry_after.has_value());
}

TEST(RetryTest, ParsesRetryAfterForms) {
  EXPECT_EQ(ParseRetryAfter("0", kNow), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter(" 120 ", kNow), milliseconds(120000));
  EXPECT_EQ(ParseRetryAfter("Sat, 21 Nov 2026 08:00:30 GMT", kNow), milliseconds(30000));
  EXPECT_EQ(ParseRetryAfter("Saturday, 21-Nov-26 08:01:00 GMT", kNow), milliseconds(60000));
  EXPECT_EQ(ParseRetryAfter("Sat Nov 21 08:00:05 2026", kNow), milliseconds(5000));
  EXPECT_EQ(ParseRetryAfter("Fri, 20 Nov 2026 08:00:00 GMT", kNow), milliseconds(0));
  EXPECT_FALSE(ParseRetryAfter("", kNow).has_value());
  EXPECT_FALSE(ParseRetryAfter("soon", kNow).has_value());
  EXPECT_FALSE(ParseRetryAfter("-5", kNow).has_value());
  EXPECT_FALSE(ParseRetryAfter("Sat, 21 Nov 2026 08:00:30 GMT trailing", kNow).has_value());
}

TEST(RetryTest, BackoffDoublesUpToMaxAndResets) {
  Backoff b(milliseconds(30), milliseconds(100));
  EXPECT_EQ(b.Next(), milliseconds(30));
  EXPECT_EQ(b.Next(), milliseconds(60));
  EXPECT_EQ(b.Next(), milliseconds(100));
  EXPECT_EQ(b.Next(), milliseconds(100));
  b.Reset();
  EXPECT_EQ(b.Next(), milliseconds(30));
}

}  // namespace
}  // namespace shardwise::remotewrite
