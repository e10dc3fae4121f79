#include "common/base64.h"

#include <gtest/gtest.h>

namespace shardwise {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> kVectors[] = {{"", ""},
                                                          {"f", "Zg=="},
                                                          {"fo", "Zm8="},
                                                          {"foo", "Zm9v"},
                                                          {"foob", "Zm9vYg=="},
                                                          {"fooba", "Zm9vYmE="},
                                                          {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, enc] : kVectors) {
    EXPECT_EQ(Base64Encode(plain), enc);
    auto d = Base64Decode(enc);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, plain);
  }
}

TEST(Base64Test, UrlAlphabetWithoutPadding) {
  const std::string bytes("\xfb\xff\xbf?", 4);  // standard: "+/+/Pw==" territory
  EXPECT_EQ(Base64Encode(bytes), "+/+/Pw==");
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_Pw");
  auto d = Base64UrlDecode("-_-_Pw");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(*d, bytes);
  EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode("foobar")), "foobar");
  EXPECT_FALSE(Base64UrlDecode("+/+/Pw").ok());
  EXPECT_FALSE(Base64UrlDecode("Zg==").ok());
}

TEST(Base64Test, RejectsGarbage) {
  EXPECT_FALSE(Base64Decode("Zm9v!").ok());
  EXPECT_FALSE(Base64Decode("Zg==Zg").ok());
  EXPECT_TRUE(Base64Decode("Zm9v\nYmFy").ok());
  EXPECT_FALSE(Base64Decode("a").ok());     // truncated
  EXPECT_FALSE(Base64Decode("ab=c").ok());  // data after padding
}

}  // namespace
}  // namespace shardwise
