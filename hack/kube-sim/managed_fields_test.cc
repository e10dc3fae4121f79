#include "hack/kube-sim/managed_fields.h"

#include <gtest/gtest.h>

namespace shardwise::kubesim {
namespace {

ApplyRequest Req(const std::string& manager, bool force = false) {
  ApplyRequest r;
  r.manager = manager;
  r.api_version = "example.com/v1";
  r.force = force;
  r.group = "example.com";
  r.plural = "widgets";
  r.name = "w";
  return r;
}

TEST(ManagedFieldsTest, FieldSetsRoundTripThroughFieldsV1) {
  json obj =
      json::parse(R"({"apiVersion":"v1","kind":"X","metadata":{"name":"n","labels":{"a":"b"}},
      "spec":{"replicas":1,"list":[1,2],"empty":{}}})");
  FieldSet fs = LeafFields(obj, false);
  EXPECT_EQ(fs.size(), 4u);
  EXPECT_EQ(FieldSetFromV1(FieldSetToV1(fs)), fs);
  EXPECT_EQ(FieldPathString({"spec", "replicas"}), ".spec.replicas");
}

TEST(ManagedFieldsTest, ConflictWithAnotherManagerUnlessForced) {
  json applied = json::parse(R"({"metadata":{"name":"w"},"spec":{"replicas":1,"image":"a"}})");
  auto created = ServerSideApply(json(), applied, Req("kubectl"));
  ASSERT_TRUE(created.ok());
  json live = created.value();
  json patched = live;
  patched["spec"]["replicas"] = 4;
  RecordUpdate(live, patched, "kubectl-patch", "example.com/v1", "", false);

  auto conflict = ServerSideApply(patched, applied, Req("kubectl"));
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code(), 409);
  EXPECT_EQ(conflict.error().message(),
            "Apply failed with 1 conflict: conflict with \"kubectl-patch\" using example.com/v1: "
            ".spec.replicas");

  auto forced = ServerSideApply(patched, applied, Req("kubectl", true));
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced.value()["spec"]["replicas"], 1);
  for (const auto& e : forced.value()["metadata"]["managedFields"])
    EXPECT_NE(e["manager"], "kubectl-patch") << "the forced field moved to the applier";
}

TEST(ManagedFieldsTest, SameValueIsSharedNotConflicting) {
  json applied = json::parse(R"({"metadata":{"name":"w"},"spec":{"replicas":1}})");
  auto a = ServerSideApply(json(), applied, Req("one"));
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(ServerSideApply(a.value(), applied, Req("two")).ok());
}

// A Service applied client-side, then server-side: its ports list on the server holds the
// defaulted protocol; the applied one does not. Real apply merges ports by key and finds
// the same values, so no conflict and nothing changes.
TEST(ManagedFieldsTest, AListTheLiveObjectCoversIsNoConflictAndKeepsServerDefaults) {
  json live = json::parse(R"({"metadata":{"name":"w"},
      "spec":{"ports":[{"port":80,"targetPort":8080,"protocol":"TCP"}],"type":"ClusterIP"}})");
  json created = live;
  RecordUpdate(json(), created, "kubectl-client-side-apply", "v1", "", false);
  json applied =
      json::parse(R"({"metadata":{"name":"w"},"spec":{"ports":[{"port":80,"targetPort":8080}]}})");
  auto a = ServerSideApply(created, applied, Req("kubectl"));
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a.value()["spec"]["ports"], live["spec"]["ports"]);

  // A different value in the list still conflicts; and with force it replaces the list.
  json changed = json::parse(R"({"metadata":{"name":"w"},"spec":{"ports":[{"port":81}]}})");
  auto conflict = ServerSideApply(created, changed, Req("kubectl"));
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().message(),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: "
            ".spec.ports");
  auto forced = ServerSideApply(created, changed, Req("kubectl", true));
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced.value()["spec"]["ports"], changed["spec"]["ports"]);
}

TEST(ManagedFieldsTest, ConflictsNameTheSubresourceAManagerWroteThrough) {
  auto a = ServerSideApply(
      json(), json::parse(R"({"metadata":{"name":"w"},"spec":{"replicas":1}})"), Req("kubectl"));
  ASSERT_TRUE(a.ok());
  json scaled = a.value();
  scaled["spec"]["replicas"] = 5;
  RecordUpdate(a.value(), scaled, "kubectl", "example.com/v1", "scale", false);
  auto conflict = ServerSideApply(
      scaled, json::parse(R"({"metadata":{"name":"w"},"spec":{"replicas":1}})"), Req("kubectl"));
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().message(),
            "Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" "
            "using example.com/v1: .spec.replicas");
}

// An operator applies what it owns with ownerReferences (and may hold finalizers): they
// must be stored, or the garbage collector never deletes the objects with their owner.
TEST(ManagedFieldsTest, ApplyStoresOwnerReferencesAndFinalizers) {
  json applied = json::parse(R"({"metadata":{"name":"w","labels":{"a":"b"},
      "ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"o","uid":"u1","controller":true}],
      "finalizers":["example.com/hold"]},"spec":{"x":1}})");
  auto a = ServerSideApply(json(), applied, Req("op"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value()["metadata"]["ownerReferences"], applied["metadata"]["ownerReferences"]);
  EXPECT_EQ(a.value()["metadata"]["finalizers"], applied["metadata"]["finalizers"]);
  EXPECT_TRUE(a.value()["metadata"]["managedFields"][0]["fieldsV1"]["f:metadata"].contains(
      "f:ownerReferences"));
  // Applied again without them, by the same manager: they go, as other fields it dropped.
  auto b = ServerSideApply(a.value(), json::parse(R"({"metadata":{"name":"w"},"spec":{"x":1}})"),
                           Req("op"));
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b.value()["metadata"].contains("ownerReferences"));
}

TEST(ManagedFieldsTest, FieldsNoLongerAppliedAreRemoved) {
  auto a = ServerSideApply(json(), json::parse(R"({"metadata":{"name":"w"},"spec":{"a":1,"b":2}})"),
                           Req("m"));
  ASSERT_TRUE(a.ok());
  auto b = ServerSideApply(a.value(), json::parse(R"({"metadata":{"name":"w"},"spec":{"a":1}})"),
                           Req("m"));
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b.value()["spec"].contains("b"));
}

}  // namespace
}  // namespace shardwise::kubesim
