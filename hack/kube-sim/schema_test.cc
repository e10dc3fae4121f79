#include "hack/kube-sim/schema.h"

#include <gtest/gtest.h>

namespace shardwise::kubesim {
namespace {

const json kSchema = json::parse(R"({
  "type":"object",
  "properties":{
    "spec":{"type":"object","required":["image"],"properties":{
      "image":{"type":"string","minLength":1,"pattern":"^[a-z0-9:./-]+$"},
      "replicas":{"type":"integer","minimum":0,"maximum":10,"default":1},
      "mode":{"type":"string","enum":["fast","safe"]},
      "port":{"x-kubernetes-int-or-string":true},
      "note":{"type":"string","nullable":true},
      "tags":{"type":"array","maxItems":2,"items":{"type":"string"}},
      "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
      "limits":{"type":"object","additionalProperties":{"type":"integer"}}}}}})");

std::vector<std::string> Fields(const SchemaOutcome& o) {
  std::vector<std::string> out;
  for (const auto& c : o.causes)
    out.push_back(c["field"].get<std::string>() + ": " + c["message"].get<std::string>());
  return out;
}

TEST(SchemaTest, ValidObjectGetsDefaultsAndLosesUnknownFields) {
  json obj = json::parse(R"({"apiVersion":"example.com/v1","kind":"W","metadata":{"name":"w","x":1},
      "spec":{"image":"nginx:1.25","bogus":true,"port":"http","note":null,"extra":{"anything":1},
      "limits":{"cpu":2}},"top":1})");
  SchemaOutcome o = ApplySchema(kSchema, obj);
  EXPECT_TRUE(o.causes.empty()) << o.causes.dump();
  EXPECT_EQ(o.pruned, (std::vector<std::string>{"spec.bogus", "top"}));
  EXPECT_EQ(obj["spec"]["replicas"], 1);
  EXPECT_EQ(obj["spec"]["extra"]["anything"], 1);
  EXPECT_EQ(obj["metadata"]["x"], 1) << "metadata is never pruned";
}

TEST(SchemaTest, EveryViolationIsACause) {
  json obj = json::parse(R"({"spec":{"replicas":-1,"mode":"slow","tags":["a","b","c"],"port":1.5,
      "limits":{"cpu":"x"}}})");
  SchemaOutcome o = ApplySchema(kSchema, obj);
  auto f = Fields(o);
  EXPECT_NE(std::find(f.begin(), f.end(), "spec.image: Required value"), f.end());
  EXPECT_NE(std::find(f.begin(), f.end(),
                      "spec.replicas: Invalid value: -1: spec.replicas in body should be greater "
                      "than or equal to 0"),
            f.end());
  EXPECT_NE(
      std::find(f.begin(), f.end(),
                "spec.mode: Unsupported value: \"slow\": supported values: \"fast\", \"safe\""),
      f.end());
  EXPECT_NE(std::find(f.begin(), f.end(),
                      "spec.limits.cpu: Invalid value: \"string\": spec.limits.cpu in body must be "
                      "of type integer: \"string\""),
            f.end());
  EXPECT_EQ(o.causes.size(), 6u) << o.causes.dump();
}

TEST(SchemaTest, PatternAndLength) {
  json obj = json::parse(R"({"spec":{"image":"UPPER"}})");
  SchemaOutcome o = ApplySchema(kSchema, obj);
  ASSERT_EQ(o.causes.size(), 1u);
  EXPECT_EQ(o.causes[0]["message"],
            "Invalid value: \"UPPER\": spec.image in body should match '^[a-z0-9:./-]+$'");
  obj = json::parse(R"({"spec":{"image":""}})");
  o = ApplySchema(kSchema, obj);
  ASSERT_EQ(o.causes.size(), 2u) << o.causes.dump();
}

}  // namespace
}  // namespace shardwise::kubesim
