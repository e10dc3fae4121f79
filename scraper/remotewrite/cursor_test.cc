#include "scraper/remotewrite/cursor.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstdio>

#include <filesystem>
#include <fstream>

namespace shardwise::remotewrite {
namespace {

class CursorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rw-cursor-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(CursorTest, MissingFileIsNoCursor) {
  auto c = LoadCursor((dir_ / "none.cursor").string());
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->has_value());
}

TEST_F(CursorTest, StoreThenLoadRoundTrips) {
  std::string path = CursorPath(dir_.string(), "vm");
  ASSERT_TRUE(StoreCursor(path, {3, 12345}).ok());
  ASSERT_TRUE(StoreCursor(path, {4, 7}).ok());  // replaces
  auto c = LoadCursor(path);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ(**c, (WalPosition{4, 7}));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_F(CursorTest, DamagedFileIsCorruption) {
  std::string path = CursorPath(dir_.string(), "vm");
  ASSERT_TRUE(StoreCursor(path, {3, 12345}).ok());
  std::string text;
  {
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  // One damaged slot: the other one is still there.
  std::string one = text;
  one[one.find("12345")] = '9';
  std::ofstream(path, std::ios::binary) << one;
  auto c = LoadCursor(path);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(**c, (WalPosition{3, 12345}));
  // Both damaged: corruption.
  one[one.rfind("12345")] = '9';
  std::ofstream(path, std::ios::binary) << one;
  EXPECT_EQ(LoadCursor(path).status().code(), Status::Code::kCorruption);
}

TEST_F(CursorTest, StoresInPlaceInAFixedSizeFileAndSurvivesATornSlot) {
  std::string path = CursorPath(dir_.string(), "vm");
  ASSERT_TRUE(StoreCursor(path, {1, 10}).ok());
  const auto size = std::filesystem::file_size(path);
  const auto inode = [&] {
    struct stat st;
    ::stat(path.c_str(), &st);
    return st.st_ino;
  };
  const auto first_inode = inode();
  for (uint64_t i = 2; i < 50; ++i)
    ASSERT_TRUE(StoreCursor(path, {static_cast<uint32_t>(i), i}).ok());
  // Rewritten in place: same file, same size, no temporary left.
  EXPECT_EQ(std::filesystem::file_size(path), size);
  EXPECT_EQ(inode(), first_inode);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(**LoadCursor(path), (WalPosition{49, 49}));
  // A store torn half-way (the newest slot garbled): the previous cursor is read.
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  size_t newest = text.find(" 49 49 ");
  ASSERT_NE(newest, std::string::npos);
  text[newest + 2] = 'x';
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  EXPECT_EQ(**LoadCursor(path), (WalPosition{48, 48}));
}

TEST_F(CursorTest, ReadsVersionOneFiles) {
  std::string path = CursorPath(dir_.string(), "vm");
  std::string body = "7 99";
  unsigned sum = static_cast<unsigned>(
      crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
  char line[16];
  std::snprintf(line, sizeof line, "%08x", sum);
  std::ofstream(path) << "shardwise-remote-write-cursor v1\n" << body << "\n" << line << "\n";
  EXPECT_EQ(**LoadCursor(path), (WalPosition{7, 99}));
  ASSERT_TRUE(StoreCursor(path, {8, 1}).ok());
  EXPECT_EQ(**LoadCursor(path), (WalPosition{8, 1}));
}

TEST_F(CursorTest, PathsAreSafeAndDistinct) {
  std::string a = CursorPath("/d", "a/b");
  std::string b = CursorPath("/d", "a_b");
  EXPECT_NE(a, b);
  EXPECT_EQ(std::filesystem::path(a).parent_path(), "/d");
  EXPECT_EQ(CursorPath("/d", "vm-1"), "/d/vm-1.cursor");
  EXPECT_NE(CursorPath("/d", ".."), "/d/...cursor");
}

}  // namespace
}  // namespace shardwise::remotewrite
