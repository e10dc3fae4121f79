#include "common/relabel/relabeler.h"

#include <gtest/gtest.h>

#include <optional>

#include "common/relabel/parse.h"

namespace shardwise::relabel {
namespace {

struct Case {
  const char* name;
  const char* rules_yaml;  // Prometheus relabel_configs
  Labels input;
  std::optional<Labels> want;  // nullopt: dropped
};

void RunCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    auto configs = ParseYaml(c.rules_yaml);
    ASSERT_TRUE(configs.ok()) << c.name << ": " << configs.status().ToString();
    auto relabeler = Relabeler::Compile(*configs);
    ASSERT_TRUE(relabeler.ok()) << c.name << ": " << relabeler.status().ToString();
    std::optional<Labels> got = relabeler->Process(c.input);
    ASSERT_EQ(got.has_value(), c.want.has_value()) << c.name;
    if (got) {
      EXPECT_EQ(got->ToString(), c.want->ToString()) << c.name;
    }
  }
}

TEST(RelabelerTest, Replace) {
  RunCases({
      {"copy with default regex",
       "[{source_labels: [a], target_label: b}]",
       {{"a", "foo"}},
       Labels{{"a", "foo"}, {"b", "foo"}}},
      {"regex must match the whole value (anchored)",
       "[{source_labels: [a], regex: 'f', target_label: b}]",
       {{"a", "foo"}},
       Labels{{"a", "foo"}}},
      {"no match leaves everything",
       "[{source_labels: [a], regex: 'x(.*)', target_label: a}]",
       {{"a", "foo"}},
       Labels{{"a", "foo"}}},
      {"groups and separator",
       "[{source_labels: [a, b], separator: '/', regex: '(.*)/(.*)', "
       "target_label: c, replacement: '$2-${1}'}]",
       {{"a", "x"}, {"b", "y"}},
       Labels{{"a", "x"}, {"b", "y"}, {"c", "y-x"}}},
      {"missing source label reads as empty",
       "[{source_labels: [a, missing], regex: 'foo;', target_label: c, replacement: hit}]",
       {{"a", "foo"}},
       Labels{{"a", "foo"}, {"c", "hit"}}},
      {"empty result deletes the target",
       "[{source_labels: [missing], target_label: a}]",
       {{"a", "foo"}, {"b", "bar"}},
       Labels{{"b", "bar"}}},
      {"fast path: empty value, literal replacement sets it",
       "[{source_labels: [missing], target_label: c, replacement: fixed}]",
       {{"a", "foo"}},
       Labels{{"a", "foo"}, {"c", "fixed"}}},
      {"no source labels with literal replacement (a static label)",
       "[{target_label: env, replacement: prod}]",
       {{"a", "1"}},
       Labels{{"a", "1"}, {"env", "prod"}}},
      {"templated target name",
       "[{source_labels: [a], regex: '(.+)=(.+)', "
       "target_label: 'x_$1', replacement: '$2'}]",
       {{"a", "k=v"}},
       Labels{{"a", "k=v"}, {"x_k", "v"}}},
      {"target expanding to an invalid name does nothing",
       "[{source_labels: [a], regex: '(.*)', target_label: '${1}', replacement: v}]",
       {{"a", "1bad"}},
       Labels{{"a", "1bad"}}},
      {"target expanding to empty does nothing",
       "[{source_labels: [a], regex: '(x?)foo', target_label: '${1}', replacement: v}]",
       {{"a", "foo"}},
       Labels{{"a", "foo"}}},
      {"$1x is group '1x', which is empty",
       "[{source_labels: [a], target_label: b, replacement: '$1x'}]",
       {{"a", "foo"}},
       Labels{{"a", "foo"}}},
      {"${1}x is group 1 then x",
       "[{source_labels: [a], target_label: b, replacement: '${1}x'}]",
       {{"a", "foo"}},
       Labels{{"a", "foo"}, {"b", "foox"}}},
      {"named group",
       "[{source_labels: [a], regex: '(?P<host>[^:]+):.*', target_label: h, "
       "replacement: '${host}'}]",
       {{"a", "node1:9100"}},
       Labels{{"a", "node1:9100"}, {"h", "node1"}}},
      {"default regex does not match a newline",
       "[{source_labels: [a], target_label: b}]",
       {{"a", "line1\nline2"}},
       Labels{{"a", "line1\nline2"}}},
      {"rules see earlier rules' output",
       "[{source_labels: [a], target_label: b}, {source_labels: [b], target_label: c, "
       "replacement: 'c-$1'}]",
       {{"a", "v"}},
       Labels{{"a", "v"}, {"b", "v"}, {"c", "c-v"}}},
      {"overwrites __address__",
       "[{source_labels: [__address__], regex: '([^:]+)(?::\\d+)?', "
       "target_label: __address__, replacement: '$1:9100'}]",
       {{"__address__", "10.0.0.1:8080"}},
       Labels{{"__address__", "10.0.0.1:9100"}}},
  });
}

TEST(RelabelerTest, KeepAndDrop) {
  RunCases({
      {"keep match",
       "[{source_labels: [a], regex: 'foo|bar', action: keep}]",
       {{"a", "bar"}},
       Labels{{"a", "bar"}}},
      {"keep no match drops",
       "[{source_labels: [a], regex: 'foo', action: keep}]",
       {{"a", "foobar"}},
       std::nullopt},
      {"keep on missing label with empty-matching regex",
       "[{source_labels: [missing], regex: '', action: keep}]",
       {{"a", "1"}},
       Labels{{"a", "1"}}},
      {"keep on missing label",
       "[{source_labels: [missing], regex: '.+', action: keep}]",
       {{"a", "1"}},
       std::nullopt},
      {"drop match",
       "[{source_labels: [a], regex: 'fo+', action: drop}]",
       {{"a", "foo"}},
       std::nullopt},
      {"drop is anchored",
       "[{source_labels: [a], regex: 'fo', action: drop}]",
       {{"a", "foo"}},
       Labels{{"a", "foo"}}},
      {"drop stops later rules",
       "[{source_labels: [a], regex: 'foo', action: drop}, "
       "{target_label: b, replacement: x}]",
       {{"a", "foo"}},
       std::nullopt},
      {"keep with default regex keeps everything",
       "[{source_labels: [a], action: keep}]",
       {{"a", "anything"}},
       Labels{{"a", "anything"}}},
  });
}

TEST(RelabelerTest, KeepEqualAndDropEqual) {
  RunCases({
      {"keepequal equal",
       "[{source_labels: [a], target_label: b, action: keepequal}]",
       {{"a", "1"}, {"b", "1"}},
       Labels{{"a", "1"}, {"b", "1"}}},
      {"keepequal differ",
       "[{source_labels: [a], target_label: b, action: keepequal}]",
       {{"a", "1"}, {"b", "2"}},
       std::nullopt},
      {"keepequal both missing are equal (empty)",
       "[{source_labels: [x], target_label: y, action: keepequal}]",
       {{"a", "1"}},
       Labels{{"a", "1"}}},
      {"dropequal joined sources",
       "[{source_labels: [a, b], target_label: c, action: dropequal}]",
       {{"a", "1"}, {"b", "2"}, {"c", "1;2"}},
       std::nullopt},
      {"dropequal differ",
       "[{source_labels: [a], target_label: b, action: dropequal}]",
       {{"a", "1"}, {"b", "2"}},
       Labels{{"a", "1"}, {"b", "2"}}},
  });
}

// Expected hashmod values computed independently with Python, as Prometheus defines hashmod
// (last 8 bytes of md5 of the joined value, big-endian, modulo the modulus):
//   python3 -c 'import hashlib; d=hashlib.md5(V.encode()).digest();
//               print(int.from_bytes(d[8:], "big") % M)'
//   "foo" % 1000 = 696; "10.0.0.1:8080" % 4 = 0; "10.0.0.1:8080" % 3 = 0; "" % 7 = 1;
//   "a;b" % 2^63 = 2420134994223480074; "pod-7;ns" % 16 = 1.
TEST(RelabelerTest, HashMod) {
  RunCases({
      {"foo",
       "[{source_labels: [a], modulus: 1000, target_label: h, action: hashmod}]",
       {{"a", "foo"}},
       Labels{{"a", "foo"}, {"h", "696"}}},
      {"address mod 4",
       "[{source_labels: [__address__], modulus: 4, target_label: __tmp_hash, action: hashmod}]",
       {{"__address__", "10.0.0.1:8080"}},
       Labels{{"__address__", "10.0.0.1:8080"}, {"__tmp_hash", "0"}}},
      {"address mod 3",
       "[{source_labels: [__address__], modulus: 3, target_label: h, action: hashmod}]",
       {{"__address__", "10.0.0.1:8080"}},
       Labels{{"__address__", "10.0.0.1:8080"}, {"h", "0"}}},
      {"empty value",
       "[{source_labels: [missing], modulus: 7, target_label: h, action: hashmod}]",
       {{"a", "1"}},
       Labels{{"a", "1"}, {"h", "1"}}},
      {"joined, huge modulus",
       "[{source_labels: [a, b], modulus: 9223372036854775808, target_label: h, "
       "action: hashmod}]",
       {{"a", "a"}, {"b", "b"}},
       Labels{{"a", "a"}, {"b", "b"}, {"h", "2420134994223480074"}}},
      {"then keep one shard",
       "[{source_labels: [pod, ns], modulus: 16, target_label: __tmp_hash, action: hashmod},"
       " {source_labels: [__tmp_hash], regex: '1', action: keep}]",
       {{"pod", "pod-7"}, {"ns", "ns"}},
       Labels{{"ns", "ns"}, {"pod", "pod-7"}, {"__tmp_hash", "1"}}},
  });
}

TEST(RelabelerTest, LabelMapDropKeep) {
  RunCases({
      {"labelmap strips a prefix",
       "[{regex: '__meta_kubernetes_pod_label_(.+)', action: labelmap}]",
       {{"__meta_kubernetes_pod_label_app", "web"},
        {"__meta_kubernetes_pod_label_tier", "fe"},
        {"x", "1"}},
       Labels{{"__meta_kubernetes_pod_label_app", "web"},
              {"__meta_kubernetes_pod_label_tier", "fe"},
              {"app", "web"},
              {"tier", "fe"},
              {"x", "1"}}},
      {"labelmap with replacement template",
       "[{regex: 'a_(.*)', replacement: 'b_${1}_c', action: labelmap}]",
       {{"a_x", "1"}},
       Labels{{"a_x", "1"}, {"b_x_c", "1"}}},
      {"labelmap matches whole names only",
       "[{regex: 'a', action: labelmap, replacement: b}]",
       {{"aa", "1"}},
       Labels{{"aa", "1"}}},
      {"labelmap overwrites existing",
       "[{regex: 'src_(.*)', action: labelmap}]",
       {{"src_app", "new"}, {"app", "old"}},
       Labels{{"app", "new"}, {"src_app", "new"}}},
      {"labeldrop",
       "[{regex: '__meta_.*', action: labeldrop}]",
       {{"__meta_a", "1"}, {"__meta_b", "2"}, {"job", "j"}},
       Labels{{"job", "j"}}},
      {"labeldrop is anchored",
       "[{regex: 'meta', action: labeldrop}]",
       {{"__meta_a", "1"}},
       Labels{{"__meta_a", "1"}}},
      {"labelkeep",
       "[{regex: 'job|instance', action: labelkeep}]",
       {{"job", "j"}, {"instance", "i"}, {"other", "o"}},
       Labels{{"instance", "i"}, {"job", "j"}}},
  });
}

TEST(RelabelerTest, LowerUpper) {
  RunCases({
      {"lowercase",
       "[{source_labels: [a], target_label: b, action: lowercase}]",
       {{"a", "MiXeD-09"}},
       Labels{{"a", "MiXeD-09"}, {"b", "mixed-09"}}},
      {"uppercase in place",
       "[{source_labels: [a], target_label: a, action: uppercase}]",
       {{"a", "MiXeD"}},
       Labels{{"a", "MIXED"}}},
      {"lowercase of missing deletes the target",
       "[{source_labels: [missing], target_label: a, action: lowercase}]",
       {{"a", "X"}},
       Labels{}},
      // Go's strings.ToLower/ToUpper map every rune with Unicode's simple case mapping
      // (no ß -> SS expansion) and turn invalid UTF-8 bytes into U+FFFD. The two
      // non-ASCII results were checked with Prometheus 2.42 (/api/v1/targets).
      {"lowercase beyond ASCII",
       "[{source_labels: [a], target_label: b, action: lowercase}]",
       {{"a", "ÉCOLE Straße ΣΑΣ"}},
       Labels{{"a", "ÉCOLE Straße ΣΑΣ"}, {"b", "école straße σασ"}}},
      {"uppercase beyond ASCII",
       "[{source_labels: [a], target_label: b, action: uppercase}]",
       {{"a", "école straße ǹ"}},
       Labels{{"a", "école straße ǹ"}, {"b", "ÉCOLE STRAßE Ǹ"}}},
      {"invalid UTF-8 becomes U+FFFD",
       "[{source_labels: [a], target_label: b, action: lowercase}]",
       {{"a",
         "A\xff"
         "B"}},
       Labels{{"a",
               "A\xff"
               "B"},
              {"b",
               "a\xef\xbf\xbd"
               "b"}}},
  });
}

TEST(RelabelerTest, EmptyRelabelerKeepsEverything) {
  Relabeler r;
  Labels in{{"a", "1"}};
  auto out = r.Process(in);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, in);
  EXPECT_TRUE(r.empty());
}

TEST(RelabelerTest, CompileReportsRuleIndex) {
  std::vector<RelabelConfig> configs(2);
  configs[0].target_label = "ok";
  configs[1].target_label = "ok";
  configs[1].regex = "(unclosed";
  auto r = Relabeler::Compile(configs);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("relabel rule 1"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("(unclosed"), std::string::npos);
}

TEST(RelabelerTest, CopiesShareRulesAndKeepConfigs) {
  std::vector<RelabelConfig> configs(1);
  configs[0].source_labels = {"a"};
  configs[0].target_label = "b";
  auto r = Relabeler::Compile(configs);
  ASSERT_TRUE(r.ok());
  Relabeler copy = *r;
  EXPECT_EQ(copy.configs(), configs);
  auto out = copy.Process(Labels{{"a", "1"}});
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->Get("b"), "1");
}

}  // namespace
}  // namespace shardwise::relabel

namespace shardwise::relabel {
namespace {

// The same rules and input were run through Prometheus 2.42 (static_configs target
// 10.0.0.1:8080 with these labels, relabel_configs as below); `want` is the label set its
// /api/v1/targets reported, minus "instance", which Prometheus adds after relabeling.
TEST(RelabelerTest, MatchesPrometheus242) {
  auto configs = ParseYaml(R"(
- {source_labels: [a], modulus: 1000, target_label: h_foo, action: hashmod}
- {source_labels: [__address__], modulus: 4, target_label: h_addr4, action: hashmod}
- {source_labels: [__address__], modulus: 3, target_label: h_addr3, action: hashmod}
- {source_labels: [missing], modulus: 7, target_label: h_empty, action: hashmod}
- {source_labels: [pod, ns], modulus: 16, target_label: h_podns, action: hashmod}
- {source_labels: [a], target_label: r1x, replacement: '$1x'}
- {source_labels: [a], target_label: r1brace, replacement: '${1}x'}
- {source_labels: [a], target_label: rdollar, replacement: '$$1'}
- {source_labels: [a], target_label: rmalformed, replacement: '${1'}
- {source_labels: [a], regex: '(x?)foo', target_label: '${1}', replacement: v}
- {source_labels: [a], regex: 'f', target_label: anchored, replacement: hit}
- {regex: '__meta_x_(.+)', action: labelmap}
- {source_labels: [b], target_label: lower, action: lowercase}
- {source_labels: [b], target_label: upper, action: uppercase}
- {source_labels: [a, missing], regex: 'foo;', target_label: joined, replacement: yes}
- {source_labels: [a], target_label: a_copy}
- {source_labels: [a_copy], target_label: a, action: keepequal}
)");
  ASSERT_TRUE(configs.ok()) << configs.status().ToString();
  auto r = Relabeler::Compile(*configs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto out = r->Process(Labels{{"__address__", "10.0.0.1:8080"},
                               {"job", "relabel-check"},
                               {"a", "foo"},
                               {"b", "MiXeD"},
                               {"__meta_x_app", "web"},
                               {"__meta_x_tier", "fe"},
                               {"pod", "pod-7"},
                               {"ns", "ns"}});
  ASSERT_TRUE(out.has_value());
  std::vector<Label> visible;
  for (const Label& l : *out) {
    if (!l.name.starts_with("__")) visible.push_back(l);
  }
  Labels want{
      {"a", "foo"},          {"a_copy", "foo"},        {"app", "web"},      {"b", "MiXeD"},
      {"h_addr3", "0"},      {"h_addr4", "0"},         {"h_empty", "1"},    {"h_foo", "696"},
      {"h_podns", "1"},      {"job", "relabel-check"}, {"joined", "yes"},   {"lower", "mixed"},
      {"ns", "ns"},          {"pod", "pod-7"},         {"r1brace", "foox"}, {"rdollar", "$1"},
      {"rmalformed", "${1"}, {"tier", "fe"},           {"upper", "MIXED"}};
  EXPECT_EQ(Labels::FromSorted(visible).ToString(), want.ToString());
}

}  // namespace
}  // namespace shardwise::relabel
