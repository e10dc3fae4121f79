#include "operator/discovery/label_selector_text.h"

#include <cctype>
#include <string>
#include <vector>

namespace shardwise::opdiscovery {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool ValidToken(std::string_view s) {
  if (s.empty() || s.size() > 316) return false;  // prefix (253) + '/' + name (63)
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != '/') {
      return false;
    }
  }
  return true;
}

bool ValidValue(std::string_view s) {
  return s.empty() || (ValidToken(s) && s.find('/') == s.npos);
}

// Splits at commas outside parentheses.
Result<std::vector<std::string_view>> SplitTerms(std::string_view text) {
  std::vector<std::string_view> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || (text[i] == ',' && depth == 0)) {
      out.push_back(Trim(text.substr(start, i - start)));
      start = i + 1;
    } else if (text[i] == '(') {
      if (++depth > 1) return Status::InvalidArgument("label selector: nested parentheses");
    } else if (text[i] == ')') {
      if (--depth < 0) return Status::InvalidArgument("label selector: unbalanced parentheses");
    }
  }
  if (depth != 0) return Status::InvalidArgument("label selector: unbalanced parentheses");
  return out;
}

}  // namespace

Result<LabelSelector> ParseLabelSelectorText(std::string_view text) {
  LabelSelector sel;
  text = Trim(text);
  if (text.empty()) return sel;
  auto terms = SplitTerms(text);
  if (!terms.ok()) return terms.status();
  for (std::string_view term : *terms) {
    auto bad = [&](const char* why) {
      return Status::InvalidArgument("label selector: " + std::string(why) + " in \"" +
                                     std::string(term) + "\"");
    };
    if (term.empty()) return bad("empty requirement");
    SelectorRequirement r;
    size_t op = term.find_first_of("=!");
    if (term.front() == '!') {
      r.key = std::string(Trim(term.substr(1)));
      r.op = "DoesNotExist";
    } else if (op != std::string_view::npos) {
      std::string_view key = Trim(term.substr(0, op));
      std::string_view rest = term.substr(op);
      bool negate = rest.substr(0, 2) == "!=";
      if (negate) {
        rest.remove_prefix(2);
      } else if (rest.substr(0, 2) == "==") {
        rest.remove_prefix(2);
      } else if (rest.front() == '=') {
        rest.remove_prefix(1);
      } else {
        return bad("unknown operator");
      }
      r.key = std::string(key);
      r.op = negate ? "NotIn" : "In";
      std::string_view value = Trim(rest);
      if (!ValidValue(value)) return bad("invalid value");
      r.values = {std::string(value)};
    } else {
      // `k`, `k in (...)`, `k notin (...)`.
      size_t space = term.find_first_of(" \t(");
      r.key = std::string(Trim(term.substr(0, space)));
      if (space == std::string_view::npos) {
        r.op = "Exists";
      } else {
        std::string_view rest = Trim(term.substr(space));
        if (rest.substr(0, 5) == "notin") {
          r.op = "NotIn";
          rest.remove_prefix(5);
        } else if (rest.substr(0, 2) == "in") {
          r.op = "In";
          rest.remove_prefix(2);
        } else {
          return bad("unknown operator");
        }
        rest = Trim(rest);
        if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') {
          return bad("a set needs parentheses");
        }
        rest = rest.substr(1, rest.size() - 2);
        size_t start = 0;
        for (size_t i = 0; i <= rest.size(); ++i) {
          if (i == rest.size() || rest[i] == ',') {
            std::string_view v = Trim(rest.substr(start, i - start));
            if (!ValidValue(v)) return bad("invalid value");
            r.values.emplace_back(v);
            start = i + 1;
          }
        }
      }
    }
    if (!ValidToken(r.key)) return bad("invalid key");
    sel.match_expressions.push_back(std::move(r));
  }
  return sel;
}

}  // namespace shardwise::opdiscovery
