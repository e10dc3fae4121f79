// The auth layer: JWTs, ServiceAccount tokens (bound and legacy), RBAC decisions and
// messages, the auth controllers, and the HTTP surface (401/403, reviews,
// impersonation) of an embedded Simulator.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/http/client.h"
#include "common/testing/test_util.h"
#include "hack/kube-sim/auth/auth_controllers.h"
#include "hack/kube-sim/auth/jwt.h"
#include "hack/kube-sim/auth/protobuf_reviews.h"
#include "hack/kube-sim/auth/rbac.h"
#include "hack/kube-sim/simulator.h"
#include "hack/kube-sim/time_util.h"

namespace shardwise::kubesim {
namespace {

using ::shardwise::testing::WaitFor;
using ::testing::HasSubstr;

TEST(JwtTest, SignsAndVerifiesAndRejectsTampering) {
  auto key = JwtKey::Generate();
  ASSERT_TRUE(key.ok());
  std::string token = key.value()->Sign({{"sub", "me"}, {"n", 1}});
  auto claims = key.value()->Verify(token);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims.value()["sub"], "me");
  std::string tampered = token;
  size_t dot = tampered.find('.');
  tampered.replace(dot + 1, tampered.find('.', dot + 1) - dot - 1,
                   Base64UrlEncode(json{{"sub", "root"}, {"n", 1}}.dump()));
  EXPECT_FALSE(key.value()->Verify(tampered).ok());
  EXPECT_FALSE(key.value()->Verify("a.b").ok());
  EXPECT_FALSE(key.value()->Verify("").ok());
  auto other = JwtKey::Generate();
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other.value()->Verify(token).ok());
}

TEST(RbacTest, RuleMatching) {
  Attributes a;
  a.verb = "get";
  a.group = "";
  a.resource = "pods";
  a.subresource = "log";
  a.ns = "ns";
  a.name = "p1";
  EXPECT_TRUE(
      RuleAllows({{"verbs", {"get"}}, {"apiGroups", {""}}, {"resources", {"pods/log"}}}, a));
  EXPECT_FALSE(RuleAllows({{"verbs", {"get"}}, {"apiGroups", {""}}, {"resources", {"pods"}}}, a));
  EXPECT_TRUE(RuleAllows({{"verbs", {"*"}}, {"apiGroups", {"*"}}, {"resources", {"*/log"}}}, a));
  EXPECT_TRUE(RuleAllows(
      {{"verbs", {"get"}}, {"apiGroups", {""}}, {"resources", {"*"}}, {"resourceNames", {"p1"}}},
      a));
  EXPECT_FALSE(RuleAllows(
      {{"verbs", {"get"}}, {"apiGroups", {""}}, {"resources", {"*"}}, {"resourceNames", {"p2"}}},
      a));
  a.verb = "list";
  a.name.clear();
  a.subresource.clear();
  EXPECT_FALSE(RuleAllows({{"verbs", {"list"}},
                           {"apiGroups", {""}},
                           {"resources", {"pods"}},
                           {"resourceNames", {"p1"}}},
                          a));
  Attributes n;
  n.resource_request = false;
  n.verb = "get";
  n.path = "/apis/apps/v1";
  EXPECT_TRUE(RuleAllows({{"verbs", {"get"}}, {"nonResourceURLs", {"/apis/*"}}}, n));
  EXPECT_FALSE(RuleAllows({{"verbs", {"get"}}, {"nonResourceURLs", {"/api/*"}}}, n));
  EXPECT_FALSE(RuleAllows({{"verbs", {"get"}}, {"apiGroups", {"*"}}, {"resources", {"*"}}}, n));
}

TEST(RbacTest, ForbiddenMessagesMatchKubeApiserver) {
  Attributes a;
  a.user.username = "system:serviceaccount:ns:sa";
  a.verb = "list";
  a.resource = "pods";
  a.ns = "ns";
  EXPECT_EQ(Forbidden(a).message(),
            "pods is forbidden: User \"system:serviceaccount:ns:sa\" cannot list resource "
            "\"pods\" in API group \"\" in the namespace \"ns\"");
  a.group = "apps";
  a.resource = "deployments";
  a.subresource = "scale";
  a.name = "web";
  a.verb = "patch";
  EXPECT_EQ(Forbidden(a).message(),
            "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:ns:sa\" cannot "
            "patch resource \"deployments/scale\" in API group \"apps\" in the namespace \"ns\"");
  a.ns.clear();
  EXPECT_THAT(Forbidden(a).message(), HasSubstr("at the cluster scope"));
  Attributes n;
  n.user.username = "bob";
  n.resource_request = false;
  n.verb = "get";
  n.path = "/metrics";
  EXPECT_EQ(Forbidden(n).message(), "forbidden: User \"bob\" cannot get path \"/metrics\"");
  EXPECT_EQ(Forbidden(n).code(), 403);
}

TEST(LabelSelectorTest, MatchLabelsAndExpressions) {
  json obj = {{"metadata", {{"labels", {{"a", "1"}, {"b", "2"}}}}}};
  EXPECT_TRUE(LabelSelectorMatches({{"matchLabels", {{"a", "1"}}}}, obj));
  EXPECT_FALSE(LabelSelectorMatches({{"matchLabels", {{"a", "2"}}}}, obj));
  EXPECT_TRUE(LabelSelectorMatches(
      {{"matchExpressions", {{{"key", "b"}, {"operator", "In"}, {"values", {"2", "3"}}}}}}, obj));
  EXPECT_FALSE(
      LabelSelectorMatches({{"matchExpressions", {{{"key", "c"}, {"operator", "Exists"}}}}}, obj));
  EXPECT_TRUE(LabelSelectorMatches(
      {{"matchExpressions", {{{"key", "c"}, {"operator", "DoesNotExist"}}}}}, obj));
}

// A length-delimited protobuf field (short values only).
std::string Pb(int tag, const std::string& value) {
  return std::string(1, static_cast<char>(tag << 3 | 2)) +
         std::string(1, static_cast<char>(value.size())) + value;
}

TEST(ProtobufReviewsTest, DecodesWhatKubectlSends) {
  std::string ra = Pb(1, "ns") + Pb(2, "list") + Pb(5, "pods");
  std::string ssar = Pb(2, Pb(1, ra));
  std::string body = std::string("k8s\0", 4) +
                     Pb(1, Pb(1, "authorization.k8s.io/v1") + Pb(2, "SelfSubjectAccessReview")) +
                     Pb(2, ssar);
  auto decoded = DecodeReviewProtobuf(body);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(decoded.value()["kind"], "SelfSubjectAccessReview");
  EXPECT_EQ(decoded.value()["spec"]["resourceAttributes"],
            json({{"namespace", "ns"}, {"verb", "list"}, {"resource", "pods"}}));

  std::string tr = Pb(2, Pb(1, "api") + std::string("\x20\x90\x1c", 3));  // exp 3600
  decoded = DecodeReviewProtobuf(std::string("k8s\0", 4) +
                                 Pb(1, Pb(1, "authentication.k8s.io/v1") + Pb(2, "TokenRequest")) +
                                 Pb(2, tr));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(decoded.value()["spec"]["audiences"], json({"api"}));
  EXPECT_EQ(decoded.value()["spec"]["expirationSeconds"], 3600);

  EXPECT_EQ(DecodeReviewProtobuf("k8s").error().code(), 400);
  EXPECT_EQ(DecodeReviewProtobuf(std::string("k8s\0\x0a\x7f", 6)).error().code(), 400);
  EXPECT_EQ(
      DecodeReviewProtobuf(std::string("k8s\0", 4) + Pb(1, Pb(2, "ConfigMap"))).error().code(),
      415);
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SimulatorOptions opts;
    opts.tokens["admin"] = "admin-token";
    opts.tokens["dev"] = "dev-token";
    opts.token_groups["dev"] = {"developers"};
    sim_ = std::make_unique<Simulator>(opts);
    ASSERT_TRUE(sim_->Start().ok());
    Create("", "v1", "namespaces", "", {{"metadata", {{"name", "ns"}}}});
    Create("", "v1", "serviceaccounts", "ns", {{"metadata", {{"name", "sa"}}}});
    pod_uid_ =
        Create("", "v1", "pods", "ns",
               {{"metadata", {{"name", "p1"}}},
                {"spec", {{"containers", {{{"name", "c"}, {"image", "x"}}}}}}})["metadata"]["uid"];
  }

  json Create(const std::string& group, const std::string& version, const std::string& plural,
              const std::string& ns, json body) {
    WriteContext ctx;
    auto t = sim_->cluster().FindType(group, version, plural);
    auto r = sim_->cluster().Create(*t, ns, std::move(body), ctx);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? r.value().object : json();
  }

  http::ClientResponse Call(const std::string& method, const std::string& path,
                            const std::string& token, const json& body = nullptr,
                            http::Headers headers = {}) {
    http::ClientRequest req;
    req.method = method;
    req.url = sim_->url() + path;
    req.bearer_token = token;
    req.headers = std::move(headers);
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers.emplace_back("Content-Type", "application/json");
    }
    auto r = client_.DoSync(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : http::ClientResponse{};
  }

  std::string BoundToken(const std::vector<std::string>& audiences = {}) {
    auto t = sim_->token_issuer()("ns", "sa", audiences, 3600, "p1", pod_uid_);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? t.value().token : "";
  }

  json TokenReview(const std::string& token, const std::vector<std::string>& audiences = {}) {
    json spec = {{"token", token}};
    if (!audiences.empty()) spec["audiences"] = audiences;
    auto r =
        Call("POST", "/apis/authentication.k8s.io/v1/tokenreviews", "admin-token",
             {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenReview"}, {"spec", spec}});
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  std::unique_ptr<Simulator> sim_;
  http::Client client_;
  std::string pod_uid_;
};

TEST_F(AuthTest, TokenReviewAcceptsFreshBoundTokenWithPodClaims) {
  json review = TokenReview(BoundToken());
  ASSERT_TRUE(review["status"].value("authenticated", false)) << review.dump();
  const json& user = review["status"]["user"];
  EXPECT_EQ(user["username"], "system:serviceaccount:ns:sa");
  EXPECT_EQ(user["groups"],
            json({"system:serviceaccounts", "system:serviceaccounts:ns", "system:authenticated"}));
  EXPECT_EQ(user["extra"]["authentication.kubernetes.io/pod-name"], json({"p1"}));
  EXPECT_EQ(user["extra"]["authentication.kubernetes.io/pod-uid"], json({pod_uid_}));
  EXPECT_EQ(review["status"]["audiences"], json({kApiServerAudience}));
}

TEST_F(AuthTest, TokenReviewRejectsExpiredWrongAudienceAndDeletedPodTokens) {
  std::string metrics_token = BoundToken({"metrics"});
  json wrong = TokenReview(metrics_token);
  EXPECT_FALSE(wrong["status"].value("authenticated", false));
  EXPECT_THAT(wrong["status"].value("error", ""), HasSubstr("audiences"));
  EXPECT_TRUE(TokenReview(metrics_token, {"metrics"})["status"].value("authenticated", false));

  std::string token = BoundToken();
  sim_->service_account_tokens().SetClockForTest([] { return NowSeconds() + 3601; });
  json expired = TokenReview(token);
  EXPECT_FALSE(expired["status"].value("authenticated", false));
  EXPECT_THAT(expired["status"].value("error", ""), HasSubstr("expired"));
  sim_->service_account_tokens().SetClockForTest([] { return NowSeconds(); });

  auto pods = sim_->cluster().FindType("", "v1", "pods");
  ASSERT_TRUE(sim_->cluster().Delete(*pods, "ns", "p1", DeleteOptions{}).ok());
  json gone = TokenReview(token);
  EXPECT_FALSE(gone["status"].value("authenticated", false));
  EXPECT_THAT(gone["status"].value("error", ""), HasSubstr("not found"));
  // Same name, new uid: still invalid.
  Create("", "v1", "pods", "ns",
         {{"metadata", {{"name", "p1"}}},
          {"spec", {{"containers", {{{"name", "c"}, {"image", "x"}}}}}}});
  EXPECT_FALSE(TokenReview(token)["status"].value("authenticated", false));
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/ns/pods", token).status, 401);
}

TEST_F(AuthTest, ServiceAccountWithoutRightsGets403UntilBound) {
  std::string token = BoundToken();
  auto r = Call("GET", "/api/v1/namespaces/ns/pods", token);
  EXPECT_EQ(r.status, 403);
  json status = json::parse(r.body, nullptr, false);
  EXPECT_EQ(status["reason"], "Forbidden");
  EXPECT_EQ(status["message"],
            "pods is forbidden: User \"system:serviceaccount:ns:sa\" cannot list resource "
            "\"pods\" in API group \"\" in the namespace \"ns\"");
  // Discovery is open to every authenticated caller.
  EXPECT_EQ(Call("GET", "/api/v1", token).status, 200);
  EXPECT_EQ(Call("GET", "/apis", token).status, 200);

  Create("rbac.authorization.k8s.io", "v1", "roles", "ns",
         {{"metadata", {{"name", "pod-reader"}}},
          {"rules", {{{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"get", "list"}}}}}});
  Create("rbac.authorization.k8s.io", "v1", "rolebindings", "ns",
         {{"metadata", {{"name", "sa-reads-pods"}}},
          {"roleRef",
           {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "pod-reader"}}},
          {"subjects", {{{"kind", "ServiceAccount"}, {"name", "sa"}, {"namespace", "ns"}}}}});
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/ns/pods", token).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/pods", token).status, 403);
  EXPECT_EQ(Call("DELETE", "/api/v1/namespaces/ns/pods/p1", token).status, 403);
  // A group binding covers the static-token user in that group.
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/ns/configmaps", "dev-token").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/ns/configmaps", "admin-token").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/ns/configmaps", "bogus").status, 401);
}

// An extension API server bound to the bootstrap Role reads the front-proxy configuration
// (kube-system/extension-apiserver-authentication), and nothing else in kube-system.
TEST_F(AuthTest, BootstrapRoleLetsExtensionServersReadTheFrontProxyConfig) {
  std::string token = BoundToken();
  const std::string cm = "/api/v1/namespaces/kube-system/configmaps/";
  auto configmaps = sim_->cluster().FindType("", "v1", "configmaps");
  if (!sim_->cluster().Get(*configmaps, "kube-system", "extension-apiserver-authentication").ok()) {
    Create("", "v1", "configmaps", "kube-system",
           {{"metadata", {{"name", "extension-apiserver-authentication"}}}});
  }
  EXPECT_EQ(Call("GET", cm + "extension-apiserver-authentication", token).status, 403);
  Create("rbac.authorization.k8s.io", "v1", "rolebindings", "kube-system",
         {{"metadata", {{"name", "sa-auth-reader"}}},
          {"roleRef",
           {{"apiGroup", "rbac.authorization.k8s.io"},
            {"kind", "Role"},
            {"name", "extension-apiserver-authentication-reader"}}},
          {"subjects", {{{"kind", "ServiceAccount"}, {"name", "sa"}, {"namespace", "ns"}}}}});
  EXPECT_EQ(Call("GET", cm + "extension-apiserver-authentication", token).status, 200);
  EXPECT_EQ(Call("GET", cm + "kube-root-ca.crt", token).status, 403);
}

TEST_F(AuthTest, AccessReviewsAndImpersonation) {
  Create("rbac.authorization.k8s.io", "v1", "rolebindings", "ns",
         {{"metadata", {{"name", "sa-view"}}},
          {"roleRef",
           {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", "view"}}},
          {"subjects", {{{"kind", "ServiceAccount"}, {"name", "sa"}, {"namespace", "ns"}}}}});
  auto sar = [&](const std::string& verb, const std::string& resource) {
    auto r = Call("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", "admin-token",
                  {{"spec",
                    {{"user", "system:serviceaccount:ns:sa"},
                     {"groups", ServiceAccountGroups("ns")},
                     {"resourceAttributes",
                      {{"namespace", "ns"}, {"verb", verb}, {"resource", resource}}}}}});
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body, nullptr, false)["status"].value("allowed", false);
  };
  // `view` is aggregated from system:aggregate-to-view by the controller.
  EXPECT_TRUE(WaitFor([&] { return sar("list", "pods"); }));
  EXPECT_FALSE(sar("list", "secrets"));
  EXPECT_FALSE(sar("delete", "pods"));

  http::Headers as_sa = {{"Impersonate-User", "system:serviceaccount:ns:sa"}};
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/ns/pods", "admin-token", nullptr, as_sa).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/ns/secrets", "admin-token", nullptr, as_sa).status,
            403);
  auto who =
      Call("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", "admin-token",
           {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}}, as_sa);
  ASSERT_EQ(who.status, 201) << who.body;
  json info = json::parse(who.body)["status"]["userInfo"];
  EXPECT_EQ(info["username"], "system:serviceaccount:ns:sa");
  EXPECT_THAT(info["groups"].dump(), HasSubstr("system:serviceaccounts:ns"));
  // Someone without the impersonate verb cannot.
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/ns/pods", "dev-token", nullptr, as_sa).status, 403);

  auto rules = Call("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", "admin-token",
                    {{"spec", {{"namespace", "ns"}}}}, as_sa);
  ASSERT_EQ(rules.status, 201) << rules.body;
  EXPECT_THAT(rules.body, HasSubstr("\"pods\""));
  EXPECT_THAT(rules.body, HasSubstr("selfsubjectaccessreviews"));
}

TEST_F(AuthTest, ControllersMakeDefaultServiceAccountsLegacyTokensAndAggregatedRoles) {
  auto sa_type = sim_->cluster().FindType("", "v1", "serviceaccounts");
  EXPECT_TRUE(WaitFor([&] { return sim_->cluster().Get(*sa_type, "ns", "default").ok(); }));
  auto cm_type = sim_->cluster().FindType("", "v1", "configmaps");
  EXPECT_TRUE(
      WaitFor([&] { return sim_->cluster().Get(*cm_type, "ns", "kube-root-ca.crt").ok(); }));

  Create("", "v1", "secrets", "ns",
         {{"metadata",
           {{"name", "sa-token"}, {"annotations", {{"kubernetes.io/service-account.name", "sa"}}}}},
          {"type", "kubernetes.io/service-account-token"}});
  auto secrets = sim_->cluster().FindType("", "v1", "secrets");
  std::string token;
  ASSERT_TRUE(WaitFor([&] {
    auto s = sim_->cluster().Get(*secrets, "ns", "sa-token");
    if (!s.ok() || !s.value().value("data", json::object()).contains("token")) return false;
    token = Base64Decode(s.value()["data"]["token"].get<std::string>()).value();
    return true;
  }));
  json review = TokenReview(token);
  EXPECT_TRUE(review["status"].value("authenticated", false)) << review.dump();
  EXPECT_EQ(review["status"]["user"]["username"], "system:serviceaccount:ns:sa");
  EXPECT_EQ(Call("GET", "/apis", token).status, 200);
  ASSERT_TRUE(sim_->cluster().Delete(*sa_type, "ns", "sa", DeleteOptions{}).ok());
  EXPECT_FALSE(TokenReview(token)["status"].value("authenticated", false));
  EXPECT_TRUE(WaitFor([&] { return !sim_->cluster().Get(*secrets, "ns", "sa-token").ok(); }));

  Create("rbac.authorization.k8s.io", "v1", "clusterroles", "",
         {{"metadata", {{"name", "monitoring"}}},
          {"aggregationRule",
           {{"clusterRoleSelectors", {{{"matchLabels", {{"example.com/monitoring", "true"}}}}}}}}});
  Create(
      "rbac.authorization.k8s.io", "v1", "clusterroles", "",
      {{"metadata",
        {{"name", "scrapepools-read"}, {"labels", {{"example.com/monitoring", "true"}}}}},
       {"rules",
        {{{"apiGroups", {"shardwise.io"}}, {"resources", {"scrapepools"}}, {"verbs", {"get"}}}}}});
  auto roles = sim_->cluster().FindType("rbac.authorization.k8s.io", "v1", "clusterroles");
  EXPECT_TRUE(WaitFor([&] {
    auto r = sim_->cluster().Get(*roles, "", "monitoring");
    return r.ok() && r.value().value("rules", json::array()).size() == 1 &&
           r.value()["rules"][0]["resources"] == json({"scrapepools"});
  }));
}

TEST_F(AuthTest, CannotGrantPermissionsNotHeld) {
  Create("rbac.authorization.k8s.io", "v1", "roles", "ns",
         {{"metadata", {{"name", "role-admin"}}},
          {"rules",
           {{{"apiGroups", {"rbac.authorization.k8s.io"}},
             {"resources", {"roles", "rolebindings"}},
             {"verbs", {"create", "update"}}},
            {{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"get"}}}}}});
  Create(
      "rbac.authorization.k8s.io", "v1", "rolebindings", "ns",
      {{"metadata", {{"name", "developers"}}},
       {"roleRef",
        {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "role-admin"}}},
       {"subjects",
        {{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Group"}, {"name", "developers"}}}}});
  auto role = [](const std::string& name, const std::string& verb) {
    return json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                {"kind", "Role"},
                {"metadata", {{"name", name}}},
                {"rules", {{{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {verb}}}}}};
  };
  const std::string roles = "/apis/rbac.authorization.k8s.io/v1/namespaces/ns/roles";
  EXPECT_EQ(Call("POST", roles, "dev-token", role("reader", "get")).status, 201);
  auto r = Call("POST", roles, "dev-token", role("deleter", "delete"));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_THAT(r.body, HasSubstr("is attempting to grant RBAC permissions not currently held"));
  // The admin may; then binding it is what the developer cannot do.
  EXPECT_EQ(Call("POST", roles, "admin-token", role("deleter", "delete")).status, 201);
  json binding = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "RoleBinding"},
      {"metadata", {{"name", "me-deleter"}}},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "deleter"}}},
      {"subjects", {{{"kind", "User"}, {"name", "dev"}}}}};
  EXPECT_EQ(Call("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/ns/rolebindings",
                 "dev-token", binding)
                .status,
            403);
  binding["roleRef"]["name"] = "reader";
  EXPECT_EQ(Call("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/ns/rolebindings",
                 "dev-token", binding)
                .status,
            201);
}

TEST_F(AuthTest, PatchCannotGrantPermissionsNotHeldEither) {
  // The developers may patch Roles and RoleBindings and get pods, nothing more.
  Create("rbac.authorization.k8s.io", "v1", "roles", "ns",
         {{"metadata", {{"name", "role-patcher"}}},
          {"rules",
           {{{"apiGroups", {"rbac.authorization.k8s.io"}},
             {"resources", {"roles", "rolebindings"}},
             {"verbs", {"patch"}}},
            {{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"get"}}}}}});
  Create(
      "rbac.authorization.k8s.io", "v1", "rolebindings", "ns",
      {{"metadata", {{"name", "developers"}}},
       {"roleRef",
        {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "role-patcher"}}},
       {"subjects",
        {{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Group"}, {"name", "developers"}}}}});
  Create("rbac.authorization.k8s.io", "v1", "roles", "ns",
         {{"metadata", {{"name", "team"}}},
          {"rules", {{{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"get"}}}}}});
  Create("rbac.authorization.k8s.io", "v1", "roles", "ns",
         {{"metadata", {{"name", "deleter"}}},
          {"rules", {{{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"delete"}}}}}});
  Create(
      "rbac.authorization.k8s.io", "v1", "rolebindings", "ns",
      {{"metadata", {{"name", "team"}}},
       {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "team"}}},
       {"subjects", {{{"kind", "User"}, {"name", "dev"}}}}});
  auto patch = [&](const std::string& path, const std::string& type, const json& body) {
    http::ClientRequest req;
    req.method = "PATCH";
    req.url = sim_->url() + "/apis/rbac.authorization.k8s.io/v1/namespaces/ns/" + path;
    req.bearer_token = "dev-token";
    req.body = body.dump();
    req.headers.emplace_back("Content-Type", type);
    auto r = client_.DoSync(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : http::ClientResponse{};
  };
  const json delete_pods = {{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"delete"}}};
  const json get_pods = {{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"get"}}};

  // Each patch type that would add a permission the developer lacks is refused...
  auto r =
      patch("roles/team", "application/merge-patch+json", {{"rules", {get_pods, delete_pods}}});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_THAT(r.body, HasSubstr("is attempting to grant RBAC permissions not currently held"));
  r = patch("roles/team", "application/json-patch+json",
            json::array({{{"op", "add"}, {"path", "/rules/-"}, {"value", delete_pods}}}));
  EXPECT_EQ(r.status, 403) << r.body;
  r = patch("roles/team", "application/strategic-merge-patch+json",
            {{"rules", {get_pods, delete_pods}}});
  EXPECT_EQ(r.status, 403) << r.body;
  r = patch("roles/team?fieldManager=dev&force=true", "application/apply-patch+yaml",
            {{"apiVersion", "rbac.authorization.k8s.io/v1"},
             {"kind", "Role"},
             {"metadata", {{"name", "team"}}},
             {"rules", {get_pods, delete_pods}}});
  EXPECT_EQ(r.status, 403) << r.body;
  // ... and so is pointing a binding at a role with more.
  r = patch("rolebindings/team", "application/json-patch+json",
            json::array({{{"op", "replace"}, {"path", "/roleRef/name"}, {"value", "deleter"}}}));
  EXPECT_EQ(r.status, 403) << r.body;
  auto team = sim_->cluster().Get(
      *sim_->cluster().FindType("rbac.authorization.k8s.io", "v1", "roles"), "ns", "team");
  ASSERT_TRUE(team.ok());
  EXPECT_EQ(team.value()["rules"].size(), 1u);

  // Patches within what the developer holds pass, as do ones that change no permission.
  EXPECT_EQ(patch("roles/team", "application/merge-patch+json",
                  {{"metadata", {{"labels", {{"team", "a"}}}}}})
                .status,
            200);
  EXPECT_EQ(patch("rolebindings/team", "application/merge-patch+json",
                  {{"subjects",
                    {{{"kind", "User"}, {"name", "dev"}}, {{"kind", "User"}, {"name", "ann"}}}}})
                .status,
            200);
  // A patch of a missing object is answered by the write itself.
  EXPECT_EQ(patch("roles/nope", "application/merge-patch+json", {{"rules", {delete_pods}}}).status,
            404);
}

TEST_F(AuthTest, TokenRequestIssuesTokensThatAuthenticate) {
  auto r = Call("POST", "/api/v1/namespaces/ns/serviceaccounts/sa/token", "admin-token",
                {{"apiVersion", "authentication.k8s.io/v1"},
                 {"kind", "TokenRequest"},
                 {"spec",
                  {{"audiences", {"api"}},
                   {"expirationSeconds", 600},
                   {"boundObjectRef", {{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", "p1"}}}}}});
  ASSERT_EQ(r.status, 201) << r.body;
  json tr = json::parse(r.body);
  std::string token = tr["status"]["token"];
  EXPECT_FALSE(tr["status"]["expirationTimestamp"].get<std::string>().empty());
  auto claims = sim_->service_account_tokens().key()->Verify(token);
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ(claims.value()["sub"], "system:serviceaccount:ns:sa");
  EXPECT_EQ(claims.value()["iss"], kServiceAccountIssuer);
  EXPECT_EQ(claims.value()["kubernetes.io"]["pod"]["uid"], pod_uid_);
  EXPECT_EQ(Call("GET", "/api", token).status, 200);
  EXPECT_EQ(Call("POST", "/api/v1/namespaces/ns/serviceaccounts/nobody/token", "admin-token",
                 {{"spec", json::object()}})
                .status,
            404);
  EXPECT_EQ(Call("POST", "/api/v1/namespaces/ns/serviceaccounts/sa/token", "admin-token",
                 {{"spec", {{"expirationSeconds", 10}}}})
                .status,
            422);
}

}  // namespace
}  // namespace shardwise::kubesim
