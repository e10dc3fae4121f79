#include "hack/kube-sim/kubelet/memory_limits.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "common/testing/test_util.h"

namespace shardwise::kubesim {
namespace {

TEST(MemoryLimitsTest, LimitInBytes) {
  auto limit = [](const json& c) { return MemoryLimitBytes(c); };
  EXPECT_EQ(*limit(json::parse(R"({"resources":{"limits":{"memory":"64Mi"}}})")), 64 << 20);
  EXPECT_EQ(*limit(json::parse(R"({"resources":{"limits":{"memory":"1G"}}})")), 1000000000);
  EXPECT_EQ(*limit(json::parse(R"({"resources":{"limits":{"memory":1024}}})")), 1024);
  EXPECT_EQ(*limit(json::parse(R"({"resources":{"limits":{"cpu":"1"}}})")), 0);
  EXPECT_EQ(*limit(json::parse(R"({"resources":{"requests":{"memory":"1Gi"}}})")), 0);
  EXPECT_EQ(*limit(json::parse(R"({"name":"c"})")), 0);
  auto bad = limit(json::parse(R"({"resources":{"limits":{"memory":"lots"}}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("lots"), std::string::npos);

  EXPECT_EQ(MemoryMaxFileText(64 << 20), "67108864");
  EXPECT_EQ(MemoryMaxFileText(0), "max");
}

TEST(MemoryLimitsTest, SumsRssPerProcessGroup) {
  shardwise::testing::TempDir proc;
  const int64_t page = ::sysconf(_SC_PAGESIZE);
  auto stat = [&](const std::string& pid, const std::string& comm, int pgrp, int rss) {
    std::filesystem::create_directories(proc.path() + "/" + pid);
    std::ofstream(proc.path() + "/" + pid + "/stat")
        << pid << " (" << comm << ") S 1 " << pgrp << " 0 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 "
        << rss << " 0 0 0\n";
  };
  stat("100", "sh", 100, 10);
  stat("101", "a (weird) name", 100, 5);  // comm with spaces and parentheses
  stat("200", "other", 200, 7);
  stat("300", "zombie", 300, 0);
  std::filesystem::create_directories(proc.path() + "/self");  // not a pid
  std::filesystem::create_directories(proc.path() + "/400");   // vanished: no stat
  auto rss = RssByProcessGroup(proc.path());
  EXPECT_EQ(rss[100], 15 * page);
  EXPECT_EQ(rss[200], 7 * page);
  EXPECT_EQ(rss.count(300), 0u);
  EXPECT_EQ(rss.size(), 2u);
}

TEST(MemoryLimitsTest, SumsCpuTimePerProcessGroup) {
  shardwise::testing::TempDir proc;
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  auto stat = [&](const std::string& pid, int pgrp, int utime, int stime) {
    std::filesystem::create_directories(proc.path() + "/" + pid);
    // Fields 3..24: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    // utime stime cutime cstime priority nice threads itrealvalue starttime vsize rss.
    std::ofstream(proc.path() + "/" + pid + "/stat")
        << pid << " (x) S 1 " << pgrp << " 0 0 0 0 0 0 0 0 " << utime << " " << stime
        << " 0 0 20 0 1 0 100 1000 3 0 0 0\n";
  };
  stat("100", 100, 150, 50);
  stat("101", 100, 100, 0);
  stat("200", 200, 0, 0);
  auto usage = UsageByProcessGroup(proc.path());
  EXPECT_DOUBLE_EQ(usage[100].cpu_seconds, 300 / hz);
  EXPECT_EQ(usage[100].rss_bytes, 6 * ::sysconf(_SC_PAGESIZE));
  EXPECT_DOUBLE_EQ(usage[200].cpu_seconds, 0);
}

TEST(MemoryLimitsTest, ThisProcessGroupHasResidentMemory) {
  std::vector<char> touched(8 << 20, 1);  // 8 MiB written, so resident
  auto rss = RssByProcessGroup();
  EXPECT_GE(rss[::getpgrp()], static_cast<int64_t>(touched.size()));
}

}  // namespace
}  // namespace shardwise::kubesim
