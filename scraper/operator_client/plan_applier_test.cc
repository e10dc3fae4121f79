#include "scraper/operator_client/plan_applier.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "scraper/operator_client/opclient_test_util.h"
#include "scraper/storage/memory_sink.h"

namespace shardwise::opclient {
namespace {

using testing::MetricsTarget;
using testing::PlanTarget;
using testing::TempDir;
using testing::WaitFor;

Labels Series(std::string name, Labels target) {
  LabelsBuilder b(target);
  b.Set("__name__", name);
  return b.Build();
}

class PlanApplierTest : public ::testing::Test {
 protected:
  bool HasSamples(const Labels& series) const { return !sink_.Samples(series).empty(); }
  std::shared_ptr<scrape::ScrapeLoop> LoopOf(uint64_t plan_id, const plan::Target& t) const {
    auto hash = applier_.ScrapeHash(plan_id);
    return hash ? manager_.Loop(PlanApplier::ScrapeJobName(t), *hash) : nullptr;
  }

  TempDir dir_;
  storage::MemorySink sink_;
  http::Client client_;
  scrape::ScrapeManager manager_{{}, sink_, client_};
  PlanApplier applier_{{.data_dir = dir_.path()}, manager_};
  MetricsTarget a_{"a", 3};
  MetricsTarget b_{"b", 5};
};

TEST_F(PlanApplierTest, ScrapesExactlyThePlanTargetsWithTheirFinalLabels) {
  MetricsTarget not_planned{"c", 1};
  plan::ScrapePlan p;
  p.generation = 5;
  p.targets = {PlanTarget(1, a_.address(), "a", Labels{{"team", "x"}}),
               PlanTarget(2, b_.address(), "b")};
  ASSERT_TRUE(applier_.Apply(p).ok());

  const Labels a_labels{{"instance", "a"}, {"job", "node"}, {"team", "x"}};
  const Labels b_labels{{"instance", "b"}, {"job", "node"}};
  ASSERT_TRUE(WaitFor(
      [&] { return HasSamples(Series("a_2", a_labels)) && HasSamples(Series("b_4", b_labels)); }));
  // Every series carries exactly the planned labels, whatever the scrape job is called.
  for (const auto& [series, samples] : sink_.Series()) {
    LabelsBuilder b(series);
    b.Del("__name__");
    Labels target = b.Build();
    EXPECT_TRUE(target == a_labels || target == b_labels) << series.ToString();
  }
  EXPECT_EQ(not_planned.scrapes(), 0);

  auto active = manager_.ActiveTargets();
  ASSERT_EQ(active.size(), 2u);
  for (const auto& s : active) {
    std::optional<uint64_t> id = applier_.PlanId(s.target.hash);
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(s.target.labels, *id == 1 ? a_labels : b_labels);
    EXPECT_EQ(s.target.interval, std::chrono::milliseconds(200));
    EXPECT_EQ(applier_.ScrapeHash(*id), s.target.hash);
  }
  EXPECT_EQ(applier_.Current()->generation, 5u);
}

TEST_F(PlanApplierTest, UnchangedTargetsKeepTheirLoopsAcrossPlans) {
  plan::ScrapePlan p;
  p.targets = {PlanTarget(1, a_.address(), "a")};
  ASSERT_TRUE(applier_.Apply(p).ok());
  auto loop_a = LoopOf(1, p.targets[0]);
  ASSERT_NE(loop_a, nullptr);
  const std::string job = PlanApplier::ScrapeJobName(p.targets[0]);
  EXPECT_EQ(manager_.LoopsStarted(job), 1u);

  p.generation = 2;
  p.targets.push_back(PlanTarget(2, b_.address(), "b"));
  ASSERT_TRUE(applier_.Apply(p).ok());
  EXPECT_EQ(LoopOf(1, p.targets[0]), loop_a);
  EXPECT_EQ(manager_.LoopsStarted(job), 2u);  // only b's loop is new
  ASSERT_TRUE(applier_.Apply(p).ok());        // the same plan again: nothing restarts
  EXPECT_EQ(manager_.LoopsStarted(job), 2u);

  // A settings change of one target moves only that target to another scrape job, and
  // its series continue: no staleness markers in between.
  const Labels b_labels{{"instance", "b"}, {"job", "node"}};
  ASSERT_TRUE(WaitFor([&] { return HasSamples(Series("b_0", b_labels)); }));
  p.generation = 3;
  p.targets[1].sample_limit = 1000;
  ASSERT_TRUE(applier_.Apply(p).ok());
  EXPECT_EQ(LoopOf(1, p.targets[0]), loop_a);
  EXPECT_NE(PlanApplier::ScrapeJobName(p.targets[1]), job);
  EXPECT_NE(LoopOf(2, p.targets[1]), nullptr);
  EXPECT_EQ(manager_.ActiveTargets().size(), 2u);
  const size_t before = sink_.Samples(Series("b_0", b_labels)).size();
  ASSERT_TRUE(WaitFor([&] { return sink_.Samples(Series("b_0", b_labels)).size() > before; }));
  for (const auto& sample : sink_.Samples(Series("b_0", b_labels))) {
    EXPECT_FALSE(storage::IsStaleNaN(sample.v));
  }
}

TEST_F(PlanApplierTest, PerTargetIntervalsAndPathsSurviveExactly) {
  plan::ScrapePlan p;
  plan::Target t = PlanTarget(1, a_.address(), "a");
  t.interval = std::chrono::milliseconds(1500);
  t.timeout = std::chrono::milliseconds(250);
  plan::Target u = PlanTarget(2, b_.address(), "b");
  u.path = "/metrics";
  u.interval = std::chrono::milliseconds(60000);
  u.timeout = std::chrono::milliseconds(10000);
  p.targets = {t, u};
  ASSERT_TRUE(applier_.Apply(p).ok());
  auto active = manager_.ActiveTargets();
  ASSERT_EQ(active.size(), 2u);
  for (const auto& s : active) {
    const plan::Target& want = *applier_.PlanId(s.target.hash) == 1 ? t : u;
    EXPECT_EQ(s.target.interval, want.interval);
    EXPECT_EQ(s.target.timeout, want.timeout);
    EXPECT_EQ(s.target.Url(), "http://" + want.address + want.path);
  }
  // Different intervals alone do not split the job: one scrape job for both.
  EXPECT_EQ(applier_.Jobs().size(), 1u);
}

TEST_F(PlanApplierTest, MetricRelabelingsAndBearerTokenApply) {
  plan::ScrapePlan p;
  plan::Target t = PlanTarget(1, a_.address(), "a");
  t.metric_relabelings = nlohmann::json::array(
      {{{"sourceLabels", {"__name__"}}, {"regex", "a_1"}, {"action", "drop"}}});
  t.auth = plan::AuthConfig{.bearer_token = "s3cret"};
  p.targets = {t};
  ASSERT_TRUE(applier_.Apply(p).ok());
  const Labels labels{{"instance", "a"}, {"job", "node"}};
  ASSERT_TRUE(WaitFor([&] { return a_.scrapes() >= 2 && HasSamples(Series("a_2", labels)); }));
  EXPECT_FALSE(HasSamples(Series("a_1", labels)));
  EXPECT_EQ(a_.last_authorization(), "Bearer s3cret");
}

// TLS material from the plan stays in memory (the HTTP client takes inline PEM): no key is
// ever written to the scraper's disk.
TEST_F(PlanApplierTest, TlsPemsStayInMemory) {
  plan::ScrapePlan p;
  plan::Target t = PlanTarget(1, a_.address(), "a");
  t.tls = plan::TlsConfig{.ca_pem = "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
                          .key_pem = "-----BEGIN PRIVATE KEY-----\ny\n-----END PRIVATE KEY-----\n",
                          .server_name = "a.example"};
  p.targets = {t};
  ASSERT_TRUE(applier_.Apply(p).ok());
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path())) {
    EXPECT_EQ(e.path().filename().string().find(".pem"), std::string::npos) << e.path();
  }
  // Applying the same plan again keeps the loop.
  auto loop = LoopOf(1, t);
  ASSERT_NE(loop, nullptr);
  ASSERT_TRUE(applier_.Apply(p).ok());
  EXPECT_EQ(LoopOf(1, t), loop);
}

TEST_F(PlanApplierTest, KeepsTheBaseConfigJobs) {
  Result<scrape::Config> base = scrape::ParseConfig(
      "scrape_configs: [{job_name: local, scrape_interval: 200ms, scrape_timeout: 150ms,"
      " static_configs: [{targets: ['" +
      b_.address() + "']}]}]");
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  PlanApplier applier({.data_dir = dir_.path(), .base_config = *base}, manager_);
  plan::ScrapePlan p;
  p.targets = {PlanTarget(1, a_.address(), "a")};
  ASSERT_TRUE(applier.Apply(p).ok());
  EXPECT_EQ(manager_.ActiveTargets().size(), 2u);
  ASSERT_TRUE(WaitFor([&] { return b_.scrapes() > 0 && a_.scrapes() > 0; }));
  for (const auto& s : manager_.ActiveTargets()) {
    EXPECT_EQ(applier.PlanId(s.target.hash).has_value(), s.target.job != "local");
  }
}

}  // namespace
}  // namespace shardwise::opclient

namespace shardwise::opclient {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One scraper: its storage, manager and applier.
struct Scraper {
  storage::MemorySink sink;
  http::Client client;
  scrape::ScrapeManager manager{{}, sink, client};
  TempDir dir;
  PlanApplier applier{{.data_dir = dir.path()}, manager};
  std::vector<storage::StoredSample> Samples(const Labels& series) const {
    return sink.Samples(series);
  }
};

plan::ScrapePlan PlanOf(uint64_t generation, std::vector<plan::Target> targets) {
  plan::ScrapePlan p;
  p.generation = generation;
  p.targets = std::move(targets);
  return p;
}

TEST(PlanApplierHandoffTest, OwnersForwardEachScrapeExactlyOnceAcrossTheCutover) {
  MetricsTarget target{"m", 2};
  const Labels labels{{"instance", "m"}, {"job", "node"}};
  const Labels series = Series("m_0", labels);
  const Labels up = Series("up", labels);
  Scraper old_owner, new_owner;
  plan::Target t = PlanTarget(1, target.address(), "m");
  ASSERT_TRUE(old_owner.applier.Apply(PlanOf(1, {t})).ok());
  ASSERT_TRUE(WaitFor([&] { return !old_owner.Samples(series).empty(); }));

  // The handoff starts: both scrape, only the old owner forwards.
  plan::Target out = t, in = t;
  out.handoff = plan::Handoff::kOutgoing;
  in.handoff = plan::Handoff::kIncoming;
  ASSERT_TRUE(old_owner.applier.Apply(PlanOf(2, {out})).ok());
  ASSERT_TRUE(new_owner.applier.Apply(PlanOf(2, {in})).ok());
  auto hash = new_owner.applier.ScrapeHash(1);
  ASSERT_TRUE(hash);
  auto new_loop = new_owner.manager.Loop(PlanApplier::ScrapeJobName(in), *hash);
  ASSERT_NE(new_loop, nullptr);
  ASSERT_TRUE(WaitFor([&] { return new_loop->Snapshot().health == "up"; }));
  EXPECT_TRUE(new_owner.sink.Series().empty()) << "an incoming target forwards nothing";

  // The cutover: before it the old owner forwards, from it on the new one.
  const int64_t cutover = NowMs() + 600;
  out.cutover_unix_ms = in.cutover_unix_ms = cutover;
  ASSERT_TRUE(old_owner.applier.Apply(PlanOf(3, {out})).ok());
  ASSERT_TRUE(new_owner.applier.Apply(PlanOf(3, {in})).ok());
  ASSERT_TRUE(WaitFor([&] { return new_owner.Samples(series).size() >= 2; }));
  // Released: the old owner stops silently; the new owner forwards everything.
  t.handoff = plan::Handoff::kNone;
  ASSERT_TRUE(old_owner.applier.Apply(PlanOf(4, {})).ok());
  ASSERT_TRUE(new_owner.applier.Apply(PlanOf(4, {t})).ok());
  const size_t before = new_owner.Samples(series).size();
  ASSERT_TRUE(WaitFor([&] { return new_owner.Samples(series).size() >= before + 2; }));

  const auto old_samples = old_owner.Samples(series);
  const auto new_samples = new_owner.Samples(series);
  ASSERT_FALSE(old_samples.empty());
  // Each scrape instant is forwarded by one owner only, on its side of the cutover (scrape
  // timestamps sit within milliseconds of the phase points, which decide).
  std::set<int64_t> points;
  const auto interval = t.interval;
  for (const auto& s : old_samples) {
    EXPECT_LT(scrape::ScrapeLoop::PhasePointMs(*hash, interval, s.t_ms), cutover);
    EXPECT_TRUE(points.insert(scrape::ScrapeLoop::PhasePointMs(*hash, interval, s.t_ms)).second);
  }
  for (const auto& s : new_samples) {
    EXPECT_GE(scrape::ScrapeLoop::PhasePointMs(*hash, interval, s.t_ms), cutover);
    EXPECT_TRUE(points.insert(scrape::ScrapeLoop::PhasePointMs(*hash, interval, s.t_ms)).second);
  }
  // No staleness markers anywhere, `up` included.
  for (const Scraper* s : {&old_owner, &new_owner}) {
    for (const auto& [name, samples] : s->sink.Series()) {
      for (const auto& sample : samples)
        EXPECT_FALSE(storage::IsStaleNaN(sample.v)) << name.ToString();
    }
  }
  EXPECT_FALSE(new_owner.Samples(up).empty());
}

TEST(PlanApplierHandoffTest, AnIncomingTargetCalledOffLeavesNothingBehind) {
  MetricsTarget target{"m", 2};
  Scraper scraper;
  plan::Target in = PlanTarget(1, target.address(), "m");
  in.handoff = plan::Handoff::kIncoming;
  ASSERT_TRUE(scraper.applier.Apply(PlanOf(1, {in})).ok());
  ASSERT_TRUE(WaitFor([&] { return target.scrapes() >= 2; }));
  ASSERT_TRUE(scraper.applier.Apply(PlanOf(2, {})).ok());
  EXPECT_TRUE(scraper.sink.Series().empty());
}

size_t StaleMarkers(const Scraper& s) {
  size_t n = 0;
  for (const auto& [name, samples] : s.sink.Series()) {
    for (const auto& sample : samples) n += storage::IsStaleNaN(sample.v) ? 1 : 0;
  }
  return n;
}

// Plans are long-polled: a scraper may skip generations. It ran the target as its owner
// (generation 1), never saw the generation that marked it outgoing (2), and then gets one
// without it (3). The target moved, so the plan lists it as released: it stops silently.
TEST(PlanApplierHandoffTest, ASkippedOutgoingGenerationStillStopsSilently) {
  MetricsTarget target{"m", 3};
  const Labels series = Series("m_0", Labels{{"instance", "m"}, {"job", "node"}});
  Scraper scraper;
  ASSERT_TRUE(scraper.applier.Apply(PlanOf(1, {PlanTarget(1, target.address(), "m")})).ok());
  ASSERT_TRUE(WaitFor([&] { return !scraper.Samples(series).empty(); }));
  plan::ScrapePlan gone = PlanOf(3, {});
  gone.released = {1};
  ASSERT_TRUE(scraper.applier.Apply(gone).ok());
  EXPECT_TRUE(scraper.manager.ActiveTargets().empty());
  EXPECT_EQ(StaleMarkers(scraper), 0u);
}

// Without the release (the target left discovery), the same sequence ends its series with
// staleness markers, every series of the last scrape and `up`, as Prometheus does.
TEST(PlanApplierHandoffTest, ATargetThatLeftDiscoveryEndsWithStalenessMarkers) {
  MetricsTarget target{"m", 3};
  const Labels labels{{"instance", "m"}, {"job", "node"}};
  Scraper scraper;
  ASSERT_TRUE(scraper.applier.Apply(PlanOf(1, {PlanTarget(1, target.address(), "m")})).ok());
  ASSERT_TRUE(WaitFor([&] { return !scraper.Samples(Series("m_2", labels)).empty(); }));
  plan::ScrapePlan gone = PlanOf(3, {});
  gone.released = {2};  // another target's release does not cover this one
  ASSERT_TRUE(scraper.applier.Apply(gone).ok());
  for (const char* name : {"m_0", "m_1", "m_2", "up"}) {
    const auto samples = scraper.Samples(Series(name, labels));
    ASSERT_FALSE(samples.empty()) << name;
    EXPECT_TRUE(storage::IsStaleNaN(samples.back().v)) << name;
  }
}

// An operator without `released` (older plans): the outgoing mark of the previous applied
// plan still makes the stop silent.
TEST(PlanApplierHandoffTest, OutgoingInThePreviousPlanStopsSilentlyWithoutAReleaseList) {
  MetricsTarget target{"m", 3};
  const Labels series = Series("m_0", Labels{{"instance", "m"}, {"job", "node"}});
  Scraper scraper;
  plan::Target t = PlanTarget(1, target.address(), "m");
  ASSERT_TRUE(scraper.applier.Apply(PlanOf(1, {t})).ok());
  ASSERT_TRUE(WaitFor([&] { return !scraper.Samples(series).empty(); }));
  t.handoff = plan::Handoff::kOutgoing;
  ASSERT_TRUE(scraper.applier.Apply(PlanOf(2, {t})).ok());
  ASSERT_TRUE(scraper.applier.Apply(PlanOf(3, {})).ok());
  EXPECT_EQ(StaleMarkers(scraper), 0u);
}

TEST(PlanApplierHandoffTest, AFailedPlanIsRememberedUntilOneApplies) {
  MetricsTarget target{"m", 1};
  Scraper scraper;
  plan::Target bad = PlanTarget(1, target.address(), "m");
  bad.metric_relabelings = nlohmann::json::array({{{"action", "no-such-action"}}});
  EXPECT_FALSE(scraper.applier.Apply(PlanOf(7, {bad})).ok());
  auto error = scraper.applier.LastError();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->first, 7u);
  EXPECT_FALSE(scraper.applier.Current());
  ASSERT_TRUE(scraper.applier.Apply(PlanOf(8, {PlanTarget(1, target.address(), "m")})).ok());
  EXPECT_FALSE(scraper.applier.LastError());
  EXPECT_EQ(scraper.applier.Current()->generation, 8u);
}

}  // namespace
}  // namespace shardwise::opclient
