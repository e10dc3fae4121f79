#include "common/allocator.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "common/metrics/registry.h"

namespace shardwise::allocator {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizerAllocator = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitizerAllocator = true;
#else
constexpr bool kSanitizerAllocator = false;
#endif
#else
constexpr bool kSanitizerAllocator = false;
#endif

TEST(AllocatorTest, InUseBytesFollowAllocationsAndFreesBecomeFreeSpace) {
  if (kSanitizerAllocator) GTEST_SKIP() << "the sanitizer's allocator keeps its own figures";
  HeapStats before = ReadHeapStats();
  // 1,024 blocks of 4 KiB: above the per-thread cache's sizes and below the mmap threshold,
  // so they come from an arena and go back to it when freed.
  constexpr size_t kBlock = 4096, kBlocks = 1024;
  std::vector<std::unique_ptr<char[]>> blocks;
  for (size_t i = 0; i < kBlocks; ++i) {
    blocks.emplace_back(new char[kBlock]);
    std::memset(blocks.back().get(), static_cast<int>(i), kBlock);
  }
  HeapStats held = ReadHeapStats();
  EXPECT_GE(held.in_use_bytes, before.in_use_bytes + kBlock * kBlocks);
  EXPECT_GE(held.mapped_bytes, held.in_use_bytes);
  // Every other block freed: holes between live blocks cannot go back to the system, so
  // malloc keeps them as free space.
  for (size_t i = 0; i < kBlocks; i += 2) blocks[i].reset();
  HeapStats holed = ReadHeapStats();
  EXPECT_LE(holed.in_use_bytes + kBlock * kBlocks / 2, held.in_use_bytes);
  EXPECT_GE(holed.free_bytes, kBlock * kBlocks / 2);
}

TEST(AllocatorTest, RegisterMetricsExposesTheHeapGaugesOnce) {
  metrics::Registry r;
  RegisterMetrics(r);
  RegisterMetrics(r);
  std::string text = r.Expose();
  for (const char* name :
       {"shardwise_process_heap_in_use_bytes", "shardwise_process_heap_free_bytes",
        "shardwise_process_heap_mapped_bytes"}) {
    std::string type = std::string("# TYPE ") + name + " gauge\n";
    size_t at = text.find(type);
    ASSERT_NE(at, std::string::npos) << text;
    EXPECT_EQ(text.find(type, at + 1), std::string::npos) << "registered twice:\n" << text;
  }
}

}  // namespace
}  // namespace shardwise::allocator
