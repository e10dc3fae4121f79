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

}  // namespace
}  // namespace shardwise
