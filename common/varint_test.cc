#include "common/varint.h"

#include <gtest/gtest.h>

#include <string>

namespace shardwise {
namespace {

TEST(VarintTest, SizesAndBytesFollowLeb128AtEveryWidth) {
  EXPECT_EQ(VarintSize(0), 1u);
  EXPECT_EQ(VarintSize(127), 1u);
  EXPECT_EQ(VarintSize(128), 2u);
  EXPECT_EQ(VarintSize(UINT64_MAX), kMaxVarintBytes);
  unsigned char buf[kMaxVarintBytes];
  EXPECT_EQ(PutVarint(buf, 300) - buf, 2);
  EXPECT_EQ(buf[0], 0xAC);  // 300 = 0b10'0101100: low 7 bits with the continuation bit
  EXPECT_EQ(buf[1], 0x02);
  for (int shift = 0; shift < 64; ++shift) {
    const uint64_t v = (uint64_t{1} << shift) | 1;
    char out[kMaxVarintBytes];
    const char* end = PutVarint(out, v);
    ASSERT_EQ(static_cast<size_t>(end - out), VarintSize(v)) << v;
    uint64_t back = 0;
    for (int i = 0; out + i < end; ++i) {
      back |= static_cast<uint64_t>(static_cast<unsigned char>(out[i]) & 0x7F) << (7 * i);
      EXPECT_EQ((static_cast<unsigned char>(out[i]) & 0x80) != 0, out + i + 1 < end);
    }
    EXPECT_EQ(back, v);
    std::string appended = "x";
    AppendVarint(&appended, v);
    EXPECT_EQ(appended, "x" + std::string(out, static_cast<size_t>(end - out)));
  }
}

}  // namespace
}  // namespace shardwise
