#include "scraper/operator_client/plan_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "scraper/operator_client/opclient_test_util.h"

namespace shardwise::opclient {
namespace {

using testing::PlanTarget;
using testing::TempDir;

plan::ScrapePlan TwoTargets() {
  plan::ScrapePlan p;
  p.pool_namespace = "mon";
  p.pool = "main";
  p.shard = 2;
  p.generation = 77;
  p.targets = {PlanTarget(1, "127.0.0.1:9100", "a"), PlanTarget(2, "127.0.0.1:9101", "b")};
  p.targets[1].handoff = plan::Handoff::kOutgoing;
  return p;
}

TEST(PlanFileTest, PersistedPlanLoadsBackEqual) {
  TempDir dir;
  const std::string data = dir.path() + "/nested/data";
  ASSERT_TRUE(PersistPlan(data, TwoTargets()).ok());
  Result<plan::ScrapePlan> loaded = LoadPersistedPlan(data);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, TwoTargets());
  // No temp file is left behind.
  EXPECT_FALSE(std::filesystem::exists(PlanPath(data) + ".tmp"));
}

TEST(PlanFileTest, PersistReplacesThePreviousPlan) {
  TempDir dir;
  plan::ScrapePlan first = TwoTargets();
  ASSERT_TRUE(PersistPlan(dir.path(), first).ok());
  plan::ScrapePlan second = first;
  second.generation = 78;
  second.targets.pop_back();
  ASSERT_TRUE(PersistPlan(dir.path(), second).ok());
  EXPECT_EQ(*LoadPersistedPlan(dir.path()), second);
}

TEST(PlanFileTest, MissingAndCorruptFilesAreErrors) {
  TempDir dir;
  EXPECT_EQ(LoadPersistedPlan(dir.path()).status().code(), Status::Code::kNotFound);
  std::filesystem::create_directories(std::filesystem::path(PlanPath(dir.path())).parent_path());
  std::ofstream(PlanPath(dir.path())) << "{\"targets\": [";
  Result<plan::ScrapePlan> corrupt = LoadPersistedPlan(dir.path());
  EXPECT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.status().code(), Status::Code::kNotFound);
}

TEST(PlanFileTest, PlanFileIsPrivateInAPrivateDirectory) {
  TempDir dir;
  // A directory left world-readable (an older version, a volume's defaults) is tightened.
  std::filesystem::create_directories(dir.path() + "/operator");
  ::chmod((dir.path() + "/operator").c_str(), 0755);
  ASSERT_TRUE(PersistPlan(dir.path(), TwoTargets()).ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() + "/operator/plan.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the plan carries credentials";
  ASSERT_EQ(::stat((dir.path() + "/operator").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(PlanFileTest, APlanAtTheOldPlaceIsLoadedThenMoved) {
  TempDir dir;
  ASSERT_TRUE(
      WriteFileAtomically(dir.path() + "/plan.json", plan::ToJson(TwoTargets()).dump(), 0600).ok());
  auto loaded = LoadPersistedPlan(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->targets.size(), 2u);
  ASSERT_TRUE(PersistPlan(dir.path(), *loaded).ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/plan.json"));
  EXPECT_TRUE(LoadPersistedPlan(dir.path()).ok());
}

TEST(PlanFileTest, WriteFileAtomicallyAppliesTheModeDespiteTheUmask) {
  TempDir dir;
  const std::string path = dir.path() + "/tls/key.pem";
  ASSERT_TRUE(WriteFileAtomically(path, "secret", 0600).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "secret");
}

TEST(PlanFileTest, ValidationRejectsWhatCannotBeScrapedAsGiven) {
  EXPECT_TRUE(ValidatePlan(TwoTargets()).ok());
  auto broken = [](auto mutate) {
    plan::ScrapePlan p = TwoTargets();
    mutate(p.targets[0]);
    return ValidatePlan(p);
  };
  EXPECT_FALSE(broken([](plan::Target& t) { t.address = ""; }).ok());
  EXPECT_FALSE(broken([](plan::Target& t) { t.scheme = "ftp"; }).ok());
  EXPECT_FALSE(broken([](plan::Target& t) { t.path = "metrics"; }).ok());
  EXPECT_FALSE(broken([](plan::Target& t) { t.interval = std::chrono::milliseconds(0); }).ok());
  EXPECT_FALSE(broken([](plan::Target& t) { t.timeout = t.interval * 2; }).ok());
  EXPECT_FALSE(broken([](plan::Target& t) { t.labels = Labels{{"__address__", "x"}}; }).ok());
  EXPECT_FALSE(broken([](plan::Target& t) {
                 t.metric_relabelings = nlohmann::json::array({{{"action", "bogus"}}});
               }).ok());
  plan::ScrapePlan dup = TwoTargets();
  dup.targets[1].id = dup.targets[0].id;
  EXPECT_FALSE(ValidatePlan(dup).ok());
}

}  // namespace
}  // namespace shardwise::opclient
