// RulesFile follows the rules file as a mounted ConfigMap changes: the kubelet's layout (the
// file is a symlink through ..data to a timestamped directory, swapped atomically).
#include "operator/custommetrics/rules_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/testing/test_util.h"

namespace shardwise::custommetrics {
namespace {

namespace fs = std::filesystem;

std::string Rule(const std::string& as) {
  return R"(rules:
- seriesQuery: 'http_requests_total{namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: "namespace"}, pod: {resource: "pod"}}}
  name: {matches: "^(.*)_total", as: ")" +
         as + R"("}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'
)";
}

// A ConfigMap volume as the kubelet writes it: config.yaml -> ..data/config.yaml, and
// ..data -> ..<version>, replaced by renaming a new symlink over it.
class ConfigMapVolume {
 public:
  explicit ConfigMapVolume(std::string dir) : dir_(std::move(dir)) {
    fs::create_symlink("..data/config.yaml", dir_ + "/config.yaml");
  }
  void Write(const std::string& contents) {
    std::string version = "..v" + std::to_string(++n_);
    fs::create_directory(dir_ + "/" + version);
    std::ofstream(dir_ + "/" + version + "/config.yaml") << contents;
    fs::create_symlink(version, dir_ + "/..data_tmp");
    fs::rename(dir_ + "/..data_tmp", dir_ + "/..data");
  }
  std::string path() const { return dir_ + "/config.yaml"; }

 private:
  std::string dir_;
  int n_ = 0;
};

TEST(RulesFileTest, FollowsTheMountedConfigMap) {
  testing::TempDir dir;
  ConfigMapVolume volume(dir.path());
  volume.Write(Rule("${1}_per_second"));
  RulesFile file(volume.path());
  auto first = file.Load();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->rules.size(), 1u);
  EXPECT_FALSE(file.LoadIfChanged().has_value());  // the same bytes

  volume.Write(Rule("${1}_rate"));
  auto changed = file.LoadIfChanged();
  ASSERT_TRUE(changed.has_value());
  ASSERT_TRUE(changed->ok()) << changed->status().ToString();
  EXPECT_EQ((*changed)->rules[0].MetricName("http_requests_total"), "http_requests_rate");
  EXPECT_FALSE(file.LoadIfChanged().has_value());

  // A broken file is an error naming the file, once; then nothing until it changes again.
  volume.Write("rules: [{seriesQuery: 'x', metricsQuery: 'sum(label_replace(<<.Series>>))'}]\n");
  auto broken = file.LoadIfChanged();
  ASSERT_TRUE(broken.has_value());
  ASSERT_FALSE(broken->ok());
  EXPECT_NE(broken->status().message().find(volume.path()), std::string::npos)
      << broken->status().ToString();
  EXPECT_FALSE(file.LoadIfChanged().has_value());
  volume.Write("rules: [");
  ASSERT_TRUE(file.LoadIfChanged().has_value());

  volume.Write(Rule("${1}_per_second"));
  auto fixed = file.LoadIfChanged();
  ASSERT_TRUE(fixed.has_value());
  EXPECT_TRUE(fixed->ok()) << fixed->status().ToString();
}

TEST(RulesFileTest, AMissingFile) {
  testing::TempDir dir;
  RulesFile file(dir.path() + "/config.yaml");
  auto loaded = file.Load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("config.yaml"), std::string::npos);
  // Unreadable while running (a volume mid-swap): nothing to reload, the rules in use stay.
  EXPECT_FALSE(file.LoadIfChanged().has_value());
}

}  // namespace
}  // namespace shardwise::custommetrics
