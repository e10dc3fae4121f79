#include "operator/kube/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "operator/kube/token_source.h"

namespace shardwise::kube {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "kubecfg-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string path() const { return path_; }
  std::string Write(const std::string& name, const std::string& contents) const {
    const std::string file = (fs::path(path_) / name).string();
    std::ofstream(file, std::ios::binary) << contents;
    return file;
  }

 private:
  std::string path_;
};

constexpr char kTwoContexts[] = R"(
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
- name: prod-cluster
  cluster:
    server: https://prod.example.com
    certificate-authority: certs/ca.pem
    tls-server-name: kubernetes
    insecure-skip-tls-verify: true
users:
- name: dev-user
  user:
    token: abc.def
- name: prod-user
  user:
    client-certificate: certs/client.pem
    client-key: /abs/client-key.pem
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: dev-user
    namespace: team-a
- name: prod
  context:
    cluster: prod-cluster
    user: prod-user
)";

TEST(KubeconfigTest, CurrentContextWithTokenAndCaData) {
  auto config = ParseKubeconfig(kTwoContexts, "/home/me/.kube");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://10.0.0.1:6443");  // trailing slash dropped
  EXPECT_EQ(config->ca_pem, "-----BEGIN CERTIFICATE-----\n");
  EXPECT_EQ(config->bearer_token, "abc.def");
  EXPECT_EQ(config->default_namespace, "team-a");
  EXPECT_FALSE(config->insecure_skip_tls_verify);
}

TEST(KubeconfigTest, NamedContextResolvesRelativeFiles) {
  auto config = ParseKubeconfig(kTwoContexts, "/home/me/.kube", "prod");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://prod.example.com");
  EXPECT_EQ(config->ca_file, "/home/me/.kube/certs/ca.pem");
  EXPECT_EQ(config->client_cert_file, "/home/me/.kube/certs/client.pem");
  EXPECT_EQ(config->client_key_file, "/abs/client-key.pem");
  EXPECT_EQ(config->tls_server_name, "kubernetes");
  EXPECT_TRUE(config->insecure_skip_tls_verify);
  EXPECT_TRUE(config->bearer_token.empty());
  EXPECT_EQ(config->default_namespace, "");
}

TEST(KubeconfigTest, ClientCertificateData) {
  const std::string yaml = R"(
current-context: c
clusters: [{name: k, cluster: {server: "http://127.0.0.1:8080"}}]
users: [{name: u, user: {client-certificate-data: Y2VydA==, client-key-data: a2V5}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)";
  auto config = ParseKubeconfig(yaml, "");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->client_cert_pem, "cert");
  EXPECT_EQ(config->client_key_pem, "key");
}

TEST(KubeconfigTest, ErrorsNameWhatIsMissing) {
  auto no_context = ParseKubeconfig(kTwoContexts, "", "staging");
  EXPECT_EQ(no_context.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(no_context.status().message(), testing::HasSubstr("staging"));

  auto no_current = ParseKubeconfig("clusters: []\n", "");
  EXPECT_FALSE(no_current.ok());

  auto exec = ParseKubeconfig(R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://x"}}]
users: [{name: u, user: {exec: {command: gke-gcloud-auth-plugin}}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)",
                              "");
  EXPECT_THAT(exec.status().message(), testing::HasSubstr("not supported"));

  auto cert_without_key = ParseKubeconfig(R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://x"}}]
users: [{name: u, user: {client-certificate: a.pem}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)",
                                          "");
  EXPECT_FALSE(cert_without_key.ok());

  auto bad_base64 = ParseKubeconfig(R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://x", certificate-authority-data: "%%%"}}]
contexts: [{name: c, context: {cluster: k}}]
)",
                                    "");
  EXPECT_FALSE(bad_base64.ok());

  EXPECT_FALSE(ParseKubeconfig("[unbalanced", "").ok());
}

TEST(KubeconfigTest, LoadsFromFile) {
  TempDir dir;
  const std::string path = dir.Write("config", kTwoContexts);
  auto config = LoadKubeconfig(path, "prod");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->ca_file, (fs::path(dir.path()) / "certs/ca.pem").string());
  EXPECT_EQ(LoadKubeconfig(dir.path() + "/missing").status().code(), Status::Code::kIOError);
}

TEST(InClusterConfigTest, ReadsEnvironmentAndServiceAccount) {
  TempDir dir;
  dir.Write("token", "tok-1\n");
  dir.Write("ca.crt", "PEM");
  dir.Write("namespace", "monitoring\n");
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto config = InClusterConfig(dir.path());
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://[fd00::1]:443");
  EXPECT_EQ(config->ca_file, dir.path() + "/ca.crt");
  EXPECT_EQ(config->bearer_token_file, dir.path() + "/token");
  EXPECT_EQ(config->default_namespace, "monitoring");

  EXPECT_EQ(InClusterConfig(dir.path()).status().code(), Status::Code::kNotFound);
}

TEST(TokenSourceTest, RereadsARotatedFile) {
  TempDir dir;
  const std::string file = dir.Write("token", "first\n");
  TokenSource source("static-ignored", file);
  EXPECT_EQ(source.Token(), "first");
  // The kubelet swaps in a new file; a different size is noticed even within the same
  // mtime granularity.
  dir.Write("token", "second-token");
  EXPECT_EQ(source.Token(), "second-token");
  fs::remove(file);
  EXPECT_EQ(source.Token(), "second-token");  // keeps the last good token

  TokenSource fixed("static", "");
  EXPECT_EQ(fixed.Token(), "static");
}

}  // namespace
}  // namespace shardwise::kube
