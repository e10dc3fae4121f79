#include "scraper/discovery/file_sd.h"

#include <gtest/gtest.h>

#include "scraper/discovery/sd_test_util.h"

namespace shardwise::sd {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::Updates;
using testing::WaitFor;

std::vector<std::string> Addresses(const std::vector<TargetGroup>& groups) {
  std::vector<std::string> out;
  for (const auto& g : groups) {
    for (const auto& t : g.targets) out.emplace_back(t.Get("__address__"));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FileSdTest, ReadsGlobbedJsonAndYamlAndFollowsChanges) {
  TempDir dir;
  dir.File("a.json", R"([{"targets": ["a:1"]}])");
  std::string yml = dir.File("b.yml", "- targets: ['b:1']\n");
  dir.File("ignored.txt", "not matched by the glob");
  FileSdSource source({.files = {dir.path() + "/*.json", dir.path() + "/*.yml"}}, 5ms);
  Updates updates;
  source.Start(updates.Fn());
  ASSERT_TRUE(WaitFor([&] { return updates.count() >= 1; }));
  EXPECT_EQ(Addresses(updates.last()), (std::vector<std::string>{"a:1", "b:1"}));
  for (const auto& g : updates.last()) {
    EXPECT_TRUE(g.labels.Get("__meta_filepath").starts_with(dir.path()));
  }

  dir.File("c.json", R"([{"targets": ["c:1", "c:2"]}])");
  ASSERT_TRUE(WaitFor([&] { return Addresses(updates.last()).size() == 4; }));

  dir.File("b.yml", "- targets: ['b:2']\n");
  ASSERT_TRUE(WaitFor([&] {
    auto a = Addresses(updates.last());
    return std::find(a.begin(), a.end(), "b:2") != a.end();
  }));

  std::filesystem::remove(yml);
  ASSERT_TRUE(WaitFor([&] {
    return Addresses(updates.last()) == std::vector<std::string>{"a:1", "c:1", "c:2"};
  }));
  source.Stop();
}

TEST(FileSdTest, BrokenFileKeepsItsLastGoodTargets) {
  TempDir dir;
  dir.File("a.json", R"([{"targets": ["a:1"]}])");
  FileSdSource source({.files = {dir.path() + "/*.json"}}, 5ms);
  Updates updates;
  source.Start(updates.Fn());
  ASSERT_TRUE(WaitFor([&] { return updates.count() >= 1; }));
  dir.File("a.json", R"([{"targets": ["a:1"]}, {"targets": )");  // truncated
  dir.File("marker.json", R"([{"targets": ["m:1"]}])");
  // The marker file shows a poll after the breakage happened; a:1 is still there.
  ASSERT_TRUE(WaitFor([&] { return Addresses(updates.last()).size() == 2; }));
  EXPECT_EQ(Addresses(updates.last()), (std::vector<std::string>{"a:1", "m:1"}));
  dir.File("a.json", R"([{"targets": ["a:2"]}])");
  ASSERT_TRUE(WaitFor([&] {
    return Addresses(updates.last()) == std::vector<std::string>{"a:2", "m:1"};
  }));
}

TEST(FileSdTest, NoUpdateWithoutChange) {
  TempDir dir;
  dir.File("a.json", R"([{"targets": ["a:1"]}])");
  FileSdSource source({.files = {dir.path() + "/*.json"}, .refresh_interval = 1ms}, 5ms);
  Updates updates;
  source.Start(updates.Fn());
  ASSERT_TRUE(WaitFor([&] { return updates.count() >= 1; }));
  // Rewrite with identical content: forced re-reads happen, but the groups are equal.
  dir.File("a.json", R"([{"targets": ["a:1"]}])");
  dir.File("b.json", R"([{"targets": ["b:1"]}])");
  ASSERT_TRUE(WaitFor([&] { return Addresses(updates.last()).size() == 2; }));
  EXPECT_EQ(updates.count(), 2u);
}

}  // namespace
}  // namespace shardwise::sd
