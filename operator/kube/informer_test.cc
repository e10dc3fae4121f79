// Informer against an in-memory collection that keeps a bounded event history, can cut
// its watches and can forget history (so a re-watch gets 410 Expired).
#include "operator/kube/informer.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

namespace shardwise::kube {
namespace {

using std::chrono::milliseconds;

class FakeCollection : public ListerWatcher {
 public:
  void Put(const std::string& name, const std::string& app) {
    std::lock_guard lock(mu_);
    const bool exists = objects_.contains(name);
    Object object = {{"apiVersion", "v1"},
                     {"kind", "ConfigMap"},
                     {"metadata",
                      {{"namespace", "ns"},
                       {"name", name},
                       {"labels", {{"app", app}}},
                       {"resourceVersion", std::to_string(++rv_)}}}};
    objects_[name] = object;
    EmitLocked(exists ? "MODIFIED" : "ADDED", object);
  }
  void Delete(const std::string& name) {
    std::lock_guard lock(mu_);
    auto it = objects_.find(name);
    if (it == objects_.end()) return;
    Object last = it->second;
    objects_.erase(it);
    last["metadata"]["resourceVersion"] = std::to_string(++rv_);
    EmitLocked("DELETED", last);
  }
  // Ends every open watch as a dropped connection would.
  void CutWatches() {
    std::vector<std::shared_ptr<WatchStream::State>> watches;
    {
      std::lock_guard lock(mu_);
      watches.swap(watches_);
    }
    for (auto& state : watches) WatchStream::OnDone(state, ApiError::Connection("reset by peer"));
  }
  // While set, new watches fail at once (the API server is unreachable).
  void RejectWatches(bool reject) {
    std::lock_guard lock(mu_);
    reject_watches_ = reject;
  }
  // Forgets the history: watches from older versions get 410.
  void Compact() {
    std::lock_guard lock(mu_);
    history_.clear();
    compacted_ = rv_;
  }
  void SendBookmark() {
    std::lock_guard lock(mu_);
    ++rv_;  // a write to another collection moves the global version
    EmitLocked("BOOKMARK",
               {{"kind", "ConfigMap"}, {"metadata", {{"resourceVersion", std::to_string(rv_)}}}});
  }
  void SetListFailures(int n) {
    std::lock_guard lock(mu_);
    list_failures_ = n;
  }
  // key → resourceVersion, as the informer's store would hold it.
  std::map<std::string, std::string> Snapshot() {
    std::lock_guard lock(mu_);
    std::map<std::string, std::string> out;
    for (const auto& [name, object] : objects_) out["ns/" + name] = ResourceVersionOf(object);
    return out;
  }
  int open_watches() {
    std::lock_guard lock(mu_);
    return static_cast<int>(watches_.size());
  }
  std::vector<ListOptions> list_calls() {
    std::lock_guard lock(mu_);
    return list_calls_;
  }
  std::vector<WatchOptions> watch_calls() {
    std::lock_guard lock(mu_);
    return watch_calls_;
  }

  ApiResult<ObjectList> List(const ListOptions& options) override {
    std::lock_guard lock(mu_);
    list_calls_.push_back(options);
    if (list_failures_ > 0) {
      --list_failures_;
      return ApiError(Reason::kServiceUnavailable, 503, "try later");
    }
    ObjectList list;
    list.resource_version = std::to_string(rv_);
    auto it = options.continue_token.empty() ? objects_.begin()
                                             : objects_.upper_bound(options.continue_token);
    for (; it != objects_.end(); ++it) {
      if (options.limit > 0 && static_cast<int64_t>(list.items.size()) == options.limit) {
        list.continue_token = std::prev(it)->first;
        break;
      }
      list.items.push_back(it->second);
    }
    return list;
  }

  std::unique_ptr<WatchStream> Watch(const WatchOptions& options) override {
    std::lock_guard lock(mu_);
    watch_calls_.push_back(options);
    auto state = WatchStream::NewState();
    if (reject_watches_) {
      WatchStream::OnDone(state, ApiError::Connection("connection refused"));
      return std::make_unique<WatchStream>(state);
    }
    const int64_t from =
        options.resource_version.empty() ? 0 : std::stoll(options.resource_version);
    if (from < compacted_) {
      WatchStream::OnData(state, R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1",)"
                                 R"("status":"Failure","reason":"Expired","code":410,)"
                                 R"("message":"too old resource version"}})"
                                 "\n");
      WatchStream::OnDone(state, std::nullopt);
      return std::make_unique<WatchStream>(state);
    }
    for (const auto& [rv, line] : history_) {
      if (rv > from) WatchStream::OnData(state, line);
    }
    watches_.push_back(state);
    return std::make_unique<WatchStream>(state);
  }

 private:
  void EmitLocked(const std::string& type, const Object& object) {
    const std::string line = nlohmann::json{{"type", type}, {"object", object}}.dump() + "\n";
    if (type != "BOOKMARK") history_.emplace_back(rv_, line);
    for (auto& state : watches_) WatchStream::OnData(state, line);
  }

  std::mutex mu_;
  std::map<std::string, Object> objects_;
  std::vector<std::pair<int64_t, std::string>> history_;
  std::vector<std::shared_ptr<WatchStream::State>> watches_;
  std::vector<ListOptions> list_calls_;
  std::vector<WatchOptions> watch_calls_;
  int64_t rv_ = 100;
  int64_t compacted_ = 0;
  int list_failures_ = 0;
  bool reject_watches_ = false;
};

// What the handlers were told, replayed into a map: must equal the server's state.
class Recorder {
 public:
  EventHandler Handler() {
    return {
        [this](const Object& o) { Set("add", o); },
        [this](const Object&, const Object& o) { Set("update", o); },
        [this](const Object& o) {
          std::lock_guard lock(mu_);
          seen_.erase(KeyOf(o));
          ++counts_["delete"];
        },
    };
  }
  std::map<std::string, std::string> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  int count(const std::string& kind) {
    std::lock_guard lock(mu_);
    return counts_[kind];
  }

 private:
  void Set(const std::string& kind, const Object& o) {
    std::lock_guard lock(mu_);
    seen_[KeyOf(o)] = ResourceVersionOf(o);
    ++counts_[kind];
  }
  std::mutex mu_;
  std::map<std::string, std::string> seen_;
  std::map<std::string, int> counts_;
};

std::map<std::string, std::string> StoreSnapshot(const Store& store) {
  std::map<std::string, std::string> out;
  for (const auto& object : store.List()) out[KeyOf(*object)] = ResourceVersionOf(*object);
  return out;
}

template <typename Pred>
bool Eventually(Pred pred, milliseconds timeout = milliseconds(10000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return pred();
}

Informer::Options FastOptions() {
  Informer::Options options;
  options.page_size = 2;
  options.initial_backoff = milliseconds(5);
  options.max_backoff = milliseconds(20);
  return options;
}

class InformerTest : public testing::Test {
 protected:
  void StartInformer(Informer::Options options = FastOptions()) {
    informer_ = std::make_unique<Informer>(server_, options);
    informer_->AddEventHandler(recorder_.Handler());
    informer_->Start();
    ASSERT_TRUE(informer_->WaitForSync(milliseconds(10000)));
  }
  bool Converged() {
    const auto expected = server_->Snapshot();
    return StoreSnapshot(informer_->store()) == expected && recorder_.seen() == expected;
  }

  std::shared_ptr<FakeCollection> server_ = std::make_shared<FakeCollection>();
  Recorder recorder_;
  std::unique_ptr<Informer> informer_;
};

TEST_F(InformerTest, ListsInPagesThenWatchesFromTheListVersion) {
  for (int i = 0; i < 5; ++i) server_->Put("cm" + std::to_string(i), "web");
  StartInformer();
  EXPECT_EQ(informer_->store().size(), 5u);
  EXPECT_EQ(recorder_.count("add"), 5);
  const auto lists = server_->list_calls();
  ASSERT_EQ(lists.size(), 3u);  // pages of 2, 2, 1
  EXPECT_EQ(lists[0].limit, 2);
  EXPECT_EQ(lists[1].continue_token, "cm1");
  ASSERT_TRUE(Eventually([&] { return server_->open_watches() == 1; }));
  const auto watch = server_->watch_calls().at(0);
  EXPECT_EQ(watch.resource_version, "105");
  EXPECT_TRUE(watch.allow_bookmarks);
  EXPECT_GE(watch.timeout_seconds, 300);

  server_->Put("cm1", "db");
  server_->Delete("cm2");
  server_->Put("cm9", "web");
  ASSERT_TRUE(Eventually([&] { return Converged(); }));
  EXPECT_EQ(recorder_.count("update"), 1);
  EXPECT_EQ(recorder_.count("delete"), 1);
  EXPECT_EQ(informer_->store().ByIndex(Store::kLabelIndex, "app=db").size(), 1u);
  EXPECT_EQ(informer_->lists(), 1);
}

TEST_F(InformerTest, CutWatchResumesFromLastVersionWithoutLosingUpdates) {
  server_->Put("a", "web");
  StartInformer();
  ASSERT_TRUE(Eventually([&] { return server_->open_watches() == 1; }));
  for (int round = 0; round < 5; ++round) {
    server_->RejectWatches(true);
    server_->CutWatches();
    // Changes while the informer is disconnected must arrive after it re-watches.
    server_->Put("a", "v" + std::to_string(round));
    server_->Put("b" + std::to_string(round), "web");
    if (round % 2 == 1) server_->Delete("b" + std::to_string(round - 1));
    server_->RejectWatches(false);
    ASSERT_TRUE(Eventually([&] { return Converged(); })) << "round " << round;
  }
  EXPECT_EQ(informer_->lists(), 1);  // history was available: no relist needed
  EXPECT_GE(informer_->watches(), 6);
}

TEST_F(InformerTest, GoneRelistsAndNoticesDeletionsAcrossTheGap) {
  for (const char* name : {"a", "b", "c"}) server_->Put(name, "web");
  StartInformer();
  ASSERT_TRUE(Eventually([&] { return server_->open_watches() == 1; }));
  server_->RejectWatches(true);
  server_->CutWatches();
  server_->Delete("b");  // only visible through the relist now
  server_->Put("a", "changed");
  server_->Put("d", "web");
  server_->Compact();
  server_->RejectWatches(false);
  ASSERT_TRUE(Eventually([&] { return Converged(); }));
  EXPECT_EQ(informer_->lists(), 2);
  EXPECT_EQ(recorder_.count("delete"), 1);
  EXPECT_EQ(informer_->store().Get("ns/b"), nullptr);
  // And it watches again from the new list's version.
  server_->Put("e", "web");
  ASSERT_TRUE(Eventually([&] { return Converged(); }));
}

TEST_F(InformerTest, BookmarksAdvanceTheResumeVersion) {
  server_->Put("a", "web");
  StartInformer();
  ASSERT_TRUE(Eventually([&] { return server_->open_watches() == 1; }));
  server_->SendBookmark();
  ASSERT_TRUE(Eventually([&] { return informer_->LastResourceVersion() == "102"; }));
  server_->Compact();  // history before 102 is gone, but the bookmark moved us past it
  server_->CutWatches();
  ASSERT_TRUE(Eventually([&] { return server_->watch_calls().size() == 2; }));
  EXPECT_EQ(server_->watch_calls()[1].resource_version, "102");
  ASSERT_TRUE(Eventually([&] { return server_->open_watches() == 1; }));
  EXPECT_EQ(informer_->lists(), 1);
}

TEST_F(InformerTest, ListFailuresAreRetried) {
  server_->Put("a", "web");
  server_->SetListFailures(2);
  StartInformer();
  EXPECT_EQ(informer_->store().size(), 1u);
  EXPECT_EQ(server_->list_calls().size(), 3u);
}

TEST_F(InformerTest, ResyncRedeliversEveryObject) {
  server_->Put("a", "web");
  server_->Put("b", "web");
  auto options = FastOptions();
  options.resync_period = milliseconds(50);
  StartInformer(options);
  ASSERT_TRUE(Eventually([&] { return recorder_.count("update") >= 4; }));
}

TEST_F(InformerTest, CustomIndexerAndStopIsPrompt) {
  server_->Put("a", "web");
  informer_ = std::make_unique<Informer>(server_, FastOptions());
  informer_->AddIndexer("app", [](const Object& o) {
    return std::vector<std::string>{o["metadata"]["labels"].value("app", "")};
  });
  informer_->Start();
  ASSERT_TRUE(informer_->WaitForSync(milliseconds(10000)));
  EXPECT_EQ(informer_->store().ByIndex("app", "web").size(), 1u);
  ASSERT_TRUE(Eventually([&] { return server_->open_watches() == 1; }));
  informer_->Stop();  // must not wait for the watch to end by itself
  informer_->Stop();  // idempotent
}

}  // namespace
}  // namespace shardwise::kube
