#include "scraper/remotewrite/cursor.h"

#include <gtest/gtest.h>

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
  text[text.find("12345")] = '9';
  std::ofstream(path) << text;
  EXPECT_EQ(LoadCursor(path).status().code(), Status::Code::kCorruption);
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
