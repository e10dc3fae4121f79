#include "hack/kube-sim/kubelet/address_block.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "common/testing/test_util.h"

namespace shardwise::kubesim {
namespace {

TEST(AddressBlockTest, ClaimsTheLowestFreeBlockUntilReleased) {
  shardwise::testing::TempDir dir;
  auto first = AddressBlock::Claim(dir.path());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->index(), 1);
  EXPECT_EQ(first->pod_prefix(), "127.1.");
  EXPECT_EQ(first->service_prefix(), "127.96.");
  EXPECT_EQ(first->node_prefix(), "127.0.0.");

  // flock(2) locks belong to the open file, so a second claim in this process conflicts
  // as one from another simulator would.
  auto second = AddressBlock::Claim(dir.path());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->index(), 2);
  EXPECT_EQ(second->pod_prefix(), "127.2.");
  EXPECT_EQ(second->service_prefix(), "127.97.");
  EXPECT_EQ(second->node_prefix(), "127.0.1.");

  { AddressBlock released = std::move(first).value(); }
  auto again = AddressBlock::Claim(dir.path());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->index(), 1);
}

TEST(AddressBlockTest, AllBlocksTakenIsAClearError) {
  shardwise::testing::TempDir dir;
  std::vector<AddressBlock> held;
  for (int i = 0; i < AddressBlock::kMaxBlocks; ++i) {
    auto b = AddressBlock::Claim(dir.path());
    ASSERT_TRUE(b.ok());
    held.push_back(std::move(b).value());
  }
  auto none = AddressBlock::Claim(dir.path());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Status::Code::kResourceExhausted);
}

TEST(AddressBlockTest, UnusableLockDirectoryIsAnError) {
  auto b = AddressBlock::Claim("/nonexistent/dir");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().ToString().find("/nonexistent/dir"), std::string::npos);
}

}  // namespace
}  // namespace shardwise::kubesim
