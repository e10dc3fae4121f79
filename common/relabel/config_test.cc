#include "common/relabel/config.h"

#include <gtest/gtest.h>

namespace shardwise::relabel {
namespace {

TEST(ActionTest, ParsesCaseInsensitively) {
  EXPECT_EQ(*ParseAction("replace"), Action::kReplace);
  EXPECT_EQ(*ParseAction("LabelMap"), Action::kLabelMap);
  EXPECT_EQ(*ParseAction("KEEPEQUAL"), Action::kKeepEqual);
  EXPECT_EQ(*ParseAction("hashmod"), Action::kHashMod);
  auto bad = ParseAction("rename");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("rename"), std::string::npos);
  for (Action a : {Action::kReplace, Action::kKeep, Action::kDrop, Action::kKeepEqual,
                   Action::kDropEqual, Action::kHashMod, Action::kLabelMap, Action::kLabelDrop,
                   Action::kLabelKeep, Action::kLowercase, Action::kUppercase}) {
    EXPECT_EQ(*ParseAction(ActionName(a)), a);
  }
}

RelabelConfig Make(Action action) {
  RelabelConfig c;
  c.action = action;
  return c;
}

// Each case mirrors a check in Prometheus's relabel.Config.Validate.
TEST(ValidateTest, RejectsWhatPrometheusRejects) {
  struct Case {
    const char* what;
    RelabelConfig config;
    const char* message_part;  // nullptr: valid
  };
  auto with = [](Action a, auto edit) {
    RelabelConfig c = Make(a);
    edit(c);
    return c;
  };
  const Case cases[] = {
      {"replace needs target", Make(Action::kReplace), "requires a target_label"},
      {"replace ok", with(Action::kReplace, [](auto& c) { c.target_label = "x"; }), nullptr},
      {"replace invalid target", with(Action::kReplace, [](auto& c) { c.target_label = "1x"; }),
       "invalid target_label"},
      {"replace templated target",
       with(Action::kReplace, [](auto& c) { c.target_label = "l_${1}"; }), nullptr},
      {"replace bad templated target",
       with(Action::kReplace, [](auto& c) { c.target_label = "a-$1"; }), "invalid target_label"},
      {"bad regex", with(Action::kKeep, [](auto& c) { c.regex = "a("; }), "missing )"},
      {"bad source label", with(Action::kKeep, [](auto& c) { c.source_labels = {"a-b"}; }),
       "not a valid label name"},
      {"hashmod no modulus", with(Action::kHashMod, [](auto& c) { c.target_label = "x"; }),
       "non-zero modulus"},
      {"hashmod ok",
       with(Action::kHashMod,
            [](auto& c) {
              c.target_label = "x";
              c.modulus = 3;
            }),
       nullptr},
      {"hashmod templated target",
       with(Action::kHashMod,
            [](auto& c) {
              c.target_label = "$1";
              c.modulus = 3;
            }),
       "invalid target_label"},
      {"lowercase with replacement",
       with(Action::kLowercase,
            [](auto& c) {
              c.target_label = "x";
              c.replacement = "y";
            }),
       "replacement cannot be set"},
      {"uppercase ok", with(Action::kUppercase, [](auto& c) { c.target_label = "x"; }), nullptr},
      {"keepequal with regex",
       with(Action::kKeepEqual,
            [](auto& c) {
              c.target_label = "x";
              c.regex = "a";
            }),
       "only source_labels and target_label"},
      {"dropequal needs target", Make(Action::kDropEqual), "requires a target_label"},
      {"labelmap bad replacement", with(Action::kLabelMap, [](auto& c) { c.replacement = "-$1"; }),
       "invalid replacement"},
      {"labelmap ok", with(Action::kLabelMap, [](auto& c) { c.regex = "__meta_(.+)"; }), nullptr},
      {"labeldrop with target", with(Action::kLabelDrop, [](auto& c) { c.target_label = "x"; }),
       "takes only a regex"},
      {"labelkeep with sources", with(Action::kLabelKeep, [](auto& c) { c.source_labels = {"a"}; }),
       "takes only a regex"},
      {"keep ok", Make(Action::kKeep), nullptr},
  };
  for (const Case& c : cases) {
    Status st = Validate(c.config);
    if (c.message_part == nullptr) {
      EXPECT_TRUE(st.ok()) << c.what << ": " << st.ToString();
    } else {
      EXPECT_FALSE(st.ok()) << c.what;
      EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << c.what;
      EXPECT_NE(st.message().find(c.message_part), std::string::npos)
          << c.what << ": " << st.message();
    }
  }
}

}  // namespace
}  // namespace shardwise::relabel
