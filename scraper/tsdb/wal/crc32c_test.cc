#include "scraper/tsdb/wal/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace shardwise::tsdb::wal {
namespace {

// Vectors from RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check value.
TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  std::vector<uint8_t> buf(32, 0);
  EXPECT_EQ(Crc32c(buf.data(), buf.size()), 0x8A9136AAu);
  std::fill(buf.begin(), buf.end(), 0xFF);
  EXPECT_EQ(Crc32c(buf.data(), buf.size()), 0x62A8AB43u);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(Crc32c(buf.data(), buf.size()), 0x46DD794Eu);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(Crc32c(buf.data(), buf.size()), 0x113FDB5Cu);
}

TEST(Crc32cTest, PortableMatchesDispatchedForAllLengthsAndAlignments) {
  std::mt19937 rng(7);
  std::string data(1000, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  for (size_t start = 0; start < 9; ++start) {
    for (size_t n = 0; n + start <= 300; ++n) {
      ASSERT_EQ(Crc32cExtendPortable(0, data.data() + start, n),
                Crc32cExtend(0, data.data() + start, n))
          << start << "+" << n;
    }
  }
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string s = "The quick brown fox jumps over the lazy dog";
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    uint32_t part = Crc32c(s.data(), cut);
    EXPECT_EQ(Crc32cExtend(part, s.data() + cut, s.size() - cut), Crc32c(s)) << cut;
    EXPECT_EQ(Crc32cExtendPortable(Crc32cExtendPortable(0, s.data(), cut), s.data() + cut,
                                   s.size() - cut),
              Crc32c(s));
  }
}

TEST(Crc32cTest, DetectsSingleBitFlips) {
  std::string s(256, 'x');
  uint32_t base = Crc32c(s);
  for (size_t i = 0; i < s.size() * 8; ++i) {
    std::string t = s;
    t[i / 8] = static_cast<char>(t[i / 8] ^ (1 << (i % 8)));
    ASSERT_NE(Crc32c(t), base) << i;
  }
}

}  // namespace
}  // namespace shardwise::tsdb::wal
