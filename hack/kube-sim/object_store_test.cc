#include "hack/kube-sim/object_store.h"

#include <gtest/gtest.h>

namespace shardwise::kubesim {
namespace {

json Obj(const std::string& ns, const std::string& name) {
  return {{"metadata", {{"namespace", ns}, {"name", name}}}};
}

TEST(ObjectStoreTest, EveryWriteTakesTheNextResourceVersion) {
  ObjectStore store;
  uint64_t start = store.ResourceVersion();
  json a = store.Transact([](ObjectStore::Txn& t) { return t.Put("g/things", Obj("ns", "a")); });
  json b = store.Transact([](ObjectStore::Txn& t) { return t.Put("g/things", Obj("ns", "b")); });
  EXPECT_EQ(a["metadata"]["resourceVersion"], std::to_string(start + 1));
  EXPECT_EQ(b["metadata"]["resourceVersion"], std::to_string(start + 2));
  auto names = store.Transact([](ObjectStore::Txn& t) {
    std::vector<std::string> out;
    for (const json* o : t.List("g/things", "ns")) out.push_back(o->at("metadata").at("name"));
    return out;
  });
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  auto after_a =
      store.Transact([](ObjectStore::Txn& t) { return t.List("g/things", "ns", "ns/a").size(); });
  EXPECT_EQ(after_a, 1u);
  auto other_ns =
      store.Transact([](ObjectStore::Txn& t) { return t.List("g/things", "other").size(); });
  EXPECT_EQ(other_ns, 0u);
}

TEST(ObjectStoreTest, WatchReplaysHistoryAndFollows) {
  ObjectStore store;
  uint64_t start = store.ResourceVersion();
  store.Transact([](ObjectStore::Txn& t) { return t.Put("g/things", Obj("ns", "a")); });
  auto w = store.Watch("g/things", "ns", start);
  ASSERT_TRUE(w.ok());
  store.Transact([](ObjectStore::Txn& t) { return t.Put("g/things", Obj("ns", "a")); });
  store.Transact([](ObjectStore::Txn& t) { return t.Remove("g/things", "ns", "a"); });
  store.Transact([](ObjectStore::Txn& t) { return t.Put("g/other", Obj("ns", "z")); });
  std::vector<std::string> types;
  while (auto e = w.value()->Next(std::chrono::milliseconds(100))) types.push_back(e->type);
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "MODIFIED", "DELETED"}));
}

TEST(ObjectStoreTest, WatchFromCompactedHistoryIsExpired) {
  ObjectStore store(/*history_limit=*/3);
  uint64_t start = store.ResourceVersion();
  for (int i = 0; i < 5; ++i)
    store.Transact(
        [&](ObjectStore::Txn& t) { return t.Put("g/things", Obj("ns", "o" + std::to_string(i))); });
  auto w = store.Watch("g/things", "", start);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code(), 410);
  EXPECT_TRUE(store.Watch("g/things", "", store.ResourceVersion() - 1).ok());
}

TEST(ObjectStoreTest, SnapshotRoundTrip) {
  ObjectStore a;
  a.Transact([](ObjectStore::Txn& t) { return t.Put("g/things", Obj("ns", "a")); });
  ObjectStore b;
  b.Restore(a.Snapshot());
  EXPECT_EQ(b.ResourceVersion(), a.ResourceVersion());
  EXPECT_TRUE(
      b.Transact([](ObjectStore::Txn& t) { return t.Get("g/things", "ns", "a") != nullptr; }));
}

}  // namespace
}  // namespace shardwise::kubesim
