#include "common/http/message.h"

#include <gtest/gtest.h>

namespace shardwise::http {
namespace {

TEST(MessageTest, PercentDecoding) {
  EXPECT_EQ(PercentDecode("/pods/%2A/m"), "/pods/*/m");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("bad%zz%4"), "bad%zz%4");
  EXPECT_EQ(PercentEncode("a b/c"), "a%20b%2Fc");
}

TEST(MessageTest, QueryParamsAndHeaders) {
  Request r;
  r.query = "labelSelector=app%3Dx&limit=500&watch&limit=7";
  r.headers = {{"Content-Type", "application/json"}};
  EXPECT_EQ(r.Param("labelSelector"), "app=x");
  EXPECT_EQ(r.Param("limit"), "500");
  EXPECT_TRUE(r.HasParam("watch"));
  EXPECT_FALSE(r.HasParam("missing"));
  EXPECT_EQ(QueryParams(r.query, "limit").size(), 2u);
  EXPECT_EQ(r.Header("content-type"), "application/json");
}

}  // namespace
}  // namespace shardwise::http
