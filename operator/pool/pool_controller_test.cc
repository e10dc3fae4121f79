// The pool controller against the API simulator: liveness, scale-down drain, restarts and
// writes. Informer caches are plain Stores filled by the test; scrapers are played by
// reports put into the report store, as the discovery endpoint would.
#include "operator/pool/pool_controller.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/http/client.h"
#include "common/testing/test_util.h"
#include "hack/kube-sim/simulator.h"
#include "operator/kube/config.h"
#include "operator/kube/resource.h"

namespace shardwise::pool {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

constexpr int kTargets = 24;

kube::ObjectPtr Ptr(json j) { return std::make_shared<const kube::Object>(std::move(j)); }

int64_t UnixMs(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

json Pod(int shard, bool ready, bool terminated = false) {
  json container = {{"name", "scraper"}, {"ready", ready}};
  container["state"] = terminated ? json{{"terminated", {{"reason", "Error"}, {"exitCode", 137}}}}
                                  : json{{"running", json::object()}};
  return {{"metadata",
           {{"name", endpoint::PodName("main", shard, 0)},
            {"namespace", "mon"},
            {"uid", "uid-" + std::to_string(shard)}}},
          {"spec", {{"containers", {{{"name", "scraper"}}}}}},
          {"status",
           {{"phase", "Running"},
            {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}},
            {"containerStatuses", {container}}}}};
}

class PoolControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sim_.Start().ok());
    http::Client http;
    const std::string crds = std::string(std::getenv("SHARDWISE_SOURCE_DIR") != nullptr
                                             ? std::getenv("SHARDWISE_SOURCE_DIR")
                                             : ".") +
                             "/crds/shardwise.io/";
    for (const char* f : {"scrapepools.yaml", "scrapeshards.yaml"}) {
      std::ifstream in(crds + f);
      std::stringstream body;
      body << in.rdbuf();
      auto r = http.DoSync(
          {.method = "POST",
           .url = sim_.url() + "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
           .headers = {{"Content-Type", "application/yaml"}},
           .body = body.str()});
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->status / 100, 2) << r->body;
    }
    kube::Config config;
    config.server = sim_.url();
    auto client = kube::Client::Connect(config);
    ASSERT_TRUE(client.ok());
    client_ = std::move(client).value();
    events_ = std::make_unique<kube::EventRecorder>(client_.get(), kube::EventRecorder::Options{});
    ASSERT_TRUE(
        client_
            ->Create(kube::resources::kNamespaces, "",
                     {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "mon"}}}})
            .ok());

    namespaces_.Upsert(Ptr({{"metadata", {{"name", "mon"}}}}));
    services_.Upsert(
        Ptr({{"metadata", {{"name", "app"}, {"namespace", "mon"}, {"labels", {{"app", "x"}}}}},
             {"spec", {{"ports", {{{"name", "metrics"}, {"port", 8080}}}}}}}));
    json endpoints = json::array();
    for (int i = 0; i < kTargets; ++i) {
      endpoints.push_back(
          {{"addresses", {"10.0.0." + std::to_string(i + 1)}}, {"conditions", {{"ready", true}}}});
    }
    slices_.Upsert(Ptr({{"metadata",
                         {{"name", "app-1"},
                          {"namespace", "mon"},
                          {"labels", {{"kubernetes.io/service-name", "app"}}}}},
                        {"addressType", "IPv4"},
                        {"ports", {{{"name", "metrics"}, {"port", 8080}}}},
                        {"endpoints", endpoints}}));
    monitors_.Upsert(
        Ptr({{"metadata", {{"name", "app"}, {"namespace", "mon"}, {"labels", {{"pool", "main"}}}}},
             {"spec",
              {{"selector", {{"matchLabels", {{"app", "x"}}}}},
               {"endpoints", {{{"port", "metrics"}, {"interval", "10s"}}}}}}}));
  }

  void TearDown() override {
    controller_.reset();
    events_.reset();
    sim_.Stop();
  }

  Caches MakeCaches() {
    Caches c;
    c.pools = &pools_;
    c.service_monitors = &monitors_;
    c.pod_monitors = &pod_monitors_;
    c.namespaces = &namespaces_;
    c.services = &services_;
    c.endpoint_slices = &slices_;
    c.pods = &pods_;
    c.secrets = &secrets_;
    c.config_maps = &config_maps_;
    return c;
  }

  PoolController& NewController() {
    controller_.reset();
    plans_ = std::make_unique<endpoint::PlanStore>();
    reports_ = std::make_unique<endpoint::ReportStore>();
    PoolController::Options o;
    o.heartbeat_timeout = 3s;
    o.rebuild_wait = 30s;
    o.cutover_delay = 0ms;
    snapshots_ = std::make_unique<SnapshotStore>();
    o.snapshots = snapshots_.get();
    controller_ =
        std::make_unique<PoolController>(*client_, MakeCaches(), *plans_, *reports_, *events_, o);
    return *controller_;
  }

  void CreatePool(int shards) {
    json pool = {{"apiVersion", "shardwise.io/v1alpha1"},
                 {"kind", "ScrapePool"},
                 {"metadata", {{"name", "main"}, {"namespace", "mon"}}},
                 {"spec",
                  {{"shards", shards},
                   // The test's caches hold EndpointSlices (the default role reads Endpoints).
                   {"serviceDiscoveryRole", "EndpointSlice"},
                   {"serviceMonitorSelector", {{"matchLabels", {{"pool", "main"}}}}}}}};
    auto r = client_->Create(kube::resources::kScrapePools, "mon", pool);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    pools_.Upsert(Ptr(*r));
  }
  // The pool as the API has it now (status included), into the cache.
  json RefreshPool() {
    auto r = client_->Get(kube::resources::kScrapePools, "mon", "main");
    EXPECT_TRUE(r.ok());
    pools_.Upsert(Ptr(*r));
    return *r;
  }
  void Scale(int shards) {
    json pool = RefreshPool();
    pool["spec"]["shards"] = shards;
    auto r = client_->Update(kube::resources::kScrapePools, "mon", pool);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    pools_.Upsert(Ptr(*r));
  }
  void Reconcile() {
    Status s = controller_->Reconcile("mon/main");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // What the scraper of (shard, replica) reports after running its current plan: every
  // target scraped successfully at `at`.
  void ReportRunning(int shard, int replica, Clock::time_point at = Clock::now()) {
    endpoint::ShardKey key{"mon", "main", shard, replica};
    auto plan = plans_->Get(key);
    ASSERT_TRUE(plan) << key.ToString();
    plan::LoadReport r;
    r.pod = endpoint::PodName("main", shard, replica);
    r.shard = shard;
    r.replica = replica;
    r.plan_generation = plan->generation;
    for (const auto& t : plan->targets) {
      r.per_target.push_back({.id = t.id,
                              .series = series_per_target_,
                              .last_success_unix_ms = UnixMs(at),
                              .handoff = t.handoff,
                              .cutover_unix_ms = t.cutover_unix_ms});
    }
    r.targets = r.per_target.size();
    r.active_series = series_per_target_ * static_cast<double>(r.targets);
    ASSERT_TRUE(reports_->Put(key, r));
  }
  void ReportAll(int shards) {
    for (int s = 0; s < shards; ++s) ReportRunning(s, 0);
  }
  // A pool of two shards whose scrapers run their plans (with Ready pods when `pods`).
  // Returns shard 1's plan.
  plan::ScrapePlan TwoShardsRunning(bool pods = false) {
    CreatePool(2);
    NewController();
    Reconcile();
    for (int s = 0; pods && s < 2; ++s) pods_.Upsert(Ptr(Pod(s, true)));
    ReportAll(2);
    Reconcile();
    return *plans_->Get({"mon", "main", 1, 0});
  }
  // The scrapers' side of a scale-down's handoffs: both report (the new owner's report sets
  // the cutovers), then the new owner scrapes after the cutovers, completing the handoffs.
  void CompleteHandoffsToShardZero() {
    ReportAll(2);
    Reconcile();
    const plan::ScrapePlan incoming = *plans_->Get({"mon", "main", 0, 0});
    for (const auto& t : incoming.targets) {
      if (t.handoff == plan::Handoff::kIncoming) {
        EXPECT_GT(t.cutover_unix_ms, 0);
      }
    }
    ReportRunning(0, 0, Clock::now() + 1s);
    Reconcile();
  }

  // Reconciles while shard 0 keeps reporting, until shard 1 (silent) is judged Lost.
  bool WaitUntilShardOneLost() {
    return testing::WaitFor(
        [&] {
          ReportRunning(0, 0);
          Reconcile();
          return ShardStatus(1).value("phase", "") == "Lost";
        },
        10s);
  }

  json ShardStatus(int shard) {
    auto r = client_->Get(kube::resources::kScrapeShards, "mon", ScrapeShardName("main", shard));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->value("status", json::object()) : json::object();
  }
  static json ConditionOf(const json& status, const std::string& type) {
    for (const auto& c : status.value("conditions", json::array())) {
      if (c.value("type", "") == type) return c;
    }
    return json::object();
  }
  // The message of the newest Event with `reason` in the pool's namespace ("" if none).
  std::string EventMessage(const std::string& reason) {
    EXPECT_TRUE(events_->Flush(5s));
    auto events = client_->List(kube::resources::kEvents, "mon");
    EXPECT_TRUE(events.ok());
    std::string message;
    if (!events.ok()) return message;
    for (const auto& e : events->items) {
      if (e.value("reason", "") == reason) message = e.value("message", "");
    }
    return message;
  }
  std::map<uint64_t, int> Owners(int shards) {
    std::map<uint64_t, int> out;
    for (int s = 0; s < shards; ++s) {
      auto p = plans_->Get({"mon", "main", s, 0});
      if (!p) continue;
      for (const auto& t : p->targets) {
        if (t.handoff != plan::Handoff::kOutgoing) out[t.id] = s;
      }
    }
    return out;
  }

  kubesim::Simulator sim_{kubesim::SimulatorOptions{}};
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<kube::EventRecorder> events_;
  kube::Store pools_, monitors_, pod_monitors_, namespaces_, services_, slices_, pods_, secrets_,
      config_maps_;
  std::unique_ptr<endpoint::PlanStore> plans_;
  std::unique_ptr<endpoint::ReportStore> reports_;
  std::unique_ptr<SnapshotStore> snapshots_;  // what the web UI reads
  std::unique_ptr<PoolController> controller_;
  double series_per_target_ = 10;
};

TEST_F(PoolControllerTest, ADeadPodsShardIsLostAtOnceAndCountsForNothing) {
  CreatePool(3);
  NewController();
  Reconcile();
  for (int s = 0; s < 3; ++s) pods_.Upsert(Ptr(Pod(s, true)));
  ReportAll(3);
  Reconcile();
  EXPECT_EQ(ShardStatus(1).value("phase", ""), "Active");
  EXPECT_EQ(RefreshPool()["status"].value("series", 0), kTargets * 10);

  // kill -9: the container terminated; reports from before the kill are still fresh.
  pods_.Upsert(Ptr(Pod(1, false, /*terminated=*/true)));
  Reconcile();
  const json st = ShardStatus(1);
  EXPECT_EQ(st.value("phase", ""), "Lost");
  // No load shown for a Lost shard: the fields are gone, not stale.
  EXPECT_FALSE(st.contains("activeSeries")) << st.dump();
  EXPECT_FALSE(st.contains("samplesPerSecond"));
  EXPECT_FALSE(st.contains("remoteWriteLagSeconds"));
  EXPECT_EQ(st.value("targets", -1), 0);
  EXPECT_EQ(ConditionOf(st, "Ready").value("reason", ""), "ContainerTerminated");
  // The web UI's snapshot agrees: shard 1 Lost, without load, with the reason.
  auto snap = snapshots_->Get("mon", "main");
  ASSERT_NE(snap, nullptr);
  ASSERT_EQ(snap->shards.size(), 3u);
  EXPECT_EQ(snap->shards[1].phase, "Lost");
  EXPECT_FALSE(snap->shards[1].has_load);
  EXPECT_EQ(snap->shards[1].ready_reason, "ContainerTerminated");
  EXPECT_TRUE(snap->shards[0].has_load);
  EXPECT_EQ(snap->lost, 1);
  EXPECT_EQ(snap->targets.size(), static_cast<size_t>(kTargets));
  for (const auto& t : snap->targets) EXPECT_NE(t.owner, 1);
  // The Event says what the shard carried and where it went.
  ASSERT_TRUE(events_->Flush(5s));
  auto events = client_->List(kube::resources::kEvents, "mon");
  ASSERT_TRUE(events.ok());
  std::string lost_message;
  for (const auto& e : events->items) {
    if (e.value("reason", "") == "ShardLost") lost_message = e.value("message", "");
  }
  EXPECT_NE(lost_message.find("shard 1 is down (ContainerTerminated"), std::string::npos)
      << lost_message;
  EXPECT_NE(lost_message.find(" series) moved to the other 2 active shards"), std::string::npos)
      << lost_message;
  const json pool = RefreshPool()["status"];
  const json degraded = ConditionOf(pool, "Degraded");
  EXPECT_EQ(degraded.value("status", ""), "True");
  EXPECT_EQ(degraded.value("reason", ""), "ShardsLost");
  EXPECT_NE(degraded.value("message", "").find("ContainerTerminated"), std::string::npos);
  // Its targets went to the survivors at once, without a handoff (nobody forwards them).
  auto owners = Owners(3);
  EXPECT_EQ(owners.size(), static_cast<size_t>(kTargets));
  for (const auto& [id, shard] : owners) EXPECT_NE(shard, 1);
  for (int s : {0, 2}) {
    const plan::ScrapePlan p = *plans_->Get({"mon", "main", s, 0});
    for (const auto& t : p.targets) EXPECT_EQ(t.handoff, plan::Handoff::kNone);
  }
  ReportAll(1);  // shard 0 reports its new load; the pool total has no trace of shard 1
  Reconcile();
  EXPECT_EQ(RefreshPool()["status"].value("series", 0),
            static_cast<int64_t>(plans_->Get({"mon", "main", 0, 0})->targets.size()) * 10 +
                ShardStatus(2).value("activeSeries", 0));
}

// A pod NotReady after having been Ready is down at once, its scraper still reporting or
// not: its targets move without a handoff. Its plan then lists them as released, so the
// scraper (if it runs) stops them without staleness markers (they are still discovered).
TEST_F(PoolControllerTest, TargetsMovedAwayAreListedAsReleasedInTheOldShardsPlan) {
  CreatePool(2);
  NewController();
  Reconcile();  // no pods yet: both shards expected, the targets spread over them
  const plan::ScrapePlan first = *plans_->Get({"mon", "main", 1, 0});
  ASSERT_FALSE(first.targets.empty());
  EXPECT_TRUE(first.released.empty());
  pods_.Upsert(Ptr(Pod(0, true)));
  pods_.Upsert(Ptr(Pod(1, true)));
  ReportAll(2);
  Reconcile();
  pods_.Upsert(Ptr(Pod(1, false)));  // its readiness probe fails; the scraper still reports
  ReportAll(2);
  Reconcile();
  const plan::ScrapePlan after = *plans_->Get({"mon", "main", 1, 0});
  EXPECT_TRUE(after.targets.empty());
  std::vector<uint64_t> had;
  for (const auto& t : first.targets) had.push_back(t.id);
  EXPECT_EQ(after.released, had);
  EXPECT_TRUE(plans_->Get({"mon", "main", 0, 0})->released.empty());
  EXPECT_EQ(Owners(2).size(), static_cast<size_t>(kTargets));
  const plan::ScrapePlan survivor = *plans_->Get({"mon", "main", 0, 0});
  for (const auto& t : survivor.targets) EXPECT_EQ(t.handoff, plan::Handoff::kNone);
  const json st = ShardStatus(1);
  EXPECT_EQ(st.value("phase", ""), "Lost");
  EXPECT_EQ(ConditionOf(st, "Ready").value("reason", ""), "PodNotReady");
}

// A starting pod (never Ready yet: the kubelet probes readiness every periodSeconds) whose
// scraper already reports running its plan is alive: it keeps its targets, the status says
// so (one judgement for both), and targets leave it only by handoffs.
TEST_F(PoolControllerTest, AStartingPodWhoseScraperReportsKeepsItsTargets) {
  CreatePool(2);
  NewController();
  Reconcile();
  const plan::ScrapePlan first = *plans_->Get({"mon", "main", 1, 0});
  ASSERT_FALSE(first.targets.empty());
  // As the StatefulSet creates it: no status yet (no condition says Ready).
  pods_.Upsert(
      Ptr({{"metadata", {{"name", endpoint::PodName("main", 1, 0)}, {"namespace", "mon"}}}}));
  Reconcile();
  pods_.Upsert(Ptr(Pod(0, true)));
  pods_.Upsert(Ptr(Pod(1, false)));  // not Ready yet, but its scraper runs the plan
  ReportAll(2);
  Reconcile();
  plan::ScrapePlan after = *plans_->Get({"mon", "main", 1, 0});
  EXPECT_EQ(after.targets.size(), first.targets.size());
  EXPECT_TRUE(after.released.empty());
  json st = ShardStatus(1);
  EXPECT_EQ(st.value("phase", ""), "Active");
  EXPECT_EQ(st.value("targets", 0), static_cast<int>(first.targets.size()));
  EXPECT_EQ(ConditionOf(st, "Ready").value("reason", ""), "PodStarting");
  EXPECT_NE(ConditionOf(st, "Ready").value("message", "").find("the pod is not Ready yet"),
            std::string::npos);
  EXPECT_EQ(ConditionOf(RefreshPool()["status"], "Degraded").value("status", ""), "False");

  // Moving its targets away (a scale-down) is a handoff: outgoing here, incoming there.
  Scale(1);
  Reconcile();
  after = *plans_->Get({"mon", "main", 1, 0});
  ASSERT_EQ(after.targets.size(), first.targets.size());
  for (const auto& t : after.targets) EXPECT_EQ(t.handoff, plan::Handoff::kOutgoing);
  size_t incoming = 0;
  const plan::ScrapePlan owner = *plans_->Get({"mon", "main", 0, 0});
  for (const auto& t : owner.targets) {
    if (t.handoff == plan::Handoff::kIncoming) ++incoming;
  }
  EXPECT_EQ(incoming, first.targets.size());
  EXPECT_EQ(ShardStatus(1).value("phase", ""), "Draining");

  // Once Ready, a later NotReady is a failure: Lost at once.
  Scale(2);
  pods_.Upsert(Ptr(Pod(1, true)));
  ReportAll(2);
  Reconcile();
  EXPECT_EQ(ShardStatus(1).value("phase", ""), "Active");
  pods_.Upsert(Ptr(Pod(1, false)));
  Reconcile();
  EXPECT_EQ(ShardStatus(1).value("phase", ""), "Lost");
  EXPECT_TRUE(plans_->Get({"mon", "main", 1, 0})->targets.empty());
}

// A starting pod that has not reported is Pending for one heartbeat timeout — alive, in the
// assignment as in its status — then Lost (NeverReported) in both.
TEST_F(PoolControllerTest, AStartingPodThatNeverReportsIsPendingThenLost) {
  CreatePool(2);
  NewController();
  Reconcile();
  pods_.Upsert(Ptr(Pod(0, true)));
  pods_.Upsert(Ptr(Pod(1, false)));
  ReportRunning(0, 0);
  Reconcile();
  EXPECT_EQ(ShardStatus(1).value("phase", ""), "Pending");
  EXPECT_FALSE(plans_->Get({"mon", "main", 1, 0})->targets.empty());
  ASSERT_TRUE(WaitUntilShardOneLost());
  EXPECT_EQ(ConditionOf(ShardStatus(1), "Ready").value("reason", ""), "NeverReported");
  EXPECT_TRUE(plans_->Get({"mon", "main", 1, 0})->targets.empty());
  EXPECT_EQ(Owners(2).size(), static_cast<size_t>(kTargets));
}

TEST_F(PoolControllerTest, AShardNeverHeardFromIsLostAfterTheTimeout) {
  CreatePool(2);
  NewController();
  Reconcile();
  ReportRunning(0, 0);
  // Shard 1 never reports: Pending, then Lost; its targets move to shard 0.
  ASSERT_TRUE(WaitUntilShardOneLost());
  EXPECT_EQ(ConditionOf(ShardStatus(1), "Ready").value("reason", ""), "NeverReported");
  EXPECT_EQ(Owners(2).size(), static_cast<size_t>(kTargets));
  EXPECT_EQ(plans_->Get({"mon", "main", 1, 0})->targets.size(), 0u);
}

TEST_F(PoolControllerTest, ScaleDownDrainsThroughAnEmptyPlanBeforeRemoval) {
  const size_t moving = TwoShardsRunning().targets.size();
  ASSERT_GT(moving, 0u);

  Scale(1);
  Reconcile();
  auto draining = plans_->Get({"mon", "main", 1, 0});
  ASSERT_EQ(draining->targets.size(), moving);
  for (const auto& t : draining->targets) EXPECT_EQ(t.handoff, plan::Handoff::kOutgoing);
  EXPECT_EQ(ShardStatus(1).value("phase", ""), "Draining");
  CompleteHandoffsToShardZero();

  // The drained shard gets an empty plan (not a 404) and stays until it reports running it.
  auto empty = plans_->Get({"mon", "main", 1, 0});
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->targets.empty());
  auto sts =
      client_->Get(kube::resources::kStatefulSets, "mon", endpoint::StatefulSetName("main", 0));
  ASSERT_TRUE(sts.ok());
  EXPECT_EQ((*sts)["spec"].value("replicas", 0), 2);
  Reconcile();
  EXPECT_TRUE(plans_->Get({"mon", "main", 1, 0}));

  ReportRunning(1, 0);  // runs the empty plan
  Reconcile();
  EXPECT_FALSE(plans_->Get({"mon", "main", 1, 0}));
  sts = client_->Get(kube::resources::kStatefulSets, "mon", endpoint::StatefulSetName("main", 0));
  EXPECT_EQ((*sts)["spec"].value("replicas", 0), 1);
  EXPECT_FALSE(
      client_->Get(kube::resources::kScrapeShards, "mon", ScrapeShardName("main", 1)).ok());
  EXPECT_FALSE(reports_->Get({"mon", "main", 1, 0}));
  EXPECT_EQ(Owners(1).size(), static_cast<size_t>(kTargets));
  // The Event names the confirmed generation; nothing was removed unconfirmed.
  const std::string drained = EventMessage("ShardDrained");
  EXPECT_NE(drained.find("shard 1 drained: " + endpoint::PodName("main", 1, 0) +
                         " runs plan generation " + std::to_string(empty->generation) +
                         " with no targets (reported at "),
            std::string::npos)
      << drained;
  EXPECT_EQ(EventMessage("ShardRemovedUndrained"), "");

  // The pool's status as a lagging cache still shows it: two shards. The removed shard
  // stays removed (no second removal, as undrained).
  auto pool = client_->Get(kube::resources::kScrapePools, "mon", "main");
  ASSERT_TRUE(pool.ok());
  (*pool)["status"]["scraperShards"] = 2;
  (*pool)["status"]["shards"] = 2;
  ASSERT_TRUE(client_->UpdateStatus(kube::resources::kScrapePools, "mon", *pool).ok());
  Reconcile();
  EXPECT_FALSE(plans_->Get({"mon", "main", 1, 0}));
  EXPECT_EQ(EventMessage("ShardRemovedUndrained"), "");
}

// A drained shard whose scraper runs but never confirms the empty plan (here: it keeps
// reporting its old plan) holds the scale-down up for one heartbeat timeout, no longer.
TEST_F(PoolControllerTest, ADrainedShardThatNeverConfirmsGoesAfterTheHeartbeatTimeout) {
  const plan::ScrapePlan old = TwoShardsRunning();
  ASSERT_FALSE(old.targets.empty());
  Scale(1);
  Reconcile();
  // Before the reconcile that drains it: the operator's clock for the timeout starts later.
  const auto drained_at = Clock::now();
  CompleteHandoffsToShardZero();
  ASSERT_TRUE(plans_->Get({"mon", "main", 1, 0})->targets.empty());

  auto stale_report = [&] {
    plan::LoadReport r;
    r.pod = endpoint::PodName("main", 1, 0);
    r.shard = 1;
    r.plan_generation = old.generation;
    for (const auto& t : old.targets) r.per_target.push_back({.id = t.id, .series = 10});
    r.targets = r.per_target.size();
    ASSERT_TRUE(reports_->Put({"mon", "main", 1, 0}, r));
  };
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        ReportRunning(0, 0);
        stale_report();
        Reconcile();
        return !plans_->Get({"mon", "main", 1, 0}).has_value();
      },
      10s));
  EXPECT_GE(Clock::now() - drained_at, 3s);  // the heartbeat timeout
  auto sts =
      client_->Get(kube::resources::kStatefulSets, "mon", endpoint::StatefulSetName("main", 0));
  ASSERT_TRUE(sts.ok());
  EXPECT_EQ((*sts)["spec"].value("replicas", 0), 1);
  const std::string why = EventMessage("ShardRemovedUndrained");
  EXPECT_NE(why.find("shard 1 removed without confirming its final empty plan: " +
                     endpoint::PodName("main", 1, 0) + " did not confirm plan generation "),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("within 3s (its report: generation " + std::to_string(old.generation) +
                     " with " + std::to_string(old.targets.size()) + " targets)"),
            std::string::npos)
      << why;
  EXPECT_EQ(EventMessage("ShardDrained"), "");
}

// A drained shard whose pod is gone goes at once, with the reason.
TEST_F(PoolControllerTest, ADrainedShardWhoseScraperIsNotRunningGoesAtOnce) {
  TwoShardsRunning(/*pods=*/true);
  Scale(1);
  Reconcile();
  CompleteHandoffsToShardZero();
  ASSERT_TRUE(plans_->Get({"mon", "main", 1, 0})->targets.empty());
  // NotReady is no proof that it stopped scraping: the shard waits.
  pods_.Upsert(Ptr(Pod(1, false)));
  Reconcile();
  EXPECT_TRUE(plans_->Get({"mon", "main", 1, 0}));
  pods_.Upsert(Ptr(Pod(1, false, /*terminated=*/true)));
  Reconcile();
  EXPECT_FALSE(plans_->Get({"mon", "main", 1, 0}));
  const std::string why = EventMessage("ShardRemovedUndrained");
  EXPECT_NE(why.find(endpoint::PodName("main", 1, 0) + " is down (ContainerTerminated"),
            std::string::npos)
      << why;
}

TEST_F(PoolControllerTest, ARestartedOperatorMovesNoTarget) {
  CreatePool(3);
  NewController();
  Reconcile();
  ReportAll(3);
  Reconcile();
  std::vector<plan::ScrapePlan> before;
  for (int s = 0; s < 3; ++s) before.push_back(*plans_->Get({"mon", "main", s, 0}));
  // Keep the reports the scrapers will send the new operator.
  std::vector<endpoint::ReportStore::Entry> sent;
  for (int s = 0; s < 3; ++s) sent.push_back(*reports_->Get({"mon", "main", s, 0}));

  RefreshPool();
  NewController();  // a new process: empty plan and report stores
  Reconcile();
  EXPECT_FALSE(plans_->Get({"mon", "main", 0, 0})) << "no plan before the scrapers reported";
  for (int s = 0; s < 3; ++s) ASSERT_TRUE(reports_->Put({"mon", "main", s, 0}, sent[s].report));
  Reconcile();
  for (int s = 0; s < 3; ++s) {
    auto now = plans_->Get({"mon", "main", s, 0});
    ASSERT_TRUE(now);
    plan::ScrapePlan a = before[static_cast<size_t>(s)], b = *now;
    a.generation = b.generation = 0;
    EXPECT_EQ(a, b) << "shard " << s;
  }
}

// Which pods were Ready survives an operator restart, in the ScrapeShards' status: a pod
// the old process saw Ready and the new one sees NotReady has failed (its shard is Lost at
// once, its scraper reporting or not), while a pod recreated under the name is starting.
TEST_F(PoolControllerTest, APodSeenReadyBeforeARestartIsLostWhenNotReadyAfterIt) {
  TwoShardsRunning(/*pods=*/true);
  EXPECT_EQ(ShardStatus(1)["readyPods"],
            json::array({{{"name", endpoint::PodName("main", 1, 0)}, {"uid", "uid-1"}}}));
  std::vector<endpoint::ReportStore::Entry> sent;
  for (int s = 0; s < 2; ++s) sent.push_back(*reports_->Get({"mon", "main", s, 0}));

  RefreshPool();
  NewController();                   // a new process: no memory but what the API holds
  pods_.Upsert(Ptr(Pod(1, false)));  // NotReady, as a new pod would be
  Reconcile();
  for (int s = 0; s < 2; ++s) ASSERT_TRUE(reports_->Put({"mon", "main", s, 0}, sent[s].report));
  Reconcile();
  json st = ShardStatus(1);
  EXPECT_EQ(st.value("phase", ""), "Lost") << st.dump();
  EXPECT_EQ(ConditionOf(st, "Ready").value("reason", ""), "PodNotReady");
  EXPECT_EQ(st["readyPods"].size(), 1u) << "kept while the pod is the same";

  // The same name, another pod (the StatefulSet recreated it): starting, not failed.
  json recreated = Pod(1, false);
  recreated["metadata"]["uid"] = "uid-1-new";
  pods_.Upsert(Ptr(recreated));
  ReportAll(2);
  Reconcile();
  st = ShardStatus(1);
  EXPECT_NE(st.value("phase", ""), "Lost") << st.dump();
  EXPECT_EQ(ConditionOf(st, "Ready").value("reason", ""), "PodStarting") << st.dump();
}

TEST_F(PoolControllerTest, UnchangedStateWritesNothing) {
  CreatePool(2);
  NewController();
  Reconcile();
  ReportAll(2);
  Reconcile();
  auto version = [&](const kube::GroupVersionResource& gvr, const std::string& name) {
    auto r = client_->Get(gvr, "mon", name);
    return r.ok() ? (*r)["metadata"].value("resourceVersion", "") : std::string();
  };
  const std::string shard = version(kube::resources::kScrapeShards, ScrapeShardName("main", 0));
  const std::string sts =
      version(kube::resources::kStatefulSets, endpoint::StatefulSetName("main", 0));
  const std::string pool = version(kube::resources::kScrapePools, "main");
  ReportAll(2);  // a new heartbeat, same load
  Reconcile();
  Reconcile();
  EXPECT_EQ(version(kube::resources::kScrapeShards, ScrapeShardName("main", 0)), shard);
  EXPECT_EQ(version(kube::resources::kStatefulSets, endpoint::StatefulSetName("main", 0)), sts);
  EXPECT_EQ(version(kube::resources::kScrapePools, "main"), pool);
}

// Mode Operator: the autoscaler writes .spec.shards through the scale subresource with one
// Event and status.autoscaling carrying the figures, and shrinks the pool again (here with
// zero-length windows) once the handoffs of the scale-up are done.
TEST_F(PoolControllerTest, OperatorModeScalesOutAndBackInThroughTheScaleSubresource) {
  json pool = {{"apiVersion", "shardwise.io/v1alpha1"},
               {"kind", "ScrapePool"},
               {"metadata", {{"name", "main"}, {"namespace", "mon"}}},
               {"spec",
                {{"shards", 2},
                 {"serviceDiscoveryRole", "EndpointSlice"},
                 {"serviceMonitorSelector", {{"matchLabels", {{"pool", "main"}}}}},
                 {"autoscaling",
                  {{"mode", "Operator"},
                   {"minShards", 1},
                   {"maxShards", 8},
                   {"targetSeriesPerShard", 50},
                   {"scaleUpStabilizationSeconds", 0},
                   {"scaleDownStabilizationSeconds", 0}}}}}};
  auto created = client_->Create(kube::resources::kScrapePools, "mon", pool);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  pools_.Upsert(Ptr(*created));
  for (int s = 0; s < 8; ++s) pods_.Upsert(Ptr(Pod(s, true)));
  NewController();
  auto report_all = [&] {
    for (int s = 0; s < 8; ++s) {
      if (plans_->Get({"mon", "main", s, 0})) ReportRunning(s, 0);
    }
  };
  auto step = [&] {
    report_all();
    Reconcile();
    return RefreshPool();
  };
  Reconcile();
  json p = step();  // 24 targets x 10 series = 240 series over 50 per shard: 5 shards
  EXPECT_EQ(p["spec"].value("shards", 0), 5);
  const json& as = p["status"]["autoscaling"];
  EXPECT_EQ(as.value("lastScaleReason", ""), "2 -> 5: 240 series over a target of 50 per shard");
  EXPECT_EQ(as.value("desiredShards", 0), 5);
  ASSERT_TRUE(events_->Flush(5s));
  auto events = client_->List(kube::resources::kEvents, "mon");
  ASSERT_TRUE(events.ok());
  int scaled = 0;
  for (const auto& e : events->items) {
    if (e.value("reason", "") != "AutoscaledShards") continue;
    ++scaled;
    EXPECT_EQ(e.value("message", ""),
              "scraper shards 2 -> 5: 240 series over a target of 50 per shard");
  }
  EXPECT_EQ(scaled, 1);

  // The series shrink to 2 per target (48): once no handoff is in flight, 48 series fit
  // 2 shards at 90 % of the target.
  series_per_target_ = 2;
  for (int i = 0; i < 20 && p["spec"].value("shards", 0) != 2; ++i) p = step();
  EXPECT_EQ(p["spec"].value("shards", 0), 2);
  EXPECT_EQ(p["status"]["autoscaling"].value("lastScaleReason", ""),
            "5 -> 2: 48 series fit 2 shards at 90% of the target of 50 per shard");
  // It stays there: the same load never asks for anything else.
  for (int i = 0; i < 5; ++i) p = step();
  EXPECT_EQ(p["spec"].value("shards", 0), 2);
}

}  // namespace
}  // namespace shardwise::pool
