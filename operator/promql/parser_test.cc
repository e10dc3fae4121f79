#include "operator/promql/parser.h"

#include <gtest/gtest.h>

namespace shardwise::promql {
namespace {

TEST(ParseDuration, Units) {
  EXPECT_EQ(*ParseDuration("5m"), 300000);
  EXPECT_EQ(*ParseDuration("1h30m"), 5400000);
  EXPECT_EQ(*ParseDuration("250ms"), 250);
  EXPECT_EQ(*ParseDuration("2d"), 172800000);
  EXPECT_FALSE(ParseDuration("5").ok());
  EXPECT_FALSE(ParseDuration("m").ok());
  EXPECT_FALSE(ParseDuration("5x").ok());
}

TEST(Parse, SelectorsAndMatchers) {
  auto e =
      Parse(R"(http_requests_total{job="api",code=~"5..", path!="/", x!~'a|b'}[2m] offset 1m)");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->kind, ExprKind::kMatrixSelector);
  EXPECT_EQ((*e)->range_ms, 120000);
  EXPECT_EQ((*e)->offset_ms, 60000);
  ASSERT_EQ((*e)->matchers.size(), 5u);
  EXPECT_EQ((*e)->matchers[0].ToString(), "__name__=\"http_requests_total\"");
  EXPECT_TRUE((*e)->matchers[2].Matches("500"));
  EXPECT_FALSE((*e)->matchers[2].Matches("5000"));  // fully anchored
  EXPECT_FALSE((*e)->matchers[4].Matches("a"));
  EXPECT_TRUE((*e)->matchers[4].Matches("ab"));
}

TEST(Parse, PrecedenceAndAssociativity) {
  auto e = Parse("1 + 2 * 3 ^ 2 ^ 0.5 - -1");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->str, "-");
  EXPECT_EQ((*e)->lhs->str, "+");
  EXPECT_EQ((*e)->lhs->rhs->str, "*");
  EXPECT_EQ((*e)->lhs->rhs->rhs->str, "^");
  EXPECT_EQ((*e)->lhs->rhs->rhs->rhs->str, "^");  // right-associative
  auto o = Parse("a or b and c unless d");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ((*o)->str, "or");
  EXPECT_EQ((*o)->rhs->str, "unless");
}

TEST(Parse, ModifiersAndAggregations) {
  auto e = Parse("sum by (job) (rate(x[5m])) / on(job) group_left(team) max without(instance) (y)");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->matching.card, Cardinality::kManyToOne);
  EXPECT_TRUE((*e)->matching.on);
  EXPECT_EQ((*e)->matching.include, std::vector<std::string>{"team"});
  EXPECT_EQ((*e)->lhs->grouping, std::vector<std::string>{"job"});
  EXPECT_TRUE((*e)->rhs->without);
  auto post = Parse("sum(x) by (a, b,)");
  ASSERT_TRUE(post.ok()) << post.status().ToString();
  EXPECT_EQ((*post)->grouping.size(), 2u);
  auto b = Parse("x > bool 1");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE((*b)->return_bool);
  EXPECT_TRUE(Parse("topk(3, x)").ok());
  EXPECT_TRUE(Parse("histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))").ok());
  EXPECT_TRUE(Parse("round(x, 0.5) + clamp_min(x, 0) + vector(time())").ok());
  EXPECT_TRUE(Parse("{__name__=~\"x.*\"}").ok());
}

struct BadQuery {
  const char* query;
  const char* error;  // a substring of the message
};

class ParseErrors : public testing::TestWithParam<BadQuery> {};

TEST_P(ParseErrors, ClearMessageWithPosition) {
  auto e = Parse(GetParam().query);
  ASSERT_FALSE(e.ok()) << GetParam().query;
  EXPECT_EQ(e.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(e.status().message().find(GetParam().error), std::string::npos) << e.status().message();
  EXPECT_EQ(e.status().message().rfind("1:", 0), 0u) << e.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseErrors,
    testing::Values(
        BadQuery{"rate(x)", "1:6: parse error: expected type range vector"},
        BadQuery{"1 > 2", "comparisons between scalars must use BOOL"},
        BadQuery{"x{job=\"a\"", "expected \",\" or \"}\""},
        BadQuery{"foo(x)", "unknown or unsupported function \"foo\""},
        BadQuery{"x{a=~\"(\"}", "invalid regular expression"},
        BadQuery{"{a=\"\"}", "at least one non-empty matcher"}, BadQuery{"x[5m][1m]", "unexpected"},
        BadQuery{"(x + 1)[5m]", "ranges only allowed for vector selectors"},
        BadQuery{"x[5m:1m]", "subqueries are not supported"},
        BadQuery{"1 and 2", "set operator \"and\" not allowed"},
        BadQuery{"x + group_left(a) y", "group modifiers need on(...) or ignoring(...)"},
        BadQuery{"sum(x[5m])", "expected type instant vector in aggregation"},
        BadQuery{"x @ 1", "unexpected character '@'"},
        BadQuery{"\"abc", "unterminated quoted string"},
        BadQuery{"rate(x[5m]", "expected \",\" or \")\""}, BadQuery{"x + 1 bool", "unexpected"}));

}  // namespace
}  // namespace shardwise::promql
