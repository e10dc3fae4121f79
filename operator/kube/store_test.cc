#include "operator/kube/store.h"

#include <gtest/gtest.h>

namespace shardwise::kube {
namespace {

ObjectPtr Pod(std::string ns, std::string name, nlohmann::json labels, std::string node = "",
              std::string rv = "1") {
  return std::make_shared<const Object>(
      Object{{"apiVersion", "v1"},
             {"kind", "Pod"},
             {"metadata",
              {{"namespace", ns}, {"name", name}, {"labels", labels}, {"resourceVersion", rv}}},
             {"spec", {{"nodeName", node}}}});
}

std::vector<std::string> Names(const std::vector<ObjectPtr>& objects) {
  std::vector<std::string> names;
  for (const auto& object : objects) names.push_back(KeyOf(*object));
  std::sort(names.begin(), names.end());
  return names;
}

TEST(StoreTest, KeysAreNamespaceSlashName) {
  Store store;
  store.Upsert(Pod("a", "p1", {}));
  store.Upsert(std::make_shared<const Object>(Object{{"metadata", {{"name", "node-1"}}}}));
  EXPECT_EQ(store.Keys(), (std::vector<std::string>{"a/p1", "node-1"}));
  ASSERT_NE(store.Get("a/p1"), nullptr);
  EXPECT_EQ(store.Get("b/p1"), nullptr);
}

TEST(StoreTest, UpsertReturnsPreviousAndReindexes) {
  Store store;
  EXPECT_EQ(store.Upsert(Pod("a", "p1", {{"app", "web"}})), nullptr);
  auto previous = store.Upsert(Pod("a", "p1", {{"app", "db"}}, "", "2"));
  ASSERT_NE(previous, nullptr);
  EXPECT_EQ(ResourceVersionOf(*previous), "1");
  EXPECT_TRUE(store.ByIndex(Store::kLabelIndex, "app=web").empty());
  EXPECT_EQ(Names(store.ByIndex(Store::kLabelIndex, "app=db")), (std::vector<std::string>{"a/p1"}));
  EXPECT_EQ(store.size(), 1u);
}

TEST(StoreTest, NamespaceAndLabelIndexes) {
  Store store;
  store.Upsert(Pod("a", "p1", {{"app", "web"}, {"tier", "fe"}}));
  store.Upsert(Pod("a", "p2", {{"app", "db"}}));
  store.Upsert(Pod("b", "p3", {{"app", "web"}}));
  EXPECT_EQ(Names(store.ByIndex(Store::kNamespaceIndex, "a")),
            (std::vector<std::string>{"a/p1", "a/p2"}));
  EXPECT_EQ(Names(store.ByIndex(Store::kLabelIndex, "app=web")),
            (std::vector<std::string>{"a/p1", "b/p3"}));
  EXPECT_TRUE(store.ByIndex("no-such-index", "x").empty());
  store.Remove("a/p1");
  EXPECT_EQ(Names(store.ByIndex(Store::kLabelIndex, "app=web")),
            (std::vector<std::string>{"b/p3"}));
  EXPECT_TRUE(store.ByIndex(Store::kLabelIndex, "tier=fe").empty());
  EXPECT_EQ(store.Remove("a/p1"), nullptr);
}

TEST(StoreTest, CustomIndexerCoversExistingAndLaterObjects) {
  Store store;
  store.Upsert(Pod("a", "p1", {}, "node-1"));
  store.AddIndexer("node", [](const Object& pod) {
    return std::vector<std::string>{pod["spec"].value("nodeName", "")};
  });
  store.Upsert(Pod("a", "p2", {}, "node-1"));
  store.Upsert(Pod("a", "p3", {}, "node-2"));
  EXPECT_EQ(Names(store.ByIndex("node", "node-1")), (std::vector<std::string>{"a/p1", "a/p2"}));
  store.Upsert(Pod("a", "p2", {}, "node-2", "2"));  // moved
  EXPECT_EQ(Names(store.ByIndex("node", "node-2")), (std::vector<std::string>{"a/p2", "a/p3"}));
}

TEST(StoreTest, ReadersKeepTheirSnapshot) {
  Store store;
  store.Upsert(Pod("a", "p1", {}, "", "1"));
  ObjectPtr held = store.Get("a/p1");
  store.Upsert(Pod("a", "p1", {}, "", "2"));
  store.Remove("a/p1");
  EXPECT_EQ(ResourceVersionOf(*held), "1");
}

}  // namespace
}  // namespace shardwise::kube
