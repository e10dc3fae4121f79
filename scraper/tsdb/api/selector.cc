#include "scraper/tsdb/api/selector.h"

#include <cctype>
#include <string>

namespace shardwise::tsdb::api {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  Result<std::vector<Matcher>> Parse() {
    std::vector<Matcher> out;
    SkipSpace();
    if (!AtEnd() && IsNameStart(Peek(), true)) {
      std::string name = Identifier(true);
      out.push_back(Matcher::Equal("__name__", name));
      SkipSpace();
    }
    if (!AtEnd() && Peek() == '{') {
      ++pos_;
      SkipSpace();
      while (!AtEnd() && Peek() != '}') {
        if (!IsNameStart(Peek(), false)) return Error("expected label name");
        std::string name = Identifier(false);
        SkipSpace();
        Matcher::Type type;
        if (Consume("=~")) {
          type = Matcher::Type::kRegexMatch;
        } else if (Consume("!~")) {
          type = Matcher::Type::kRegexNoMatch;
        } else if (Consume("!=")) {
          type = Matcher::Type::kNotEqual;
        } else if (Consume("=")) {
          type = Matcher::Type::kEqual;
        } else {
          return Error("expected one of =, !=, =~, !~");
        }
        SkipSpace();
        auto value = String();
        if (!value.ok()) return value.status();
        auto m = Matcher::Make(type, std::move(name), std::move(*value));
        if (!m.ok()) return m.status();
        out.push_back(std::move(*m));
        SkipSpace();
        if (!AtEnd() && Peek() == ',') {
          ++pos_;
          SkipSpace();
        } else if (AtEnd() || Peek() != '}') {
          return Error("expected , or }");
        }
      }
      if (AtEnd()) return Error("unclosed {");
      ++pos_;
      SkipSpace();
    }
    if (!AtEnd()) return Error("unexpected character");
    if (out.empty()) return Status::InvalidArgument("empty selector");
    return out;
  }

 private:
  static bool IsNameStart(char c, bool metric) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (metric && c == ':');
  }
  static bool IsNameChar(char c, bool metric) {
    return IsNameStart(c, metric) || std::isdigit(static_cast<unsigned char>(c));
  }
  bool AtEnd() const { return pos_ >= in_.size(); }
  char Peek() const { return in_[pos_]; }
  void SkipSpace() {
    while (!AtEnd() && std::isspace(static_cast<unsigned char>(Peek()))) ++pos_;
  }
  bool Consume(std::string_view token) {
    if (in_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }
  std::string Identifier(bool metric) {
    size_t start = pos_;
    while (!AtEnd() && IsNameChar(Peek(), metric)) ++pos_;
    return std::string(in_.substr(start, pos_ - start));
  }
  Status Error(std::string_view what) const {
    return Status::InvalidArgument("parse error at char " + std::to_string(pos_ + 1) + ": " +
                                   std::string(what) + " in selector " + std::string(in_));
  }

  Result<std::string> String() {
    if (AtEnd()) return Error("expected string");
    char quote = Peek();
    if (quote != '"' && quote != '\'' && quote != '`') return Error("expected string");
    ++pos_;
    std::string out;
    while (!AtEnd() && Peek() != quote) {
      char c = in_[pos_++];
      if (c != '\\' || quote == '`') {
        out.push_back(c);
        continue;
      }
      if (AtEnd()) break;
      char e = in_[pos_++];
      switch (e) {
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 'a':
          out.push_back('\a');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'v':
          out.push_back('\v');
          break;
        case '\\':
        case '"':
        case '\'':
          out.push_back(e);
          break;
        case 'u':
        case 'U':
        case 'x': {
          int digits = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
          if (pos_ + digits > in_.size()) return Error("short escape");
          uint32_t cp = 0;
          for (int i = 0; i < digits; ++i) {
            char h = in_[pos_++];
            if (!std::isxdigit(static_cast<unsigned char>(h))) return Error("bad escape");
            cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                     ? h - '0'
                                                     : (std::tolower(h) - 'a' + 10));
          }
          if (e == 'x') {
            out.push_back(static_cast<char>(cp));
          } else {
            AppendUtf8(cp, &out);
          }
          break;
        }
        default:
          return Error("unknown escape");
      }
    }
    if (AtEnd()) return Error("unterminated string");
    ++pos_;
    return out;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::vector<Matcher>> ParseSelector(std::string_view text) { return Parser(text).Parse(); }

}  // namespace shardwise::tsdb::api
