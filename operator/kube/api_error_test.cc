#include "operator/kube/api_error.h"

#include <gtest/gtest.h>

#include "operator/kube/watch.h"

namespace shardwise::kube {
namespace {

TEST(ApiErrorTest, NotFoundStatusKeepsServerMessage) {
  const auto error = ApiError::FromResponse(
      404,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"widgets.example.com \"w1\" not found","reason":"NotFound",)"
      R"("details":{"name":"w1","group":"example.com","kind":"widgets"},"code":404})",
      "");
  EXPECT_TRUE(error.IsNotFound());
  EXPECT_EQ(error.code(), 404);
  EXPECT_EQ(error.message(), "widgets.example.com \"w1\" not found");
  EXPECT_EQ(error.ToStatus().code(), Status::Code::kNotFound);
  EXPECT_FALSE(error.IsRetriable());
}

TEST(ApiErrorTest, InvalidCarriesCauses) {
  const auto error = ApiError::FromResponse(
      422,
      R"({"kind":"Status","status":"Failure","reason":"Invalid","code":422,)"
      R"("message":"Widget.example.com \"wbad\" is invalid: [...]",)"
      R"("details":{"causes":[{"reason":"FieldValueRequired","message":"Required value",)"
      R"("field":"spec.image"},{"reason":"FieldValueInvalid","message":"Invalid value: -1",)"
      R"("field":"spec.replicas"}]}})",
      "");
  ASSERT_TRUE(error.IsInvalid());
  ASSERT_EQ(error.causes().size(), 2u);
  EXPECT_EQ(error.causes()[0], (StatusCause{"FieldValueRequired", "Required value", "spec.image"}));
  EXPECT_EQ(error.causes()[1].field, "spec.replicas");
  EXPECT_EQ(error.ToStatus().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(error.ToString().find("spec.image: Required value"), std::string::npos);
}

TEST(ApiErrorTest, ConflictAndAlreadyExistsShareTheCodeButNotTheReason) {
  const auto conflict = ApiError::FromResponse(
      409, R"({"kind":"Status","reason":"Conflict","code":409,"message":"modified"})", "");
  const auto exists = ApiError::FromResponse(
      409, R"({"kind":"Status","reason":"AlreadyExists","code":409,"message":"exists"})", "");
  EXPECT_TRUE(conflict.IsConflict());
  EXPECT_FALSE(conflict.IsAlreadyExists());
  EXPECT_TRUE(exists.IsAlreadyExists());
  EXPECT_EQ(conflict.ToStatus().code(), Status::Code::kAborted);
  EXPECT_EQ(exists.ToStatus().code(), Status::Code::kAlreadyExists);
}

TEST(ApiErrorTest, ExpiredIsGone) {
  const auto error = ApiError::FromResponse(
      410, R"({"kind":"Status","reason":"Expired","code":410,"message":"too old"})", "");
  EXPECT_TRUE(error.IsGone());
}

TEST(ApiErrorTest, CodeDecidesWhenTheBodyIsNotAStatus) {
  const auto error = ApiError::FromResponse(503, "<html>upstream down</html>", "7");
  EXPECT_EQ(error.reason(), Reason::kServiceUnavailable);
  EXPECT_TRUE(error.IsServerError());
  EXPECT_TRUE(error.IsRetriable());
  EXPECT_EQ(error.message(), "<html>upstream down</html>");
  ASSERT_TRUE(error.retry_after().has_value());
  EXPECT_EQ(*error.retry_after(), std::chrono::seconds(7));
  EXPECT_EQ(error.ToStatus().code(), Status::Code::kUnavailable);

  EXPECT_TRUE(ApiError::FromResponse(403, "", "").IsForbidden());
  EXPECT_TRUE(ApiError::FromResponse(401, "", "").IsUnauthorized());
  EXPECT_EQ(ApiError::FromResponse(401, "", "").message(), "HTTP 401");
}

TEST(ApiErrorTest, TooManyRequestsTakesRetryAfterFromDetails) {
  const auto error = ApiError::FromResponse(
      429,
      R"({"kind":"Status","reason":"TooManyRequests","code":429,"message":"slow down",)"
      R"("details":{"retryAfterSeconds":3}})",
      "");
  EXPECT_TRUE(error.IsTooManyRequests());
  ASSERT_TRUE(error.retry_after().has_value());
  EXPECT_EQ(*error.retry_after(), std::chrono::seconds(3));
  EXPECT_EQ(error.ToStatus().code(), Status::Code::kResourceExhausted);
}

TEST(ApiErrorTest, ConnectionErrorsAreRetriable) {
  const auto error = ApiError::Connection("connection refused");
  EXPECT_TRUE(error.IsConnection());
  EXPECT_TRUE(error.IsRetriable());
  EXPECT_EQ(error.code(), 0);
  EXPECT_EQ(error.ToStatus().code(), Status::Code::kUnavailable);
}

TEST(WatchDecodeTest, DecodesEveryEventType) {
  auto added = DecodeWatchLine(R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})");
  EXPECT_EQ(added.type, WatchEvent::Type::kAdded);
  EXPECT_EQ(NameOf(added.object), "a");
  EXPECT_EQ(DecodeWatchLine(R"({"type":"MODIFIED","object":{}})").type,
            WatchEvent::Type::kModified);
  EXPECT_EQ(DecodeWatchLine(R"({"type":"DELETED","object":{}})").type, WatchEvent::Type::kDeleted);
  auto bookmark = DecodeWatchLine(
      R"({"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"12"}}})");
  EXPECT_EQ(bookmark.type, WatchEvent::Type::kBookmark);
  EXPECT_EQ(ResourceVersionOf(bookmark.object), "12");

  auto expired = DecodeWatchLine(
      R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",)"
      R"json("message":"too old resource version: 5 (100)","reason":"Expired","code":410}})json");
  EXPECT_EQ(expired.type, WatchEvent::Type::kError);
  EXPECT_TRUE(expired.error.IsGone());
  EXPECT_EQ(expired.error.message(), "too old resource version: 5 (100)");
}

TEST(WatchDecodeTest, BadLinesBecomeDecodeErrors) {
  EXPECT_EQ(DecodeWatchLine("not json").error.reason(), Reason::kDecode);
  EXPECT_EQ(DecodeWatchLine(R"({"type":"WHAT","object":{}})").error.reason(), Reason::kDecode);
  auto bare =
      DecodeWatchLine(R"({"kind":"Status","reason":"Forbidden","code":403,"message":"no"})");
  EXPECT_EQ(bare.type, WatchEvent::Type::kError);
  EXPECT_TRUE(bare.error.IsForbidden());
}

TEST(WatchDecodeTest, LinesMaySplitAnywhere) {
  const std::string stream = R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})"
                             "\n"
                             R"({"type":"DELETED","object":{"metadata":{"name":"b"}}})"
                             "\r\n";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    WatchLineDecoder decoder;
    auto events = decoder.Feed(std::string_view(stream).substr(0, cut));
    auto rest = decoder.Feed(std::string_view(stream).substr(cut));
    events.insert(events.end(), rest.begin(), rest.end());
    ASSERT_EQ(events.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(NameOf(events[0].object), "a");
    EXPECT_EQ(events[1].type, WatchEvent::Type::kDeleted);
    EXPECT_EQ(NameOf(events[1].object), "b");
  }
}

}  // namespace
}  // namespace shardwise::kube
