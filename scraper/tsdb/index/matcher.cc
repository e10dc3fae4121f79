#include "scraper/tsdb/index/matcher.h"

#include <re2/re2.h>

namespace shardwise::tsdb {

Result<Matcher> Matcher::Make(Type type, std::string name, std::string value) {
  Matcher m(type, std::move(name), std::move(value));
  if (type == Type::kRegexMatch || type == Type::kRegexNoMatch) {
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const RE2>("^(?:" + m.value_ + ")$", options);
    if (!re->ok()) {
      return Status::InvalidArgument("bad regex in matcher " + m.ToString() + ": " + re->error());
    }
    m.re_ = std::move(re);
  }
  return m;
}

bool Matcher::Matches(std::string_view value) const {
  switch (type_) {
    case Type::kEqual:
      return value == value_;
    case Type::kNotEqual:
      return value != value_;
    case Type::kRegexMatch:
      return RE2::FullMatch(value, *re_);
    case Type::kRegexNoMatch:
      return !RE2::FullMatch(value, *re_);
  }
  return false;
}

std::string Matcher::ToString() const {
  static constexpr const char* kOps[] = {"=", "!=", "=~", "!~"};
  return name_ + kOps[static_cast<int>(type_)] + "\"" + value_ + "\"";
}

}  // namespace shardwise::tsdb
