// End-to-end: a real operator DiscoveryEndpoint on 127.0.0.1, real loopback targets, a real
// ScrapeManager writing into a MemorySink, and OperatorMode in between.
#include "scraper/operator_client/operator_mode.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "common/metrics/registry.h"
#include "operator/endpoint/discovery_endpoint.h"
#include "scraper/operator_client/client_metrics.h"
#include "scraper/operator_client/opclient_test_util.h"
#include "scraper/operator_client/plan_file.h"
#include "scraper/storage/memory_sink.h"

namespace shardwise::opclient {
namespace {

using namespace std::chrono_literals;
using testing::MetricsTarget;
using testing::PlanTarget;
using testing::TempDir;
using testing::WaitFor;

constexpr char kPod[] = "shardwise-main-0-1";

Labels Series(std::string name, const std::string& instance) {
  return Labels{{"__name__", name}, {"instance", instance}, {"job", "node"}};
}

// A scraper process: sink, manager and operator mode sharing one client.
struct Scraper {
  Scraper(OperatorModeOptions options) : mode(std::move(options), manager, client) {}
  ~Scraper() {
    mode.Stop();
    manager.Stop();
  }
  bool Scraped(const std::string& name, const std::string& instance) const {
    return !sink.Samples(Series(name, instance)).empty();
  }
  bool HasStaleMarker(const std::string& name, const std::string& instance) const {
    for (const auto& s : sink.Samples(Series(name, instance))) {
      if (storage::IsStaleNaN(s.v)) return true;
    }
    return false;
  }
  bool Applied(uint64_t generation) const {
    auto current = mode.applier().Current();
    return current && current->generation == generation;
  }

  storage::MemorySink sink;
  http::Client client;
  scrape::ScrapeManager manager{{}, sink, client};
  OperatorMode mode;
};

class OperatorModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reports_.SetAdmission([](const endpoint::ShardKey& k) { return k.pool == "main"; });
    endpoint_.Register(*operator_);
    ASSERT_TRUE(operator_->Start().ok());
    url_ = "http://" + operator_->address();
  }
  void TearDown() override { operator_->Stop(); }

  OperatorModeOptions Options() const {
    OperatorModeOptions o;
    o.operator_url = url_;
    o.pod_namespace = "mon";
    o.pod_name = kPod;
    o.data_dir = dir_.path();
    o.plan_wait = 2s;
    o.max_backoff = 300ms;
    o.report_interval = 200ms;
    return o;
  }
  uint64_t Publish(std::vector<plan::Target> targets) {
    plan::ScrapePlan p;
    p.pool_namespace = "mon";
    p.pool = "main";
    p.shard = 1;
    p.targets = std::move(targets);
    return plans_.Publish(key_, std::move(p));
  }
  plan::Target A() const { return PlanTarget(1, a_.address(), "a"); }
  plan::Target B() const { return PlanTarget(2, b_.address(), "b"); }
  plan::Target C() const { return PlanTarget(3, c_.address(), "c"); }

  TempDir dir_;
  const endpoint::ShardKey key_{"mon", "main", 1, 0};
  endpoint::PlanStore plans_;
  endpoint::ReportStore reports_;
  endpoint::DiscoveryEndpoint endpoint_{plans_, reports_};
  std::unique_ptr<http::Server> operator_ = std::make_unique<http::Server>(http::Server::Options{});
  std::string url_;
  MetricsTarget a_{"a", 3};
  MetricsTarget b_{"b", 5};
  MetricsTarget c_{"c", 2};
};

TEST_F(OperatorModeTest, ScrapesExactlyThePlanTargetsWithThePlanLabels) {
  const uint64_t gen = Publish({A(), B()});
  std::atomic<uint64_t> applied{0};
  OperatorModeOptions options = Options();
  options.on_plan_applied = [&](const plan::ScrapePlan& p) { applied = p.generation; };
  Scraper s(options);
  ASSERT_TRUE(s.mode.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return s.Scraped("a_2", "a") && s.Scraped("b_4", "b"); }));
  EXPECT_TRUE(WaitFor([&] { return applied.load() == gen; }));
  EXPECT_EQ(s.manager.ActiveTargets().size(), 2u);
  EXPECT_EQ(c_.scrapes(), 0);
  EXPECT_FALSE(s.mode.plan_client().stale());
  // The accepted plan is on disk for the next start.
  Result<plan::ScrapePlan> persisted = LoadPersistedPlan(dir_.path());
  ASSERT_TRUE(persisted.ok()) << persisted.status().ToString();
  EXPECT_EQ(persisted->generation, gen);
  EXPECT_EQ(persisted->targets.size(), 2u);
}

TEST_F(OperatorModeTest, PlanUpdateStartsAndStopsOnlyTheTargetsThatChanged) {
  Publish({A(), B()});
  Scraper s(Options());
  ASSERT_TRUE(s.mode.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return s.Scraped("a_0", "a") && s.Scraped("b_0", "b"); }));
  auto loop_a = s.manager.Loop(PlanApplier::ScrapeJobName(A()), *s.mode.applier().ScrapeHash(1));
  ASSERT_NE(loop_a, nullptr);

  const uint64_t gen = Publish({A(), C()});
  ASSERT_TRUE(WaitFor([&] { return s.Applied(gen) && s.Scraped("c_1", "c"); }));
  // b left the plan without a handoff: its series end with staleness markers.
  ASSERT_TRUE(WaitFor([&] { return s.HasStaleMarker("b_0", "b"); }));
  EXPECT_TRUE(s.HasStaleMarker("b_4", "b"));
  // a is untouched: the same loop, no markers.
  EXPECT_EQ(s.manager.Loop(PlanApplier::ScrapeJobName(A()), *s.mode.applier().ScrapeHash(1)),
            loop_a);
  EXPECT_FALSE(s.HasStaleMarker("a_0", "a"));
  EXPECT_EQ(s.manager.ActiveTargets().size(), 2u);
}

TEST_F(OperatorModeTest, HandedOffTargetStopsWithoutStalenessMarkers) {
  Publish({A(), B()});
  Scraper s(Options());
  ASSERT_TRUE(s.mode.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return s.Scraped("b_0", "b"); }));

  plan::Target outgoing = B();
  outgoing.handoff = plan::Handoff::kOutgoing;
  const uint64_t marked = Publish({A(), outgoing});
  ASSERT_TRUE(WaitFor([&] { return s.Applied(marked); }));
  // Still scraped while the new owner starts.
  const int scrapes = b_.scrapes();
  ASSERT_TRUE(WaitFor([&] { return b_.scrapes() > scrapes; }));

  const uint64_t gone = Publish({A()});
  ASSERT_TRUE(WaitFor([&] { return s.Applied(gone) && s.manager.ActiveTargets().size() == 1; }));
  EXPECT_TRUE(s.Scraped("b_0", "b"));
  EXPECT_FALSE(s.HasStaleMarker("b_0", "b"));
  EXPECT_FALSE(s.HasStaleMarker("b_4", "b"));
  EXPECT_FALSE(s.HasStaleMarker("a_0", "a"));
}

TEST_F(OperatorModeTest, KeepsScrapingThePersistedPlanWhenTheOperatorIsGone) {
  Publish({A(), B()});
  {
    Scraper s(Options());
    ASSERT_TRUE(s.mode.Start().ok());
    ASSERT_TRUE(WaitFor([&] { return s.Scraped("a_0", "a") && s.Scraped("b_0", "b"); }));
    operator_->Stop();
    ASSERT_TRUE(WaitFor([&] { return s.mode.plan_client().stale(); }));
    // The running plan goes on.
    const int a = a_.scrapes(), b = b_.scrapes();
    ASSERT_TRUE(WaitFor([&] { return a_.scrapes() > a + 1 && b_.scrapes() > b + 1; }));
    EXPECT_EQ(s.manager.ActiveTargets().size(), 2u);
  }
  // A fresh scraper started while the operator is down scrapes the plan from disk.
  const int before = a_.scrapes();
  Scraper fresh(Options());
  ASSERT_TRUE(fresh.mode.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return fresh.Scraped("a_2", "a") && fresh.Scraped("b_4", "b"); }));
  EXPECT_GT(a_.scrapes(), before);
  EXPECT_TRUE(fresh.mode.plan_client().stale());
  EXPECT_EQ(fresh.mode.plan_client().plans_delivered(), 1u);
  EXPECT_NE(metrics::Registry::Default().Expose().find("shardwise_operator_plan_stale 1"),
            std::string::npos);
}

TEST_F(OperatorModeTest, ReportsCarryHandoffMarksAndComeRightAfterANewPlan) {
  Publish({A()});
  OperatorModeOptions o = Options();
  o.report_interval = std::chrono::hours(1);  // only the first report and the pokes
  Scraper s(o);
  ASSERT_TRUE(s.mode.Start().ok());
  ASSERT_TRUE(WaitFor([&] {
    auto e = reports_.Get(key_);
    return e && e->report.per_target.size() == 1;
  }));
  plan::Target in = B();
  in.handoff = plan::Handoff::kIncoming;
  in.cutover_unix_ms = 1234;
  const uint64_t gen = Publish({A(), in});
  ASSERT_TRUE(WaitFor([&] {
    auto e = reports_.Get(key_);
    return e && e->report.plan_generation == gen && e->report.per_target.size() == 2;
  }));
  const plan::LoadReport r = reports_.Get(key_)->report;
  EXPECT_EQ(r.per_target[1].handoff, plan::Handoff::kIncoming);
  EXPECT_EQ(r.per_target[1].cutover_unix_ms, 1234);
  EXPECT_TRUE(r.plan_error.empty());
}

TEST_F(OperatorModeTest, ReportsCarryPerTargetSeriesCounts) {
  const uint64_t gen = Publish({A(), B()});
  Scraper s(Options());
  ASSERT_TRUE(s.mode.Start().ok());
  auto complete = [&] {
    auto entry = reports_.Get(key_);
    if (!entry || entry->report.per_target.size() != 2) return false;
    for (const auto& t : entry->report.per_target) {
      if (t.series == 0 || t.last_success_unix_ms == 0) return false;
    }
    return true;
  };
  ASSERT_TRUE(WaitFor(complete));
  plan::LoadReport r = reports_.Get(key_)->report;
  EXPECT_EQ(r.pod, kPod);
  EXPECT_EQ(r.shard, 1);
  EXPECT_EQ(r.plan_generation, gen);
  EXPECT_EQ(r.targets, 2u);
  ASSERT_EQ(r.per_target.size(), 2u);
  EXPECT_EQ(r.per_target[0].id, 1u);
  EXPECT_EQ(r.per_target[0].series, 3);  // what a exposes
  EXPECT_EQ(r.per_target[1].id, 2u);
  EXPECT_EQ(r.per_target[1].series, 5);  // what b exposes
  EXPECT_EQ(r.active_series, 8);
  EXPECT_EQ(r.per_target[0].last_error, "");
  EXPECT_EQ(r.per_target[0].handoff, plan::Handoff::kNone);
  EXPECT_GE(r.saturation, 0);
  EXPECT_LE(r.saturation, 1);
  // Reports keep coming: they are the heartbeat.
  const auto first = reports_.Get(key_)->received;
  ASSERT_TRUE(WaitFor([&] { return reports_.Get(key_)->received > first; }));
}

TEST_F(OperatorModeTest, InvalidPlanIsRejectedAndThePreviousOneKept) {
  const uint64_t good = Publish({A()});
  Scraper s(Options());
  ASSERT_TRUE(s.mode.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return s.Applied(good) && s.Scraped("a_0", "a"); }));

  metrics::Counter& invalid = ClientMetrics::Get().plan_requests.With({"invalid"});
  const double rejected = invalid.Value();
  plan::Target bad = B();
  bad.timeout = bad.interval * 2;
  Publish({A(), bad});
  ASSERT_TRUE(WaitFor([&] { return invalid.Value() > rejected; }));
  EXPECT_TRUE(s.Applied(good));
  EXPECT_EQ(LoadPersistedPlan(dir_.path())->generation, good);
  EXPECT_EQ(b_.scrapes(), 0);

  // The next valid plan goes through as usual.
  const uint64_t fixed = Publish({A(), B()});
  ASSERT_TRUE(WaitFor([&] { return s.Applied(fixed) && s.Scraped("b_0", "b"); }));
  EXPECT_EQ(LoadPersistedPlan(dir_.path())->generation, fixed);
}

TEST_F(OperatorModeTest, StartRejectsMissingIdentity) {
  OperatorModeOptions o = Options();
  o.pod_name.clear();
  Scraper s(o);
  EXPECT_FALSE(s.mode.Start().ok());
}

}  // namespace
}  // namespace shardwise::opclient
