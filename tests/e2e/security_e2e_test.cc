// The discovery endpoint's security on the local cluster, as deployed from manifests/: the
// operator runs as a pod under its ServiceAccount with exactly manifests/rbac.yaml, talking
// to the simulator's HTTPS listener where RBAC is enforced; it serves HTTPS with its managed
// certificate; scrapers are pods holding a projected token (audience shardwise) and the CA
// ConfigMap. Tokens here are real ones from the simulator (`kubectl create token`, the
// TokenRequest API, bound to pods or not).
//
// Shows (docs/security.md):
//   - the scrapers get their plans over HTTPS, verifying the operator with the published CA;
//   - no token → 401; a token for another audience, or an expired one → 401;
//   - a ServiceAccount other than the pool's scrapers → 403 on plans; a scraper token bound
//     to one pod asking for another pod's plan or posting its report → 403; a token of the
//     pool's namespace may read http_sd (no credentials in it), one of another namespace not;
//   - with the tokenreviews rule removed from the operator's ClusterRole the endpoint answers
//     503 and the operator's log shows the API's Forbidden; with the rule back it serves;
//   - no target password, token or private key in any Event or any pod's log;
//   - the scraper's persisted plan is 0600 in a 0700 directory on its volume.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "common/base64.h"
#include "common/http/client.h"
#include "tests/e2e/fleet.h"
#include "tests/e2e/local_cluster.h"

namespace shardwise::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr char kNs[] = "sec";
constexpr char kOperatorNs[] = "shardwise-system";
constexpr char kOperatorHost[] = "shardwise-operator.shardwise-system.svc";
constexpr char kScraperSa[] = "shardwise-main-scraper";

std::string RandomHex() {
  std::random_device rd;
  std::ostringstream s;
  s << std::hex << rd() << rd();
  return s.str();
}

// The pool (2 shards, so there is another pod to ask about), a sample app scraped with basic
// auth whose password comes from a Secret, and a plain pod of the namespace's default account.
std::string Workload(const std::string& password) {
  return R"(apiVersion: v1
kind: Namespace
metadata: {name: sec}
---
apiVersion: v1
kind: Secret
metadata: {name: app-credentials, namespace: sec}
stringData: {username: scraper, password: ")" +
         password + R"("}
---
apiVersion: shardwise.io/v1alpha1
kind: ScrapePool
metadata: {name: main, namespace: sec}
spec:
  shards: 2
  podMonitorSelector: {matchLabels: {shardwise.io/pool: main}}
  monitorNamespaceSelector: {}
  scrapeDefaults: {interval: 2s, timeout: 1s}
  storage:
    volumeClaimTemplate:
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
---
)" +
         SampleAppYaml({.ns = kNs,
                        .name = "app",
                        .series = 20,
                        .endpoint = "    basicAuth:\n"
                                    "      username: {name: app-credentials, key: username}\n"
                                    "      password: {name: app-credentials, key: password}\n"});
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class SecurityE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cluster_.Start().ok()) << cluster_.SimLog(); }

  CommandResult Kubectl(std::vector<std::string> args) { return cluster_.Kubectl(std::move(args)); }

  // `kubectl create token SA -n NS [extra...]`, remembered so no log may show it.
  std::string CreateToken(const std::string& ns, const std::string& sa,
                          std::vector<std::string> extra) {
    std::vector<std::string> args = {"create", "token", sa, "-n", ns, "--duration", "10m"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = Kubectl(args);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    std::string token = r.out;
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    secrets_.push_back(token);
    return token;
  }
  std::string ScraperToken(const std::string& bound_pod) {
    return CreateToken(kNs, kScraperSa,
                       {"--audience", "shardwise", "--bound-object-kind", "Pod",
                        "--bound-object-name", bound_pod});
  }

  // A request to the leading operator's discovery endpoint over HTTPS, verified with the CA
  // the operator published in the pool's namespace, under the Service's name.
  Result<http::ClientResponse> Call(const std::string& method, const std::string& path,
                                    const std::string& token, const std::string& body = "") {
    http::ClientRequest req;
    req.method = method;
    req.url = "https://" + operator_ip_ + ":8080" + path;
    req.tls.ca_file = ca_file_;
    req.tls.server_name = kOperatorHost;
    req.bearer_token = token;
    req.body = body;
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    return client_.DoSync(req);
  }
  int Code(const std::string& method, const std::string& path, const std::string& token,
           const std::string& body = "") {
    auto r = Call(method, path, token, body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->status : -1;
  }

  std::string LeaderPod() {
    return cluster_.JsonPath("lease/shardwise-operator", ".spec.holderIdentity", kOperatorNs);
  }

  // Every container's log of every pod in `ns` (current instances).
  std::string AllLogs(const std::string& ns) {
    std::string out;
    CommandResult pods = Kubectl({"get", "pods", "-n", ns, "-o", "json"});
    if (pods.exit_code != 0) return pods.Describe();
    const json list = json::parse(pods.out);
    for (const auto& p : list["items"]) {
      std::string pod = p["metadata"]["name"];
      for (const auto& c : p["spec"]["containers"]) {
        std::string container = c["name"];
        CommandResult log = Kubectl({"logs", pod, "-c", container, "-n", ns});
        out += log.exit_code == 0 ? log.out : log.Describe();
      }
    }
    return out;
  }

  LocalCluster cluster_;
  http::Client client_;
  std::string operator_ip_;
  std::string ca_file_;
  std::vector<std::string> secrets_;
};

TEST_F(SecurityE2ETest, TokensRbacHttpsAndNoSecretsOnTheLocalCluster) {
  const std::string password = "pw-" + RandomHex();
  secrets_.push_back(password);
  Status deployed = ApplyCrds(cluster_);
  ASSERT_TRUE(deployed.ok()) << deployed.ToString();
  deployed = ApplyOperator(cluster_);
  ASSERT_TRUE(deployed.ok()) << deployed.ToString();
  CommandResult r = cluster_.Apply(Workload(password));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();

  // The operator pods run under its ServiceAccount with the in-cluster configuration (the
  // mounted token and the simulator's HTTPS address), no kubeconfig of their own.
  CommandResult op = Kubectl({"get", "deploy/shardwise-operator", "-n", kOperatorNs, "-o", "json"});
  ASSERT_EQ(op.exit_code, 0) << op.Describe();
  json pod_spec = json::parse(op.out)["spec"]["template"]["spec"];
  EXPECT_EQ(pod_spec["serviceAccountName"], "shardwise-operator");
  EXPECT_THAT(pod_spec["containers"][0]["args"].dump(), Not(HasSubstr("kubeconfig")));
  EXPECT_THAT(pod_spec["containers"][0]["args"].dump(), HasSubstr("--operator-url=https://"));
  // What RBAC grants it, as the simulator evaluates every request of that account.
  const std::string as = "--as=system:serviceaccount:shardwise-system:shardwise-operator";
  EXPECT_EQ(Kubectl({"auth", "can-i", "create", "tokenreviews", as}).out, "yes\n");
  EXPECT_EQ(Kubectl({"auth", "can-i", "get", "secrets", "-n", kNs, as}).out, "no\n");
  EXPECT_EQ(Kubectl({"auth", "can-i", "delete", "pods", "-n", kNs, as}).out, "no\n");

  // Scrapers verify the operator's certificate with the CA ConfigMap and authenticate with
  // their projected tokens: both shards get plans and report load over HTTPS.
  ASSERT_TRUE(WaitFor(
      [&] {
        return cluster_.JsonPath("statefulset/shardwise-main-0", ".status.readyReplicas", kNs) ==
               "2";
      },
      90s))
      << Kubectl({"get", "pods", "-A"}).out << AllLogs(kOperatorNs) << AllLogs(kNs);
  ASSERT_TRUE(WaitFor(
      [&] {
        return cluster_.JsonPath("scrapeshards", ".items[*].status.phase", kNs) == "Active Active";
      },
      60s))
      << Kubectl({"get", "scrapeshards", "-n", kNs, "-o", "yaml"}).out << AllLogs(kNs);
  {
    // The scrapers verified the operator with the mounted CA and its Service name: never
    // libcurl's verification failures (connections refused while no operator replica was
    // ready are expected early on).
    std::string scraper_logs = AllLogs(kNs);
    EXPECT_THAT(scraper_logs, Not(HasSubstr("certificate problem")));
    EXPECT_THAT(scraper_logs, Not(HasSubstr("subject name")));
  }

  std::string leader = LeaderPod();
  ASSERT_FALSE(leader.empty());
  operator_ip_ = cluster_.PodIp(leader, kOperatorNs);
  std::string ca = cluster_.JsonPath("configmap/shardwise-ca", ".data.ca\\.crt", kNs);
  ASSERT_THAT(ca, HasSubstr("BEGIN CERTIFICATE"));
  ca_file_ = cluster_.dir() + "/operator-ca.crt";
  std::ofstream(ca_file_) << ca;

  const std::string plan0 = std::string("/api/v1/plans/") + kNs + "/shardwise-main-0-0";
  const std::string plan1 = std::string("/api/v1/plans/") + kNs + "/shardwise-main-0-1";
  const std::string report1 = std::string("/api/v1/reports/") + kNs + "/shardwise-main-0-1";
  const std::string http_sd = std::string("/api/v1/http_sd/") + kNs + "/main/0";

  // Plain HTTP is not served; HTTPS with our CA is, under the Service's name.
  {
    http::ClientRequest plain{.url = "http://" + operator_ip_ + ":8080/readyz"};
    auto p = client_.DoSync(plain);
    EXPECT_TRUE(!p.ok() || p->status == 400) << (p.ok() ? p->body : p.status().ToString());
    http::ClientRequest untrusted{.url = "https://" + operator_ip_ + ":8080/healthz"};
    untrusted.tls.server_name = kOperatorHost;
    EXPECT_FALSE(client_.DoSync(untrusted).ok());  // the system roots do not know our CA
  }

  // 401: no token; another audience; expired (a real token with its exp moved to the past).
  {
    auto none = Call("GET", plan0, "");
    ASSERT_TRUE(none.ok()) << none.status().ToString();
    EXPECT_EQ(none->status, 401);
    EXPECT_THAT(std::string(none->Header("WWW-Authenticate")), HasSubstr("Bearer"));
  }
  EXPECT_EQ(Code("GET", plan0,
                 CreateToken(kNs, kScraperSa,
                             {"--audience", "other-audience", "--bound-object-kind", "Pod",
                              "--bound-object-name", "shardwise-main-0-0"})),
            401);
  EXPECT_EQ(Code("GET", plan0, CreateToken(kNs, kScraperSa, {})), 401);  // the API's audience
  {
    std::string t = ScraperToken("shardwise-main-0-0");
    size_t a = t.find('.'), b = t.find('.', a + 1);
    ASSERT_NE(b, std::string::npos);
    std::string payload = t.substr(a + 1, b - a - 1);
    std::replace(payload.begin(), payload.end(), '-', '+');
    std::replace(payload.begin(), payload.end(), '_', '/');
    while (payload.size() % 4) payload += '=';
    auto decoded = Base64Decode(payload);
    ASSERT_TRUE(decoded.ok());
    json claims = json::parse(*decoded);
    claims["exp"] = claims["iat"].get<int64_t>() - 60;
    std::string enc = Base64Encode(claims.dump());
    std::replace(enc.begin(), enc.end(), '+', '-');
    std::replace(enc.begin(), enc.end(), '/', '_');
    while (!enc.empty() && enc.back() == '=') enc.pop_back();
    std::string expired = t.substr(0, a + 1) + enc + t.substr(b);
    secrets_.push_back(expired);
    EXPECT_EQ(Code("GET", plan0, expired), 401);
  }

  // 403: another ServiceAccount of the namespace; a scraper token bound to pod 0-0 asking
  // for 0-1's plan or posting its report; an unbound scraper token.
  std::string other_sa = CreateToken(kNs, "default", {"--audience", "shardwise"});
  EXPECT_EQ(Code("GET", plan0, other_sa), 403);
  std::string scraper0 = ScraperToken("shardwise-main-0-0");
  EXPECT_EQ(Code("GET", plan0, scraper0), 200);
  EXPECT_EQ(Code("GET", plan1, scraper0), 403);
  EXPECT_EQ(Code("POST", report1, scraper0, R"({"activeSeries":1})"), 403);
  EXPECT_EQ(Code("GET", plan0, CreateToken(kNs, kScraperSa, {"--audience", "shardwise"})), 403);
  // http_sd: any account of the pool's namespace, none of another; never credentials.
  {
    auto sd = Call("GET", http_sd, other_sa);
    ASSERT_TRUE(sd.ok()) << sd.status().ToString();
    EXPECT_EQ(sd->status, 200) << sd->body;
    EXPECT_THAT(sd->body, Not(HasSubstr(password)));
    EXPECT_EQ(Code("GET", http_sd, CreateToken("default", "default", {"--audience", "shardwise"})),
              403);
  }

  // The operator runs with exactly the manifests' RBAC: without the tokenreviews rule it can
  // no longer check tokens (503, retry) and its log shows the API's Forbidden.
  CommandResult role = Kubectl({"get", "clusterrole/shardwise-operator", "-o", "json"});
  ASSERT_EQ(role.exit_code, 0) << role.Describe();
  json cr = json::parse(role.out);
  json kept = json::array();
  for (const auto& rule : cr["rules"]) {
    if (rule["resources"].dump().find("tokenreviews") == std::string::npos) kept.push_back(rule);
  }
  ASSERT_EQ(kept.size() + 1, cr["rules"].size());
  cr["rules"] = kept;
  r = cluster_.Kubectl({"replace", "-f", "-"}, 30s, cr.dump());
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Code("GET", plan0, ScraperToken("shardwise-main-0-0")), 503);
  EXPECT_TRUE(WaitFor(
      [&] {
        std::string log = cluster_.Logs(leader, "operator", {}, kOperatorNs);
        return log.find("cannot review a scraper's token") != std::string::npos &&
               log.find("tokenreviews") != std::string::npos &&
               log.find("forbidden") != std::string::npos;
      },
      20s))
      << cluster_.Logs(leader, "operator", {"--tail=20"}, kOperatorNs);
  deployed = ApplyOperator(cluster_);
  ASSERT_TRUE(deployed.ok()) << deployed.ToString();
  EXPECT_EQ(Code("GET", plan0, ScraperToken("shardwise-main-0-0")), 200);

  // No secret in any Event or any pod's log: the target's password, the tokens used above,
  // every token the kubelet mounted into pods, private keys.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           cluster_.data_dir() + "/pods",
           std::filesystem::directory_options::skip_permission_denied)) {
    if (entry.is_regular_file() && entry.path().filename() == "token" &&
        entry.path().string().find("/volumes/") != std::string::npos) {
      std::string t = ReadFile(entry.path());
      if (t.size() > 20) secrets_.push_back(t);
    }
  }
  CommandResult events = Kubectl({"get", "events", "-A", "-o", "json"});
  ASSERT_EQ(events.exit_code, 0) << events.Describe();
  std::string logs = AllLogs(kOperatorNs) + AllLogs(kNs);
  EXPECT_THAT(logs, HasSubstr("discovery endpoint request forbidden"));  // the logs are there
  for (const std::string& where : {events.out, logs}) {
    for (const auto& s : secrets_) {
      ASSERT_FALSE(s.empty());
      EXPECT_EQ(where.find(s), std::string::npos) << "a secret appears: " << s.substr(0, 12);
      // Tokens are JWTs: their signature alone must not appear either.
      size_t dot = s.rfind('.');
      if (dot != std::string::npos && s.size() - dot > 20) {
        EXPECT_EQ(where.find(s.substr(dot + 1)), std::string::npos);
      }
    }
    EXPECT_THAT(where, Not(HasSubstr("PRIVATE KEY")));
  }

  // The scrapers' plans on their volumes (the one with the target holds its password): 0600
  // in a 0700 directory. A shard whose plan has no targets may not have written one yet.
  int plans_seen = 0;
  for (const char* pod : {"shardwise-main-0-0", "shardwise-main-0-1"}) {
    std::string claim_uid = cluster_.JsonPath(std::string("pvc/data-") + pod, ".metadata.uid", kNs);
    ASSERT_FALSE(claim_uid.empty()) << pod;
    for (const auto& e : std::filesystem::directory_iterator(cluster_.data_dir() + "/pvc")) {
      if (e.path().filename().string().find(claim_uid) == std::string::npos) continue;
      std::string plan_dir = e.path().string() + "/operator";
      struct stat st {};
      if (::stat((plan_dir + "/plan.json").c_str(), &st) != 0) continue;
      ++plans_seen;
      EXPECT_EQ(st.st_mode & 0777, 0600u) << plan_dir;
      ASSERT_EQ(::stat(plan_dir.c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 0777, 0700u) << plan_dir;
    }
  }
  EXPECT_GE(plans_seen, 1);
}

}  // namespace
}  // namespace shardwise::testing
