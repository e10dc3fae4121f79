#include "operator/discovery/label_selector_text.h"

#include <gtest/gtest.h>

namespace shardwise::opdiscovery {
namespace {

bool Match(std::string_view sel, std::map<std::string, std::string> labels) {
  auto s = ParseLabelSelectorText(sel);
  EXPECT_TRUE(s.ok()) << sel << ": " << s.status().ToString();
  return s.ok() && s->Matches(labels);
}

TEST(LabelSelectorTextTest, Operators) {
  std::map<std::string, std::string> pod = {{"shardwise.io/pool", "main"}, {"tier", "a"}};
  EXPECT_TRUE(Match("", pod));
  EXPECT_TRUE(Match("shardwise.io/pool=main", pod));
  EXPECT_TRUE(Match("shardwise.io/pool==main,tier", pod));
  EXPECT_FALSE(Match("shardwise.io/pool!=main", pod));
  EXPECT_TRUE(Match("tier in (a, b)", pod));
  EXPECT_FALSE(Match("tier notin (a,b)", pod));
  EXPECT_TRUE(Match("!absent", pod));
  EXPECT_FALSE(Match("!tier", pod));
  EXPECT_FALSE(Match("absent", pod));
  EXPECT_TRUE(Match(" shardwise.io/pool = main , tier in (x,a) ", pod));
}

TEST(LabelSelectorTextTest, BadInputIsAnError) {
  for (const char* bad :
       {"a=(b", "a in b", "a in (b", "=b", "a,,b", "a ~ b", "a=b c", "a in ((b))", "a)"}) {
    EXPECT_FALSE(ParseLabelSelectorText(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace shardwise::opdiscovery
