#include "common/relabel/template.h"

#include <gtest/gtest.h>

#include <vector>

namespace shardwise::relabel {
namespace {

// Expands `tmpl` against the full-match of `regex` on `text` (the regex must match).
std::string Expand(const std::string& regex, const std::string& text, const std::string& tmpl) {
  RE2 re("^(?:" + regex + ")$");
  EXPECT_TRUE(re.ok()) << re.error();
  std::vector<re2::StringPiece> groups(re.NumberOfCapturingGroups() + 1);
  EXPECT_TRUE(re.Match(text, 0, text.size(), RE2::ANCHOR_BOTH, groups.data(),
                       static_cast<int>(groups.size())));
  Template t = Template::Parse(tmpl, re.NamedCapturingGroups(), re.NumberOfCapturingGroups());
  std::string out;
  t.AppendTo(groups, &out);
  return out;
}

struct Case {
  const char* regex;
  const char* text;
  const char* tmpl;
  const char* want;
};

// Expected values follow Go's regexp.Expand documentation and source (extract()).
TEST(TemplateTest, ExpandsLikeGoRegexpExpand) {
  const Case cases[] = {
      {"(a)(b)", "ab", "$1-$2", "a-b"},
      {"(a)(b)", "ab", "${1}x", "ax"},
      {"(a)(b)", "ab", "$1x", ""},  // "$1x" is the group named "1x": unknown, empty
      {"(a)(b)", "ab", "$0", "ab"},
      {"(a)(b)", "ab", "$3", ""},      // out of range
      {"(a)(b)", "ab", "$01", ""},     // leading zero: a name, not a number
      {"(a)(b)", "ab", "$$1", "$1"},   // $$ is a literal $
      {"(a)(b)", "ab", "x$", "x$"},    // trailing $ is literal
      {"(a)(b)", "ab", "${1", "${1"},  // unclosed brace: literal $
      {"(a)(b)", "ab", "$-1", "$-1"},  // no name: literal $
      {"(a)(b)", "ab", "${}", "${}"},
      {"(?P<first>a)(?P<second>b)", "ab", "${second}${first}", "ba"},
      {"(?P<first>a)(?P<second>b)", "ab", "$first_", ""},  // name "first_" unknown
      {"(?P<first>a)(?P<second>b)", "ab", "$2$first", "ba"},
      {"(a)|(b)", "b", "[$1][$2]", "[][b]"},  // non-participating group is empty
      {"(.*)", "", "$1", ""},
      {"(.*)", "value", "prefix_$1", "prefix_value"},
      {"(.*)", "v", "no refs", "no refs"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Expand(c.regex, c.text, c.tmpl), c.want)
        << "regex=" << c.regex << " text=" << c.text << " template=" << c.tmpl;
  }
}

TEST(TemplateTest, LiteralAndMaxGroup) {
  std::map<std::string, int> names{{"n", 2}};
  EXPECT_TRUE(Template::Parse("plain", names, 2).is_literal());
  EXPECT_TRUE(Template::Parse("a$-", names, 2).is_literal());
  EXPECT_FALSE(Template::Parse("$$", names, 2).is_literal());
  EXPECT_FALSE(Template::Parse("$1", names, 2).is_literal());
  EXPECT_EQ(Template::Parse("$1${n}", names, 2).max_group(), 2);
  EXPECT_EQ(Template::Parse("$7", names, 2).max_group(), 0);  // out of range: dropped
}

TEST(TemplateTest, SurvivesCopyAndMove) {
  std::map<std::string, int> names;
  Template original = Template::Parse("short$1", names, 1);
  Template copy = original;
  Template moved = std::move(original);
  std::vector<re2::StringPiece> groups = {re2::StringPiece("x"), re2::StringPiece("x")};
  std::string a, b;
  copy.AppendTo(groups, &a);
  moved.AppendTo(groups, &b);
  EXPECT_EQ(a, "shortx");
  EXPECT_EQ(b, "shortx");
}

}  // namespace
}  // namespace shardwise::relabel
