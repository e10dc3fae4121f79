#include "hack/kube-sim/auth/protobuf_reviews.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace shardwise::kubesim {
namespace {

// One decoded field: varints in `number`, length-delimited values in `bytes`.
struct Field {
  uint32_t tag = 0;
  uint64_t number = 0;
  std::string_view bytes;
};

// The fields of one message, in order; nullopt when the encoding is broken.
std::optional<std::vector<Field>> Fields(std::string_view in) {
  std::vector<Field> out;
  size_t i = 0;
  auto varint = [&](uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (i >= in.size()) return false;
      uint8_t b = static_cast<uint8_t>(in[i++]);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  };
  while (i < in.size()) {
    uint64_t key;
    if (!varint(&key)) return std::nullopt;
    Field f;
    f.tag = static_cast<uint32_t>(key >> 3);
    switch (key & 7) {
      case 0:
        if (!varint(&f.number)) return std::nullopt;
        break;
      case 1:
        if (in.size() - i < 8) return std::nullopt;
        i += 8;
        break;
      case 2: {
        uint64_t len;
        if (!varint(&len) || len > in.size() - i) return std::nullopt;
        f.bytes = in.substr(i, len);
        i += len;
        break;
      }
      case 5:
        if (in.size() - i < 4) return std::nullopt;
        i += 4;
        break;
      default:
        return std::nullopt;
    }
    out.push_back(f);
  }
  return out;
}

// Decodes a message whose fields are strings (`names`: tag → JSON key; repeated ones
// listed in `repeated`), booleans/integers (`numbers`) and nested messages (`nested`).
struct Shape {
  std::map<uint32_t, std::string> strings;
  std::map<uint32_t, std::string> repeated;
  std::map<uint32_t, std::string> numbers;
  std::map<uint32_t, std::pair<std::string, const Shape*>> nested;
};

std::optional<json> Decode(std::string_view in, const Shape& shape) {
  auto fields = Fields(in);
  if (!fields) return std::nullopt;
  json out = json::object();
  for (const Field& f : *fields) {
    if (auto s = shape.strings.find(f.tag); s != shape.strings.end()) {
      out[s->second] = std::string(f.bytes);
    } else if (auto r = shape.repeated.find(f.tag); r != shape.repeated.end()) {
      out[r->second].push_back(std::string(f.bytes));
    } else if (auto n = shape.numbers.find(f.tag); n != shape.numbers.end()) {
      out[n->second] = static_cast<int64_t>(f.number);
    } else if (auto m = shape.nested.find(f.tag); m != shape.nested.end()) {
      auto sub = Decode(f.bytes, *m->second.second);
      if (!sub) return std::nullopt;
      out[m->second.first] = *sub;
    }
  }
  return out;
}

const Shape kResourceAttributes{{{1, "namespace"},
                                 {2, "verb"},
                                 {3, "group"},
                                 {4, "version"},
                                 {5, "resource"},
                                 {6, "subresource"},
                                 {7, "name"}},
                                {},
                                {},
                                {}};
const Shape kNonResourceAttributes{{{1, "path"}, {2, "verb"}}, {}, {}, {}};
const Shape kSelfAccessSpec{{},
                            {},
                            {},
                            {{1, {"resourceAttributes", &kResourceAttributes}},
                             {2, {"nonResourceAttributes", &kNonResourceAttributes}}}};
// extra (tag 5, a map) is not decoded: kubectl never sends it.
const Shape kAccessSpec{{{3, "user"}, {6, "uid"}},
                        {{4, "groups"}},
                        {},
                        {{1, {"resourceAttributes", &kResourceAttributes}},
                         {2, {"nonResourceAttributes", &kNonResourceAttributes}}}};
const Shape kRulesSpec{{{1, "namespace"}}, {}, {}, {}};
const Shape kBoundRef{{{1, "kind"}, {2, "apiVersion"}, {3, "name"}, {4, "uid"}}, {}, {}, {}};
const Shape kTokenRequestSpec{
    {}, {{1, "audiences"}}, {{4, "expirationSeconds"}}, {{3, {"boundObjectRef", &kBoundRef}}}};
const Shape kTokenReviewSpec{{{1, "token"}}, {{2, "audiences"}}, {}, {}};
const Shape kEmpty{{}, {}, {}, {}};

const Shape* SpecShape(const std::string& kind) {
  if (kind == "SelfSubjectAccessReview") return &kSelfAccessSpec;
  if (kind == "SubjectAccessReview" || kind == "LocalSubjectAccessReview") return &kAccessSpec;
  if (kind == "SelfSubjectRulesReview") return &kRulesSpec;
  if (kind == "TokenRequest") return &kTokenRequestSpec;
  if (kind == "TokenReview") return &kTokenReviewSpec;
  if (kind == "SelfSubjectReview") return &kEmpty;
  return nullptr;
}

}  // namespace

ApiResult<json> DecodeReviewProtobuf(std::string_view body) {
  static constexpr std::string_view kMagic("k8s\0", 4);
  auto bad = [] { return ApiError::BadRequest("the body of the request is not valid protobuf"); };
  if (body.substr(0, 4) != kMagic) return bad();
  auto unknown = Fields(body.substr(4));
  if (!unknown) return bad();
  std::string api_version, kind;
  std::string_view raw;
  for (const Field& f : *unknown) {
    if (f.tag == 1) {
      auto tm = Fields(f.bytes);
      if (!tm) return bad();
      for (const Field& t : *tm) {
        if (t.tag == 1) api_version = std::string(t.bytes);
        if (t.tag == 2) kind = std::string(t.bytes);
      }
    } else if (f.tag == 2) {
      raw = f.bytes;
    }
  }
  const Shape* spec_shape = SpecShape(kind);
  if (!spec_shape)
    return ApiError::UnsupportedMediaType(
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json, application/yaml");
  auto object = Fields(raw);
  if (!object) return bad();
  json out = {{"apiVersion", api_version}, {"kind", kind}, {"spec", json::object()}};
  for (const Field& f : *object) {
    if (f.tag != 2) continue;  // metadata (1) and status (3) are not read
    auto spec = Decode(f.bytes, *spec_shape);
    if (!spec) return bad();
    out["spec"] = *spec;
  }
  return out;
}

}  // namespace shardwise::kubesim
