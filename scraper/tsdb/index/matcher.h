// A label matcher as in PromQL and remote read: =, !=, =~, !~. Regexes use RE2 syntax and
// are fully anchored, like Prometheus's. An absent label has the value "", so a matcher
// that matches "" also selects series without the label.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace re2 {
class RE2;
}

namespace shardwise::tsdb {

class Matcher {
 public:
  enum class Type { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

  // InvalidArgument for a regex that does not compile.
  static Result<Matcher> Make(Type type, std::string name, std::string value);
  static Matcher Equal(std::string name, std::string value) {
    return *Make(Type::kEqual, std::move(name), std::move(value));
  }

  bool Matches(std::string_view value) const;
  Type type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  // name="value", name=~"value" ...
  std::string ToString() const;

 private:
  Matcher(Type type, std::string name, std::string value)
      : type_(type), name_(std::move(name)), value_(std::move(value)) {}
  Type type_;
  std::string name_;
  std::string value_;
  std::shared_ptr<const re2::RE2> re_;
};

}  // namespace shardwise::tsdb
