// LeaderPodLabel against the API simulator over HTTP: a former leader's label goes at
// start-up, the label follows Set(), a hand edit is put right, a missing pod is retried, and
// wired to two LeaderElectors the label sits on exactly the Lease holder's pod and moves
// with the lease.
#include "operator/kube/leader_pod_label.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/testing/test_util.h"
#include "hack/kube-sim/simulator.h"
#include "operator/kube/client.h"
#include "operator/kube/config.h"
#include "operator/kube/leader_election.h"

namespace shardwise::kube {
namespace {

using shardwise::testing::WaitFor;
using std::chrono::milliseconds;

constexpr char kNs[] = "default";

class LeaderPodLabelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubesim::SimulatorOptions options;
    options.listen_address = "127.0.0.1:0";
    sim_ = std::make_unique<kubesim::Simulator>(options);
    ASSERT_TRUE(sim_->Start().ok());
    auto config = ParseKubeconfig(sim_->Kubeconfig(false), "");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config->qps = 0;
    config_ = *config;
    client_ = NewClient();
  }

  std::unique_ptr<Client> NewClient() {
    auto client = Client::Connect(config_);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return std::move(client).value();
  }

  void CreatePod(const std::string& name, bool labelled) {
    Object pod = {{"apiVersion", "v1"},
                  {"kind", "Pod"},
                  {"metadata", {{"name", name}, {"labels", {{"app", "operator"}}}}},
                  {"spec", {{"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}};
    if (labelled) pod["metadata"]["labels"][LeaderPodLabel::kLabel] = "true";
    auto created = client_->Create(resources::kPods, kNs, pod);
    ASSERT_TRUE(created.ok()) << created.error().ToString();
  }

  // The pod's leader label ("" when absent); "?" when the pod cannot be read.
  std::string Label(const std::string& pod) {
    auto got = client_->Get(resources::kPods, kNs, pod);
    if (!got.ok()) return "?";
    return (*got)["metadata"]
        .value("labels", nlohmann::json::object())
        .value(LeaderPodLabel::kLabel, "");
  }
  std::string AppLabel(const std::string& pod) {
    auto got = client_->Get(resources::kPods, kNs, pod);
    return got.ok() ? (*got)["metadata"]["labels"].value("app", "") : "?";
  }

  static LeaderPodLabel::Options Options(const std::string& pod) {
    return {.ns = kNs,
            .pod = pod,
            .resync = milliseconds(200),
            .initial_backoff = milliseconds(50),
            .max_backoff = milliseconds(200)};
  }

  std::unique_ptr<kubesim::Simulator> sim_;
  Config config_;
  std::unique_ptr<Client> client_;
};

TEST_F(LeaderPodLabelTest, StartRemovesAFormerLeadersLabelAndSetMovesIt) {
  CreatePod("op-a", /*labelled=*/true);  // a restarted container keeps its pod's labels
  LeaderPodLabel label(client_.get(), Options("op-a"));
  label.Start();
  ASSERT_TRUE(label.WaitSynced(milliseconds(10000)));
  EXPECT_EQ(Label("op-a"), "");
  EXPECT_EQ(AppLabel("op-a"), "operator");  // other labels untouched

  label.Set(true);
  ASSERT_TRUE(label.WaitSynced(milliseconds(10000)));
  EXPECT_EQ(Label("op-a"), "true");

  // Removed by hand: the resync puts it back.
  ASSERT_TRUE(client_
                  ->Patch(resources::kPods, kNs, "op-a", PatchType::kMerge,
                          {{"metadata", {{"labels", {{LeaderPodLabel::kLabel, nullptr}}}}}})
                  .ok());
  EXPECT_TRUE(WaitFor([&] { return Label("op-a") == "true"; }, std::chrono::seconds(10)));

  label.Set(false);
  ASSERT_TRUE(label.WaitSynced(milliseconds(10000)));
  EXPECT_EQ(Label("op-a"), "");
  EXPECT_EQ(AppLabel("op-a"), "operator");
}

TEST_F(LeaderPodLabelTest, MissingPodIsRetriedUntilItExists) {
  LeaderPodLabel label(client_.get(), Options("op-late"));
  label.Start();
  label.Set(true);
  EXPECT_FALSE(label.WaitSynced(milliseconds(300)));
  CreatePod("op-late", /*labelled=*/false);
  ASSERT_TRUE(label.WaitSynced(milliseconds(10000)));
  EXPECT_EQ(Label("op-late"), "true");
}

LeaderElector::Config Election(const std::string& identity) {
  LeaderElector::Config config;
  config.lease_namespace = kNs;
  config.lease_name = "shardwise-operator";
  config.identity = identity;
  config.lease_duration = milliseconds(2000);
  config.renew_deadline = milliseconds(1500);
  config.retry_period = milliseconds(200);
  config.release_on_cancel = true;
  return config;
}

TEST_F(LeaderPodLabelTest, LabelFollowsTheLeaseHolder) {
  CreatePod("op-a", false);
  CreatePod("op-b", true);  // stale: b's container restarted after it had led
  auto client_a = NewClient();
  auto client_b = NewClient();
  LeaderPodLabel label_a(client_a.get(), Options("op-a"));
  LeaderPodLabel label_b(client_b.get(), Options("op-b"));
  label_a.Start();
  label_b.Start();
  // As main() wires them.
  auto elector = [&](Client* c, LeaderPodLabel* l, const std::string& id) {
    return std::make_unique<LeaderElector>(
        c, Election(id),
        LeaderElector::Callbacks{[l] { l->Set(true); }, [l] { l->Set(false); }, {}});
  };
  auto a = elector(client_a.get(), &label_a, "op-a");
  auto b = elector(client_b.get(), &label_b, "op-b");
  a->Start();
  b->Start();
  auto holder = [&]() -> std::string {
    auto lease = client_->Get(resources::kLeases, kNs, "shardwise-operator");
    return lease.ok() ? (*lease)["spec"].value("holderIdentity", "") : "";
  };
  // Exactly the holder's pod is labelled.
  auto only = [&](const std::string& pod) {
    std::string other = pod == "op-a" ? "op-b" : "op-a";
    return holder() == pod && Label(pod) == "true" && Label(other) == "";
  };
  std::string first;
  ASSERT_TRUE(WaitFor(
      [&] {
        first = holder();
        return !first.empty() && only(first);
      },
      std::chrono::seconds(10)));

  // The leader stops (releasing the lease): the label moves to the other pod.
  const std::string second = first == "op-a" ? "op-b" : "op-a";
  (first == "op-a" ? a : b)->Stop();
  ASSERT_TRUE((first == "op-a" ? label_a : label_b).WaitSynced(milliseconds(10000)));
  EXPECT_TRUE(WaitFor([&] { return only(second); }, std::chrono::seconds(10)))
      << "holder " << holder() << " a=" << Label("op-a") << " b=" << Label("op-b");
  a->Stop();
  b->Stop();
}

}  // namespace
}  // namespace shardwise::kube
