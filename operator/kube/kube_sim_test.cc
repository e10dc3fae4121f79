// The client library against the Kubernetes API simulator (hack/kube-sim), over real HTTP:
// CRUD and typed errors, conflicts retried to success, paging, subresources, informers
// surviving cut watches and 410s, leader election, and event aggregation.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "hack/kube-sim/simulator.h"
#include "operator/kube/client.h"
#include "operator/kube/config.h"
#include "operator/kube/event_recorder.h"
#include "operator/kube/informer.h"
#include "operator/kube/leader_election.h"
#include "operator/kube/retry.h"
#include "operator/kube/testing/cuttable_proxy.h"

namespace shardwise::kube {
namespace {

using std::chrono::milliseconds;
using testing::CuttableProxy;

template <typename Pred>
bool Eventually(Pred pred, milliseconds timeout = milliseconds(20000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return pred();
}

Object ConfigMap(const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"labels", {{"app", "test"}}}}},
          {"data", {{"value", value}}}};
}

class KubeSimTest : public ::testing::Test {
 protected:
  void SetUp() override { StartSimulator({}); }

  void StartSimulator(kubesim::SimulatorOptions options) {
    options.listen_address = "127.0.0.1:0";
    options.bookmark_interval = milliseconds(200);
    sim_ = std::make_unique<kubesim::Simulator>(options);
    ASSERT_TRUE(sim_->Start().ok());
    auto config = ParseKubeconfig(sim_->Kubeconfig(false), "");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config->qps = 0;
    config_ = *config;
    client_ = NewClient(config_.server);
  }

  std::unique_ptr<Client> NewClient(const std::string& server) {
    Config config = config_;
    config.server = server;
    auto client = Client::Connect(config);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return std::move(client).value();
  }

  // key → resourceVersion of every ConfigMap in `ns`, read from the server.
  std::map<std::string, std::string> ServerState(const std::string& ns) {
    auto list = client_->ListAll(resources::kConfigMaps, ns, {});
    EXPECT_TRUE(list.ok());
    std::map<std::string, std::string> out;
    if (!list.ok()) return out;
    for (const auto& item : list->items) out[KeyOf(item)] = ResourceVersionOf(item);
    return out;
  }

  std::unique_ptr<kubesim::Simulator> sim_;
  Config config_;
  std::unique_ptr<Client> client_;
};

TEST_F(KubeSimTest, CrudWithTypedErrors) {
  auto created = client_->Create(resources::kConfigMaps, "default", ConfigMap("c1", "a"));
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_FALSE(UidOf(*created).empty());

  auto again = client_->Create(resources::kConfigMaps, "default", ConfigMap("c1", "a"));
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.error().IsAlreadyExists());
  EXPECT_EQ(again.error().code(), 409);
  EXPECT_NE(again.error().message().find("c1"), std::string::npos);

  auto missing = client_->Get(resources::kConfigMaps, "default", "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().IsNotFound());

  Object stale = *created;
  Object fresh = *created;
  fresh["data"]["value"] = "b";
  ASSERT_TRUE(client_->Update(resources::kConfigMaps, "default", fresh).ok());
  stale["data"]["value"] = "c";
  auto conflict = client_->Update(resources::kConfigMaps, "default", stale);
  ASSERT_FALSE(conflict.ok());
  EXPECT_TRUE(conflict.error().IsConflict()) << conflict.error().ToString();

  auto patched = client_->Patch(resources::kConfigMaps, "default", "c1", PatchType::kMerge,
                                {{"data", {{"extra", "x"}}}});
  ASSERT_TRUE(patched.ok()) << patched.error().ToString();
  EXPECT_EQ((*patched)["data"]["value"], "b");
  EXPECT_EQ((*patched)["data"]["extra"], "x");

  auto bad_patch = client_->Patch(
      resources::kConfigMaps, "default", "c1", PatchType::kJson,
      nlohmann::json::array({{{"op", "test"}, {"path", "/data/value"}, {"value", "zzz"}}}));
  ASSERT_FALSE(bad_patch.ok());
  EXPECT_GE(bad_patch.error().code(), 400);

  auto applied =
      client_->Apply(resources::kConfigMaps, "default", ConfigMap("c2", "ssa"), "shardwise-test");
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  EXPECT_EQ((*applied)["data"]["value"], "ssa");

  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "not-the-uid";
  auto refused = client_->Delete(resources::kConfigMaps, "default", "c1", wrong_uid);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.error().IsConflict()) << refused.error().ToString();
  ASSERT_TRUE(client_->Delete(resources::kConfigMaps, "default", "c1").ok());
  EXPECT_TRUE(client_->Get(resources::kConfigMaps, "default", "c1").error().IsNotFound());
  EXPECT_TRUE(client_->Delete(resources::kConfigMaps, "default", "c1").error().IsNotFound());
}

TEST_F(KubeSimTest, ConflictingUpdatesAreRetriedToSuccess) {
  ASSERT_TRUE(client_->Create(resources::kConfigMaps, "default", ConfigMap("counter", "0")).ok());
  constexpr int kWriters = 3, kIncrements = 15;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        auto result = RetryOnConflict<Object>(
            RetryPolicy{.attempts = 100, .initial = milliseconds(1), .cap = milliseconds(20)},
            [&]() -> ApiResult<Object> {
              auto current = client_->Get(resources::kConfigMaps, "default", "counter");
              if (!current.ok()) return current;
              Object next = *current;
              next["data"]["value"] =
                  std::to_string(std::stoi(next["data"]["value"].get<std::string>()) + 1);
              auto written = client_->Update(resources::kConfigMaps, "default", next);
              if (!written.ok() && written.error().IsConflict()) ++conflicts;
              return written;
            });
        EXPECT_TRUE(result.ok()) << result.error().ToString();
      }
    });
  }
  for (auto& writer : writers) writer.join();
  auto final_state = client_->Get(resources::kConfigMaps, "default", "counter");
  ASSERT_TRUE(final_state.ok());
  EXPECT_EQ((*final_state)["data"]["value"], std::to_string(kWriters * kIncrements));
  std::cout << "conflicts retried: " << conflicts.load() << "\n";
}

TEST_F(KubeSimTest, PagesThroughALargeList) {
  constexpr int kObjects = 1200;
  for (int i = 0; i < kObjects; ++i) {
    ASSERT_TRUE(client_
                    ->Create(resources::kConfigMaps, "default",
                             ConfigMap("cm-" + std::to_string(i), std::to_string(i)))
                    .ok());
  }
  ListOptions options;
  options.limit = 100;
  options.label_selector = "app=test";
  int pages = 0;
  std::set<std::string> names;
  for (;;) {
    auto page = client_->List(resources::kConfigMaps, "default", options);
    ASSERT_TRUE(page.ok()) << page.error().ToString();
    ++pages;
    EXPECT_LE(page->items.size(), 100u);
    for (const auto& item : page->items) names.insert(NameOf(item));
    if (page->continue_token.empty()) break;
    options.continue_token = page->continue_token;
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kObjects));
  EXPECT_GE(pages, kObjects / 100);

  ListOptions all_options;
  all_options.limit = 250;
  all_options.label_selector = "app=test";  // the namespace also holds kube-root-ca.crt
  auto all = client_->ListAll(resources::kConfigMaps, "default", all_options);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), static_cast<size_t>(kObjects));
  EXPECT_EQ(all->items.front()["kind"], "ConfigMap");

  ListOptions selected;
  selected.field_selector = "metadata.name=cm-7";
  auto one = client_->List(resources::kConfigMaps, "default", selected);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->items.size(), 1u);
}

TEST_F(KubeSimTest, ScaleAndStatusSubresources) {
  Object deployment = {{"apiVersion", "apps/v1"},
                       {"kind", "Deployment"},
                       {"metadata", {{"name", "web"}}},
                       {"spec",
                        {{"replicas", 1},
                         {"selector", {{"matchLabels", {{"app", "web"}}}}},
                         {"template",
                          {{"metadata", {{"labels", {{"app", "web"}}}}},
                           {"spec", {{"containers", {{{"name", "c"}, {"image", "nginx"}}}}}}}}}}};
  ASSERT_TRUE(client_->Create(resources::kDeployments, "default", deployment).ok());
  auto scale = client_->GetScale(resources::kDeployments, "default", "web");
  ASSERT_TRUE(scale.ok()) << scale.error().ToString();
  EXPECT_EQ((*scale)["kind"], "Scale");
  (*scale)["spec"]["replicas"] = 4;
  ASSERT_TRUE(client_->UpdateScale(resources::kDeployments, "default", *scale).ok());
  auto after = client_->Get(resources::kDeployments, "default", "web");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)["spec"]["replicas"], 4);

  auto patched = client_->Patch(resources::kDeployments, "default", "web", PatchType::kMerge,
                                {{"spec", {{"replicas", 2}}}}, {}, "scale");
  ASSERT_TRUE(patched.ok()) << patched.error().ToString();
  EXPECT_EQ((*patched)["spec"]["replicas"], 2);

  Object with_status = *client_->Get(resources::kDeployments, "default", "web");
  with_status["status"]["observedGeneration"] = 99;
  auto status = client_->UpdateStatus(resources::kDeployments, "default", with_status);
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  EXPECT_EQ((*status)["status"]["observedGeneration"], 99);
}

class Recorder {
 public:
  EventHandler Handler() {
    return {[this](const Object& o) { Set(o); }, [this](const Object&, const Object& o) { Set(o); },
            [this](const Object& o) {
              std::lock_guard lock(mu_);
              seen_.erase(KeyOf(o));
            }};
  }
  std::map<std::string, std::string> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  void Set(const Object& o) {
    std::lock_guard lock(mu_);
    seen_[KeyOf(o)] = ResourceVersionOf(o);
  }
  std::mutex mu_;
  std::map<std::string, std::string> seen_;
};

std::map<std::string, std::string> StoreState(const Store& store) {
  std::map<std::string, std::string> out;
  for (const auto& object : store.List()) out[KeyOf(*object)] = ResourceVersionOf(*object);
  return out;
}

Informer::Options FastInformer() {
  Informer::Options options;
  options.page_size = 50;
  options.initial_backoff = milliseconds(20);
  options.max_backoff = milliseconds(200);
  return options;
}

TEST_F(KubeSimTest, InformerSurvivesCutWatchesWithoutLosingUpdates) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        client_->Create(resources::kConfigMaps, "default", ConfigMap("w" + std::to_string(i), "0"))
            .ok());
  }
  CuttableProxy proxy(sim_->port());
  auto watched = NewClient("http://127.0.0.1:" + std::to_string(proxy.port()));
  Informer informer(
      std::make_shared<ClientListerWatcher>(watched.get(), resources::kConfigMaps, "default"),
      FastInformer());
  Recorder recorder;
  informer.AddEventHandler(recorder.Handler());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(milliseconds(20000)));
  auto converged = [&] {
    const auto expected = ServerState("default");
    return StoreState(informer.store()) == expected && recorder.seen() == expected;
  };
  ASSERT_TRUE(Eventually(converged));

  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(Eventually([&] { return informer.watches() > round; }));
    proxy.SetRefusing(true);
    proxy.Cut();
    // Written while the informer cannot reach the server.
    for (int i = 0; i < 5; ++i) {
      const std::string name = "w" + std::to_string(round * 5 + i);
      ASSERT_TRUE(client_
                      ->Patch(resources::kConfigMaps, "default", name, PatchType::kMerge,
                              {{"data", {{"value", std::to_string(round + 1)}}}})
                      .ok());
    }
    ASSERT_TRUE(
        client_->Delete(resources::kConfigMaps, "default", "w" + std::to_string(19 - round)).ok());
    ASSERT_TRUE(client_
                    ->Create(resources::kConfigMaps, "default",
                             ConfigMap("new" + std::to_string(round), "n"))
                    .ok());
    proxy.SetRefusing(false);
    ASSERT_TRUE(Eventually(converged)) << "round " << round;
  }
  EXPECT_EQ(informer.lists(), 1);  // the history covered every gap: no relist
  informer.Stop();
}

TEST_F(KubeSimTest, InformerRelistsAfterGoneAndNoticesDeletions) {
  kubesim::SimulatorOptions options;
  options.watch_history = 10;
  sim_->Stop();
  StartSimulator(options);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        client_->Create(resources::kConfigMaps, "default", ConfigMap("g" + std::to_string(i), "0"))
            .ok());
  }
  CuttableProxy proxy(sim_->port());
  auto watched = NewClient("http://127.0.0.1:" + std::to_string(proxy.port()));
  Informer informer(
      std::make_shared<ClientListerWatcher>(watched.get(), resources::kConfigMaps, "default"),
      FastInformer());
  Recorder recorder;
  informer.AddEventHandler(recorder.Handler());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(milliseconds(20000)));
  ASSERT_TRUE(Eventually([&] { return informer.watches() >= 1; }));

  proxy.SetRefusing(true);
  proxy.Cut();
  // More changes than the server keeps: resuming is impossible, a relist is needed.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client_->Delete(resources::kConfigMaps, "default", "g" + std::to_string(i)).ok());
  }
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        client_->Create(resources::kConfigMaps, "default", ConfigMap("h" + std::to_string(i), "0"))
            .ok());
  }
  proxy.SetRefusing(false);
  auto converged = [&] {
    const auto expected = ServerState("default");
    return StoreState(informer.store()) == expected && recorder.seen() == expected;
  };
  ASSERT_TRUE(Eventually(converged));
  EXPECT_GE(informer.lists(), 2);
  EXPECT_EQ(informer.store().Get("default/g0"), nullptr);

  // And it is watching again from the new list.
  ASSERT_TRUE(client_->Create(resources::kConfigMaps, "default", ConfigMap("after", "1")).ok());
  ASSERT_TRUE(Eventually(converged));
  informer.Stop();
}

LeaderElector::Config FastElection(const std::string& identity) {
  LeaderElector::Config config;
  config.lease_namespace = "default";
  config.lease_name = "shardwise-operator";
  config.identity = identity;
  config.lease_duration = milliseconds(2000);
  config.renew_deadline = milliseconds(1500);
  config.retry_period = milliseconds(200);
  config.release_on_cancel = false;
  return config;
}

TEST_F(KubeSimTest, ExactlyOneLeaderAndTakeoverAfterTheLeaseExpires) {
  auto client_b = NewClient(config_.server);
  std::atomic<int> started_a{0}, started_b{0};
  auto a = std::make_unique<LeaderElector>(client_.get(), FastElection("a"),
                                           LeaderElector::Callbacks{[&] { ++started_a; }, {}, {}});
  auto b = std::make_unique<LeaderElector>(client_b.get(), FastElection("b"),
                                           LeaderElector::Callbacks{[&] { ++started_b; }, {}, {}});
  a->Start();
  b->Start();
  ASSERT_TRUE(Eventually([&] { return a->IsLeader() || b->IsLeader(); }));
  // For a few renewals, never both.
  const auto watch_until = std::chrono::steady_clock::now() + milliseconds(1500);
  while (std::chrono::steady_clock::now() < watch_until) {
    ASSERT_FALSE(a->IsLeader() && b->IsLeader());
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_NE(a->IsLeader(), b->IsLeader());
  auto& leader = a->IsLeader() ? a : b;
  auto& follower = a->IsLeader() ? b : a;
  const std::string leader_id = a->IsLeader() ? "a" : "b";
  EXPECT_EQ(follower->ObservedLeader(), leader_id);

  // The leader stops renewing without releasing (a crash); the follower must wait for
  // the lease to expire, then take over.
  const auto stopped = std::chrono::steady_clock::now();
  leader->Stop();
  ASSERT_TRUE(Eventually([&] { return follower->IsLeader(); }, milliseconds(10000)));
  const auto takeover = std::chrono::steady_clock::now() - stopped;
  // Expiry is measured from when the follower last saw a renewal (up to one retry period
  // before the stop), plus one jittered retry period to notice.
  EXPECT_LE(takeover, milliseconds(2000 + 3 * 200 + 500));
  EXPECT_GE(takeover, milliseconds(2000 - 2 * 200 - 300));
  EXPECT_EQ(started_a + started_b, 2);

  auto lease = client_->Get(resources::kLeases, "default", "shardwise-operator");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], leader_id == "a" ? "b" : "a");
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);
  follower->Stop();
}

TEST_F(KubeSimTest, ReleasedLeaseIsTakenOverWithoutWaitingForExpiry) {
  auto client_b = NewClient(config_.server);
  auto config_a = FastElection("a");
  config_a.release_on_cancel = true;
  config_a.lease_duration = milliseconds(5000);
  config_a.renew_deadline = milliseconds(4000);
  auto config_b = FastElection("b");
  config_b.lease_duration = milliseconds(5000);
  config_b.renew_deadline = milliseconds(4000);
  std::atomic<bool> a_stopped{false};
  LeaderElector a(client_.get(), config_a, {{}, [&] { a_stopped = true; }, {}});
  a.Start();
  ASSERT_TRUE(Eventually([&] { return a.IsLeader(); }));
  LeaderElector b(client_b.get(), config_b, {});
  b.Start();
  ASSERT_TRUE(Eventually([&] { return b.ObservedLeader() == "a"; }));
  const auto stopped = std::chrono::steady_clock::now();
  a.Stop();
  EXPECT_TRUE(a_stopped.load());
  ASSERT_TRUE(Eventually([&] { return b.IsLeader(); }, milliseconds(10000)));
  // The 1 s released lease, not the 5 s one, bounds the wait.
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, milliseconds(4000));
  b.Stop();
}

TEST_F(KubeSimTest, EventRecorderAggregatesRepeats) {
  auto pool = client_->Create(resources::kConfigMaps, "default", ConfigMap("pool", "x"));
  ASSERT_TRUE(pool.ok());
  EventRecorder recorder(client_.get(), {.component = "shardwise-test"});
  const auto ref = ObjectReference::From(*pool);
  for (int i = 0; i < 3; ++i) recorder.Record(ref, "Normal", "Scaled", "shards 2 -> 3");
  recorder.Record(ref, "Warning", "ShardLost", "shard 1 stopped reporting");
  ASSERT_TRUE(recorder.Flush(milliseconds(20000)));
  EXPECT_EQ(recorder.failed(), 0);

  ListOptions options;
  options.field_selector = "involvedObject.name=pool";
  auto events = client_->List(resources::kEvents, "default", options);
  ASSERT_TRUE(events.ok()) << events.error().ToString();
  ASSERT_EQ(events->items.size(), 2u);
  std::map<std::string, Object> by_reason;
  for (const auto& event : events->items) by_reason[event["reason"]] = event;
  EXPECT_EQ(by_reason["Scaled"]["count"], 3);
  EXPECT_EQ(by_reason["Scaled"]["message"], "shards 2 -> 3");
  EXPECT_EQ(by_reason["Scaled"]["source"]["component"], "shardwise-test");
  EXPECT_EQ(by_reason["Scaled"]["involvedObject"]["uid"], UidOf(*pool));
  EXPECT_EQ(by_reason["ShardLost"]["count"], 1);
  EXPECT_EQ(by_reason["ShardLost"]["type"], "Warning");
}

TEST(KubeSimTlsTest, HttpsWithPrivateCaAndToken) {
  kubesim::SimulatorOptions options;
  options.listen_address = "";
  options.tls_listen_address = "127.0.0.1:0";
  options.tokens = {{"admin", "s3cret"}};
  kubesim::Simulator sim(options);
  ASSERT_TRUE(sim.Start().ok());
  auto config = ParseKubeconfig(sim.Kubeconfig(true, "admin"), "");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_FALSE(config->ca_pem.empty());
  auto client = Client::Connect(*config);
  ASSERT_TRUE(client.ok());
  auto ns = (*client)->Get(resources::kNamespaces, "", "default");
  ASSERT_TRUE(ns.ok()) << ns.error().ToString();

  Config no_token = *config;
  no_token.bearer_token = "wrong";
  auto anonymous = Client::Connect(no_token);
  ASSERT_TRUE(anonymous.ok());
  auto refused = (*anonymous)->Get(resources::kNamespaces, "", "default");
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.error().IsUnauthorized()) << refused.error().ToString();

  Config untrusted = *config;
  untrusted.ca_pem.clear();
  auto unverified = Client::Connect(untrusted, Client::Options{.max_retries = 0});
  ASSERT_TRUE(unverified.ok());
  auto tls_error = (*unverified)->Get(resources::kNamespaces, "", "default");
  ASSERT_FALSE(tls_error.ok());
  EXPECT_TRUE(tls_error.error().IsConnection()) << tls_error.error().ToString();
  sim.Stop();
}

}  // namespace
}  // namespace shardwise::kube
