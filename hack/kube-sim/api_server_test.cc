// The REST surface over real HTTP: negotiation, watches, paging, errors, auth, persistence.
#include "hack/kube-sim/api_server.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/http/client.h"
#include "hack/kube-sim/simulator.h"

namespace shardwise::kubesim {
namespace {

constexpr char kTableAccept[] =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/"
    "json;as=Table;v=v1beta1;g=meta.k8s.io,"
    "application/json";

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SimulatorOptions opts;
    opts.bookmark_interval = std::chrono::milliseconds(100);
    opts.watch_history = 50;
    opts.tokens["bob"] = "bob-token";
    sim_ = std::make_unique<Simulator>(opts);
    ASSERT_TRUE(sim_->Start().ok());
  }

  http::ClientResponse Call(const std::string& method, const std::string& path,
                            const std::string& body = "", http::Headers headers = {},
                            const std::string& token = "bob-token") {
    http::ClientRequest req;
    req.method = method;
    req.url = sim_->url() + path;
    req.body = body;
    req.headers = std::move(headers);
    if (!body.empty() && http::FindHeader(req.headers, "Content-Type").empty())
      req.headers.emplace_back("Content-Type", "application/json");
    req.bearer_token = token;
    auto r = client_.DoSync(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : http::ClientResponse{};
  }
  json CallJson(const std::string& method, const std::string& path, const std::string& body = "",
                http::Headers headers = {}) {
    auto r = Call(method, path, body, std::move(headers));
    return json::parse(r.body, nullptr, false);
  }
  std::string CreateConfigMap(const std::string& name, const std::string& app) {
    json cm = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", {{"name", name}, {"labels", {{"app", app}}}}}};
    auto r = Call("POST", "/api/v1/namespaces/default/configmaps", cm.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body)["metadata"]["resourceVersion"];
  }
  // Watch lines until the server ends the stream (timeoutSeconds).
  std::vector<json> WatchLines(const std::string& path_and_query, http::Headers headers = {}) {
    auto r = Call("GET", path_and_query, "", std::move(headers));
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<json> out;
    size_t start = 0;
    while (start < r.body.size()) {
      size_t nl = r.body.find('\n', start);
      if (nl == std::string::npos) nl = r.body.size();
      if (nl > start) out.push_back(json::parse(r.body.substr(start, nl - start)));
      start = nl + 1;
    }
    return out;
  }

  http::Client client_;
  std::unique_ptr<Simulator> sim_;
};

TEST_F(ApiServerTest, DiscoveryIsNegotiatedOnAccept) {
  auto v2 =
      Call("GET", "/apis", "",
           {{"Accept",
             "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
             "application/"
             "json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"}});
  EXPECT_EQ(v2.Header("Content-Type"),
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  json doc = json::parse(v2.body);
  EXPECT_EQ(doc["kind"], "APIGroupDiscoveryList");
  bool saw_autoscaling = false;
  for (const auto& g : doc["items"]) {
    if (g["metadata"]["name"] != "autoscaling") continue;
    saw_autoscaling = true;
    EXPECT_EQ(g["versions"][0]["version"], "v2") << "preferred version first";
  }
  EXPECT_TRUE(saw_autoscaling);

  auto beta = Call(
      "GET", "/api", "",
      {{"Accept", "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"}});
  EXPECT_EQ(json::parse(beta.body)["apiVersion"], "apidiscovery.k8s.io/v2beta1");

  json legacy = CallJson("GET", "/api", "", {{"Accept", "application/json"}});
  EXPECT_EQ(legacy["kind"], "APIVersions");
  json apps = CallJson("GET", "/apis/apps/v1");
  bool saw_scale = false;
  for (const auto& r : apps["resources"])
    if (r["name"] == "deployments/scale")
      saw_scale = r["group"] == "autoscaling" && r["kind"] == "Scale";
  EXPECT_TRUE(saw_scale) << apps.dump();
  EXPECT_EQ(CallJson("GET", "/version")["minor"], "32");
}

TEST_F(ApiServerTest, OpenApiAdvertisesServerSideFieldValidation) {
  json index = CallJson("GET", "/openapi/v3");
  ASSERT_TRUE(index["paths"].contains("apis/apps/v1"));
  json apps =
      CallJson("GET", index["paths"]["apis/apps/v1"]["serverRelativeURL"].get<std::string>());
  json op = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
  EXPECT_EQ(op["x-kubernetes-group-version-kind"]["kind"], "Deployment");
  EXPECT_EQ(op["parameters"][0]["name"], "fieldValidation");
  EXPECT_EQ(Call("GET", "/openapi/v2").status, 404);
}

TEST_F(ApiServerTest, ListsPageWithContinue) {
  for (const char* n : {"p1", "p2", "p3"}) CreateConfigMap(n, "page");
  json first =
      CallJson("GET", "/api/v1/namespaces/default/configmaps?limit=2&labelSelector=app%3Dpage");
  ASSERT_EQ(first["items"].size(), 2u);
  std::string cont = first["metadata"]["continue"];
  json second = CallJson(
      "GET",
      "/api/v1/namespaces/default/configmaps?limit=2&labelSelector=app%3Dpage&continue=" + cont);
  ASSERT_EQ(second["items"].size(), 1u);
  EXPECT_EQ(second["items"][0]["metadata"]["name"], "p3");
  EXPECT_FALSE(second["metadata"].contains("continue"));
  json table = CallJson("GET", "/api/v1/namespaces/default/configmaps?labelSelector=app%3Dpage", "",
                        {{"Accept", kTableAccept}});
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["columnDefinitions"][1]["name"], "Data");
  EXPECT_EQ(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}

TEST_F(ApiServerTest, TableWatchSendsColumnsOnceAndSelectorTransitions) {
  std::string rv = CreateConfigMap("w0", "other");
  CreateConfigMap("w1", "watched");
  auto patch = Call("PATCH", "/api/v1/namespaces/default/configmaps/w1",
                    R"({"metadata":{"labels":{"app":"gone"}}})",
                    {{"Content-Type", "application/merge-patch+json"}});
  ASSERT_EQ(patch.status, 200) << patch.body;
  auto lines = WatchLines(
      "/api/v1/namespaces/default/"
      "configmaps?watch=true&timeoutSeconds=1&labelSelector=app%3Dwatched&resourceVersion=" +
          rv,
      {{"Accept", kTableAccept}});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["type"], "ADDED");
  EXPECT_TRUE(lines[0]["object"].contains("columnDefinitions"));
  EXPECT_EQ(lines[1]["type"], "DELETED") << "stopped matching the selector";
  EXPECT_FALSE(lines[1]["object"].contains("columnDefinitions"));
}

TEST_F(ApiServerTest, WatchBookmarksAndExpiry) {
  std::string rv = CreateConfigMap("b0", "x");
  auto lines = WatchLines(
      "/api/v1/namespaces/default/"
      "configmaps?watch=true&timeoutSeconds=1&allowWatchBookmarks=true&resourceVersion=" +
      rv);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back()["type"], "BOOKMARK");
  EXPECT_EQ(lines.back()["object"]["kind"], "ConfigMap");

  for (int i = 0; i < 60; ++i) CreateConfigMap("e" + std::to_string(i), "x");
  lines = WatchLines("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=" + rv);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["type"], "ERROR");
  EXPECT_EQ(lines[0]["object"]["code"], 410);
  auto exact = Call(
      "GET",
      "/api/v1/namespaces/default/configmaps?resourceVersionMatch=Exact&resourceVersion=" + rv);
  EXPECT_EQ(exact.status, 410);
}

TEST_F(ApiServerTest, ErrorsAreStatusObjects) {
  json missing = CallJson("GET", "/api/v1/namespaces/default/configmaps/nope");
  EXPECT_EQ(missing["kind"], "Status");
  EXPECT_EQ(missing["code"], 404);
  EXPECT_EQ(missing["message"], "configmaps \"nope\" not found");
  EXPECT_EQ(CallJson("GET", "/apis/nope.example.com/v1/things")["message"],
            "the server could not find the requested resource");
  auto proto = Call("POST", "/api/v1/namespaces/default/configmaps", std::string("k8s\0x", 5),
                    {{"Content-Type", "application/vnd.kubernetes.protobuf"}});
  EXPECT_EQ(proto.status, 415);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces", "", {}, "wrong-token").status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces", "", {}, "").status, 200) << "anonymous is allowed";
}

TEST_F(ApiServerTest, StateFileSurvivesARestart) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("kube-sim-state-" + std::to_string(getpid()) + ".json"))
                         .string();
  std::filesystem::remove(path);
  SimulatorOptions opts;
  opts.state_file = path;
  uint64_t rv;
  {
    Simulator first(opts);
    ASSERT_TRUE(first.Start().ok());
    WriteContext ctx;
    auto cms = first.cluster().FindType("", "v1", "configmaps");
    ASSERT_TRUE(
        first.cluster().Create(*cms, "default", {{"metadata", {{"name", "kept"}}}}, ctx).ok());
    rv = first.cluster().store().ResourceVersion();
    first.Stop();
  }
  Simulator second(opts);
  ASSERT_TRUE(second.Start().ok());
  auto cms = second.cluster().FindType("", "v1", "configmaps");
  EXPECT_TRUE(second.cluster().Get(*cms, "default", "kept").ok());
  EXPECT_GE(second.cluster().store().ResourceVersion(), rv);
  second.Stop();
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace shardwise::kubesim
