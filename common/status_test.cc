#include "common/status.h"

#include <gtest/gtest.h>

namespace shardwise {
namespace {

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::OK().ok());
  Status s = Status::Corruption("bad crc");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "corruption: bad crc");
  EXPECT_EQ(s.WithContext("segment 3").message(), "segment 3: bad crc");
}

TEST(StatusTest, ResultCarriesValueOrError) {
  Result<int> r = 5;
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
  Result<int> e = Status::NotFound("x");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace shardwise
