#include "scraper/tsdb/chunk_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "scraper/tsdb/testutil.h"

namespace shardwise::tsdb {
namespace {

TEST(ChunkFilesTest, WritesRollOverAndReadBack) {
  testing::TempDir dir("chunkfiles");
  auto files = ChunkFiles::Open(dir.path() + "/chunks_head", 4096);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  std::vector<std::pair<ChunkLocation, std::string>> written;
  for (int i = 0; i < 100; ++i) {
    std::string chunk(100 + i, static_cast<char>('a' + i % 26));
    auto loc = (*files)->Write(chunk, i * 1000);
    ASSERT_TRUE(loc.ok()) << loc.status().ToString();
    written.emplace_back(*loc, chunk);
  }
  EXPECT_GT((*files)->files(), 3u);
  for (const auto& [loc, chunk] : written) EXPECT_EQ((*files)->Read(loc), chunk);
  // A location outside what was written reads as nothing rather than past the file.
  EXPECT_TRUE((*files)->Read({written.back().first.file, 4000, 90}).empty());
  EXPECT_TRUE((*files)->Read({999, 0, 10}).empty());
}

TEST(ChunkFilesTest, DeleteBeforeTakesOnlyWhollyOldFilesAndNeverTheCurrentOne) {
  testing::TempDir dir("chunkfiles-delete");
  auto files = ChunkFiles::Open(dir.path(), 4096);
  ASSERT_TRUE(files.ok());
  std::vector<ChunkLocation> locs;
  for (int i = 0; i < 100; ++i) locs.push_back(*(*files)->Write(std::string(200, 'x'), i));
  const size_t before = (*files)->files();
  const size_t deleted = (*files)->DeleteBefore(50);
  EXPECT_GT(deleted, 0u);
  EXPECT_EQ((*files)->files(), before - deleted);
  for (int i = 50; i < 100; ++i) EXPECT_EQ((*files)->Read(locs[i]), std::string(200, 'x')) << i;
  EXPECT_TRUE((*files)->Read(locs[0]).empty());
  (*files)->DeleteBefore(1'000'000);
  EXPECT_EQ((*files)->files(), 1u);  // the file being written stays
  EXPECT_EQ((*files)->Read(locs[99]), std::string(200, 'x'));
}

TEST(ChunkFilesTest, OpenStartsAfresh) {
  testing::TempDir dir("chunkfiles-reopen");
  { std::ofstream(dir.path() + "/000001") << "left by an earlier process"; }
  auto files = ChunkFiles::Open(dir.path(), 4096);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ((*files)->BytesOnDisk(), 0u);
  auto loc = (*files)->Write("abc", 1);
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ((*files)->Read(*loc), "abc");
  EXPECT_EQ(std::filesystem::file_size(dir.path() + "/000001"), 3u);
}

}  // namespace
}  // namespace shardwise::tsdb
