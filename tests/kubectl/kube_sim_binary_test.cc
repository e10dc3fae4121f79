// The shardwise-kube-sim executable: flags, kubeconfig files, HTTPS with a token, state
// file across a restart, and a clean exit on SIGTERM.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/kubectl/command_runner.h"

namespace shardwise {
namespace {

using shardwise::testing::BackgroundCommand;
using shardwise::testing::CommandResult;
using shardwise::testing::RunCommand;
using ::testing::HasSubstr;

class KubeSimBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kube-sim-binary-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "home");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<BackgroundCommand> StartSim() {
    std::filesystem::remove(dir_ / "kc");
    std::filesystem::remove(dir_ / "kc-http");
    auto sim = std::make_unique<BackgroundCommand>(
        std::vector<std::string>{
            KUBE_SIM_BINARY, "--listen=127.0.0.1:0", "--tls-listen=127.0.0.1:0",
            "--cert-dir=" + (dir_ / "certs").string(), "--kubeconfig-out=" + (dir_ / "kc").string(),
            "--state-file=" + (dir_ / "state.json").string(), "--token=admin=tok-123"},
        std::map<std::string, std::string>{});
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline &&
           !std::filesystem::exists(dir_ / "kc-http"))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(std::filesystem::exists(dir_ / "kc")) << sim->Errors();
    EXPECT_TRUE(std::filesystem::exists(dir_ / "kc-http")) << sim->Errors();
    return sim;
  }

  CommandResult Kubectl(const std::string& kubeconfig, std::vector<std::string> args) {
    args.insert(args.begin(), "kubectl");
    return RunCommand(args,
                      {{"KUBECONFIG", (dir_ / kubeconfig).string()},
                       {"KUBECACHEDIR", (dir_ / ("cache-" + kubeconfig)).string()},
                       {"HOME", (dir_ / "home").string()}},
                      std::chrono::seconds(30));
  }

  std::filesystem::path dir_;
};

TEST_F(KubeSimBinaryTest, HelpDocumentsEveryFlag) {
  CommandResult r = RunCommand({KUBE_SIM_BINARY, "--help"}, {}, std::chrono::seconds(10));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  for (const char* flag : {"--listen", "--tls-listen", "--cert-dir", "--kubeconfig-out", "--token",
                           "--state-file", "--namespace-deletion-delay-ms", "--bookmark-interval",
                           "--log.level", "--log.format", "--help"}) {
    EXPECT_THAT(r.out, HasSubstr(flag));
  }
  r = RunCommand({KUBE_SIM_BINARY, "--bogus"}, {}, std::chrono::seconds(10));
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(KubeSimBinaryTest, ServesKubectlOverHttpsAndKeepsStateAcrossRestart) {
  auto sim = StartSim();
  std::ofstream(dir_ / "cm.yaml")
      << "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: survivor\n"
         "  namespace: default\ndata:\n  k: v\n";
  CommandResult r = Kubectl("kc", {"apply", "-f", (dir_ / "cm.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << sim->Errors();
  EXPECT_THAT(r.out, HasSubstr("configmap/survivor created"));
  std::ifstream kc(dir_ / "kc");
  std::stringstream text;
  text << kc.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("token: tok-123"));
  EXPECT_THAT(text.str(), HasSubstr("certificate-authority-data: "));
  EXPECT_EQ(sim->Terminate(std::chrono::seconds(20)), 0) << sim->Errors();
  EXPECT_THAT(sim->Errors(), HasSubstr("kube-sim stopped"));

  sim = StartSim();
  r = Kubectl("kc-http", {"get", "configmap", "survivor", "-o", "jsonpath={.data.k}"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << sim->Errors();
  EXPECT_EQ(r.out, "v");
  EXPECT_EQ(sim->Terminate(std::chrono::seconds(20)), 0) << sim->Errors();
}

}  // namespace
}  // namespace shardwise
