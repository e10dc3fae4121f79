#include "hack/kube-sim/selector.h"

#include <gtest/gtest.h>

namespace shardwise::kubesim {
namespace {

json WithLabels(json labels) { return {{"metadata", {{"name", "x"}, {"labels", labels}}}}; }

bool Match(const std::string& sel, const json& obj) {
  auto s = Selector::ParseLabels(sel);
  EXPECT_TRUE(s.ok()) << sel;
  return s.ok() && s.value().Matches(obj);
}

TEST(SelectorTest, LabelOperators) {
  json o = WithLabels({{"app", "web"}, {"tier", "fe"}});
  EXPECT_TRUE(Match("", o));
  EXPECT_TRUE(Match("app=web", o));
  EXPECT_TRUE(Match("app==web,tier=fe", o));
  EXPECT_FALSE(Match("app=db", o));
  EXPECT_TRUE(Match("app!=db", o));
  EXPECT_FALSE(Match("app!=web", o));
  EXPECT_TRUE(Match("app in (db, web)", o));
  EXPECT_FALSE(Match("app notin (db,web)", o));
  EXPECT_TRUE(Match("tier", o));
  EXPECT_FALSE(Match("!tier", o));
  EXPECT_TRUE(Match("!missing", o));
  EXPECT_TRUE(Match("missing!=x", o)) << "!= matches objects without the label";
}

TEST(SelectorTest, FieldSelectors) {
  json ev = {{"metadata", {{"name", "e1"}, {"namespace", "ns"}}},
             {"involvedObject", {{"kind", "Widget"}, {"name", "w1"}}}};
  auto s = Selector::ParseFields(
      "involvedObject.name=w1,involvedObject.kind=Widget,metadata.namespace=ns");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s.value().Matches(ev));
  s = Selector::ParseFields("metadata.name!=e1");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s.value().Matches(ev));
  EXPECT_FALSE(Selector::ParseFields("metadata.name").ok());
}

}  // namespace
}  // namespace shardwise::kubesim
