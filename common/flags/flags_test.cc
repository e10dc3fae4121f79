#include "common/flags/flags.h"

#include <gtest/gtest.h>

namespace shardwise {
namespace {

TEST(FlagsTest, PrometheusStyle) {
  std::string addr = ":9090";
  bool verbose = false, on = true;
  int64_t n = 1;
  std::chrono::milliseconds d{1000};
  std::vector<std::string> files = {"default"};
  FlagSet fs("prog", "desc");
  fs.String("web.listen-address", &addr, "address");
  fs.Bool("verbose", &verbose, "v");
  fs.Bool("on", &on, "o");
  fs.Int("n", &n, "n");
  fs.Duration("interval", &d, "d");
  fs.StringList("file", &files, "f");
  ASSERT_TRUE(
      fs.Parse(std::vector<std::string>{"--web.listen-address=127.0.0.1:1", "--verbose", "--no-on",
                                        "--n", "7", "--interval=1m30s", "--file=a", "--file", "b"})
          .ok());
  EXPECT_EQ(addr, "127.0.0.1:1");
  EXPECT_TRUE(verbose);
  EXPECT_FALSE(on);
  EXPECT_EQ(n, 7);
  EXPECT_EQ(d.count(), 90000);
  EXPECT_EQ(files, (std::vector<std::string>{"a", "b"}));
  EXPECT_NE(fs.Usage().find("--web.listen-address=VALUE"), std::string::npos);
  EXPECT_NE(fs.Usage().find("(default: :9090)"), std::string::npos);
}

TEST(FlagsTest, ErrorsNameTheFlag) {
  int64_t n = 0;
  FlagSet fs("prog", "desc");
  fs.Int("n", &n, "n");
  Status s = fs.Parse(std::vector<std::string>{"--n=abc"});
  EXPECT_NE(s.message().find("--n"), std::string::npos);
  EXPECT_NE(fs.Parse(std::vector<std::string>{"--bogus"}).message().find("unknown flag --bogus"),
            std::string::npos);
  EXPECT_FALSE(fs.Parse(std::vector<std::string>{"--n"}).ok());
  FlagSet h("prog", "desc");
  ASSERT_TRUE(h.Parse(std::vector<std::string>{"--help"}).ok());
  EXPECT_TRUE(h.help_requested());
}

TEST(FlagsTest, SizeRefusesValuesBelowItsMinimum) {
  size_t workers = 2, bytes = 4096;
  FlagSet fs("prog", "desc");
  fs.Size("workers", &workers, "w", 1);
  fs.Size("bytes", &bytes, "b");
  EXPECT_NE(fs.Usage().find("(default: 4096)"), std::string::npos);
  ASSERT_TRUE(fs.Parse(std::vector<std::string>{"--workers=3", "--bytes=0"}).ok());
  EXPECT_EQ(workers, 3u);
  EXPECT_EQ(bytes, 0u);
  Status s = fs.Parse(std::vector<std::string>{"--workers=0"});
  EXPECT_NE(s.message().find("--workers: 0 is below the minimum 1"), std::string::npos)
      << s.ToString();
  s = fs.Parse(std::vector<std::string>{"--bytes=-1"});
  EXPECT_NE(s.message().find("--bytes: -1 is below the minimum 0"), std::string::npos)
      << s.ToString();
  EXPECT_NE(fs.Parse(std::vector<std::string>{"--bytes=1k"}).message().find("not an integer"),
            std::string::npos);
  EXPECT_EQ(workers, 3u);
  EXPECT_EQ(bytes, 0u);
}

}  // namespace
}  // namespace shardwise
