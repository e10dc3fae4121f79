#include "operator/promql/parser.h"

#include <re2/re2.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>

namespace shardwise::promql {

bool Matcher::Matches(std::string_view v) const {
  switch (type) {
    case MatchType::kEqual:
      return v == value;
    case MatchType::kNotEqual:
      return v != value;
    case MatchType::kRegexMatch:
      return RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *re);
    case MatchType::kRegexNoMatch:
      return !RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *re);
  }
  return false;
}

std::string Matcher::ToString() const {
  static const char* kOps[] = {"=", "!=", "=~", "!~"};
  return name + kOps[static_cast<int>(type)] + "\"" + value + "\"";
}

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kScalar:
      return "scalar";
    case ValueType::kVector:
      return "instant vector";
    case ValueType::kMatrix:
      return "range vector";
    case ValueType::kString:
      return "string";
  }
  return "?";
}

namespace {

enum class Tok {
  kEOF,
  kNumber,
  kDuration,
  kString,
  kIdent,
  kOp,
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kLBracket,
  kRBracket,
  kComma
};

struct Token {
  Tok kind = Tok::kEOF;
  std::string text;  // identifier, operator, or the unquoted string
  double number = 0;
  int64_t duration_ms = 0;
  size_t pos = 0;
};

Result<int64_t> ParseDurationAt(std::string_view s, size_t* consumed) {
  static const std::pair<std::string_view, int64_t> kUnits[] = {
      {"ms", 1},       {"s", 1000},      {"m", 60000},      {"h", 3600000},
      {"d", 86400000}, {"w", 604800000}, {"y", 31536000000}};
  size_t i = 0;
  int64_t total = 0;
  bool any = false;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    int64_t n = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      n = n * 10 + (s[i] - '0');
      if (n > (int64_t{1} << 40)) return Status::InvalidArgument("duration out of range");
      ++i;
    }
    bool found = false;
    for (const auto& [unit, mult] : kUnits) {
      if (s.substr(i, unit.size()) == unit && !(unit == "m" && s.substr(i, 2) == "ms")) {
        total += n * mult;
        i += unit.size();
        found = true;
        break;
      }
    }
    if (!found) return Status::InvalidArgument("bad duration unit");
    any = true;
  }
  if (!any) return Status::InvalidArgument("not a duration");
  *consumed = i;
  return total;
}

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IsIdentChar(char c) { return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

class Lexer {
 public:
  explicit Lexer(std::string_view in) : in_(in) {}

  Result<Token> Next() {
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < in_.size() && in_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
    Token t;
    t.pos = pos_;
    if (pos_ >= in_.size()) return t;
    char c = in_[pos_];
    auto single = [&](Tok k) {
      t.kind = k;
      t.text = std::string(1, c);
      ++pos_;
      return t;
    };
    switch (c) {
      case '(':
        return single(Tok::kLParen);
      case ')':
        return single(Tok::kRParen);
      case '{':
        return single(Tok::kLBrace);
      case '}':
        return single(Tok::kRBrace);
      case '[':
        return single(Tok::kLBracket);
      case ']':
        return single(Tok::kRBracket);
      case ',':
        return single(Tok::kComma);
      default:
        break;
    }
    if (c == '"' || c == '\'' || c == '`') return LexString(c, t);
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && pos_ + 1 < in_.size() &&
         std::isdigit(static_cast<unsigned char>(in_[pos_ + 1])))) {
      return LexNumber(t);
    }
    if (IsIdentStart(c)) {
      size_t start = pos_;
      while (pos_ < in_.size() && IsIdentChar(in_[pos_])) ++pos_;
      t.kind = Tok::kIdent;
      t.text = std::string(in_.substr(start, pos_ - start));
      return t;
    }
    static const char* kOps[] = {"==", "!=", "=~", "!~", ">=", "<=", "+", "-",
                                 "*",  "/",  "%",  "^",  ">",  "<",  "="};
    for (const char* op : kOps) {
      std::string_view o(op);
      if (in_.substr(pos_, o.size()) == o) {
        t.kind = Tok::kOp;
        t.text = std::string(o);
        pos_ += o.size();
        return t;
      }
    }
    return Status::InvalidArgument(Where(pos_) + "unexpected character '" + std::string(1, c) +
                                   "'");
  }

  std::string Where(size_t p) const { return "1:" + std::to_string(p + 1) + ": parse error: "; }

 private:
  Result<Token> LexString(char q, Token t) {
    ++pos_;
    std::string out;
    while (pos_ < in_.size() && in_[pos_] != q) {
      char c = in_[pos_++];
      if (c == '\\' && q != '`') {
        if (pos_ >= in_.size()) break;
        char e = in_[pos_++];
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case '\\':
          case '"':
          case '\'':
            out += e;
            break;
          default:
            return Status::InvalidArgument(Where(pos_ - 2) + "unknown escape sequence '\\" +
                                           std::string(1, e) + "'");
        }
      } else {
        out += c;
      }
    }
    if (pos_ >= in_.size())
      return Status::InvalidArgument(Where(t.pos) + "unterminated quoted string");
    ++pos_;
    t.kind = Tok::kString;
    t.text = std::move(out);
    return t;
  }

  Result<Token> LexNumber(Token t) {
    // A duration: digits followed by a unit letter.
    size_t consumed = 0;
    auto d = ParseDurationAt(in_.substr(pos_), &consumed);
    if (d.ok() && (pos_ + consumed >= in_.size() || in_[pos_ + consumed] == ':' ||
                   !IsIdentChar(in_[pos_ + consumed]))) {
      t.kind = Tok::kDuration;
      t.duration_ms = *d;
      pos_ += consumed;
      return t;
    }
    std::string s(in_.substr(pos_));
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    size_t n = static_cast<size_t>(end - s.c_str());
    if (n == 0 || (pos_ + n < in_.size() && IsIdentChar(in_[pos_ + n]))) {
      return Status::InvalidArgument(Where(pos_) + "bad number or duration");
    }
    pos_ += n;
    t.kind = Tok::kNumber;
    t.number = v;
    return t;
  }

  std::string_view in_;
  size_t pos_ = 0;
};

const std::set<std::string, std::less<>> kAggregations = {"sum",   "avg",  "min",    "max",
                                                          "count", "topk", "bottomk"};

struct FuncSig {
  std::vector<ValueType> args;
  int optional = 0;  // trailing optional args
  ValueType ret;
};

const FuncSig* LookupFunc(std::string_view name) {
  using V = ValueType;
  static const std::vector<std::pair<std::string_view, FuncSig>> kFuncs = {
      {"rate", {{V::kMatrix}, 0, V::kVector}},
      {"irate", {{V::kMatrix}, 0, V::kVector}},
      {"increase", {{V::kMatrix}, 0, V::kVector}},
      {"delta", {{V::kMatrix}, 0, V::kVector}},
      {"idelta", {{V::kMatrix}, 0, V::kVector}},
      {"avg_over_time", {{V::kMatrix}, 0, V::kVector}},
      {"sum_over_time", {{V::kMatrix}, 0, V::kVector}},
      {"min_over_time", {{V::kMatrix}, 0, V::kVector}},
      {"max_over_time", {{V::kMatrix}, 0, V::kVector}},
      {"count_over_time", {{V::kMatrix}, 0, V::kVector}},
      {"last_over_time", {{V::kMatrix}, 0, V::kVector}},
      {"abs", {{V::kVector}, 0, V::kVector}},
      {"ceil", {{V::kVector}, 0, V::kVector}},
      {"floor", {{V::kVector}, 0, V::kVector}},
      {"sqrt", {{V::kVector}, 0, V::kVector}},
      {"exp", {{V::kVector}, 0, V::kVector}},
      {"ln", {{V::kVector}, 0, V::kVector}},
      {"log2", {{V::kVector}, 0, V::kVector}},
      {"log10", {{V::kVector}, 0, V::kVector}},
      {"round", {{V::kVector, V::kScalar}, 1, V::kVector}},
      {"clamp_min", {{V::kVector, V::kScalar}, 0, V::kVector}},
      {"clamp_max", {{V::kVector, V::kScalar}, 0, V::kVector}},
      {"clamp", {{V::kVector, V::kScalar, V::kScalar}, 0, V::kVector}},
      {"scalar", {{V::kVector}, 0, V::kScalar}},
      {"vector", {{V::kScalar}, 0, V::kVector}},
      {"time", {{}, 0, V::kScalar}},
      {"histogram_quantile", {{V::kScalar, V::kVector}, 0, V::kVector}},
  };
  for (const auto& [n, sig] : kFuncs) {
    if (n == name) return &sig;
  }
  return nullptr;
}

bool IsComparison(std::string_view op) {
  return op == "==" || op == "!=" || op == ">" || op == "<" || op == ">=" || op == "<=";
}
bool IsSetOp(std::string_view op) { return op == "and" || op == "or" || op == "unless"; }

int Precedence(std::string_view op) {
  if (op == "or") return 1;
  if (op == "and" || op == "unless") return 2;
  if (IsComparison(op)) return 3;
  if (op == "+" || op == "-") return 4;
  if (op == "*" || op == "/" || op == "%") return 5;
  if (op == "^") return 6;
  return 0;
}

class Parser {
 public:
  explicit Parser(std::string_view in) : lex_(in) {}

  Result<ExprPtr> ParseAll() {
    SHARDWISE_RETURN_IF_ERROR(Advance());
    auto e = ParseBinary(1);
    if (!e.ok()) return e.status();
    if (tok_.kind != Tok::kEOF) return Error(tok_.pos, "unexpected " + Describe(tok_));
    return std::move(e).value();
  }

 private:
  Status Advance() {
    auto t = lex_.Next();
    if (!t.ok()) return t.status();
    tok_ = std::move(t).value();
    return Status::OK();
  }
  Status Error(size_t pos, const std::string& msg) const {
    return Status::InvalidArgument(lex_.Where(pos) + msg);
  }
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEOF:
        return "end of input";
      case Tok::kNumber:
        return "number";
      case Tok::kDuration:
        return "duration";
      case Tok::kString:
        return "string \"" + t.text + "\"";
      default:
        return "\"" + t.text + "\"";
    }
  }
  Status Expect(Tok k, const char* what) {
    if (tok_.kind != k)
      return Error(tok_.pos, std::string("expected ") + what + ", got " + Describe(tok_));
    return Advance();
  }

  // The binary operator at the current token, or "" if there is none.
  std::string PeekBinaryOp() const {
    if (tok_.kind == Tok::kOp && tok_.text != "=" && tok_.text != "=~" && tok_.text != "!~")
      return tok_.text;
    if (tok_.kind == Tok::kIdent && IsSetOp(tok_.text)) return tok_.text;
    return "";
  }

  Result<ExprPtr> ParseBinary(int min_prec) {
    auto lhs_r = ParseUnary();
    if (!lhs_r.ok()) return lhs_r.status();
    ExprPtr lhs = std::move(lhs_r).value();
    for (;;) {
      std::string op = PeekBinaryOp();
      int prec = Precedence(op);
      if (op.empty() || prec < min_prec) return lhs;
      size_t op_pos = tok_.pos;
      SHARDWISE_RETURN_IF_ERROR(Advance());
      auto node = std::make_unique<Expr>();
      node->kind = ExprKind::kBinary;
      node->str = op;
      node->pos = op_pos;
      SHARDWISE_RETURN_IF_ERROR(ParseModifiers(node.get()));
      // ^ is right-associative; every other operator is left-associative.
      auto rhs = ParseBinary(op == "^" ? prec : prec + 1);
      if (!rhs.ok()) return rhs.status();
      node->lhs = std::move(lhs);
      node->rhs = std::move(rhs).value();
      SHARDWISE_RETURN_IF_ERROR(CheckBinary(node.get()));
      lhs = std::move(node);
    }
  }

  Status ParseModifiers(Expr* n) {
    if (tok_.kind == Tok::kIdent && tok_.text == "bool") {
      if (!IsComparison(n->str))
        return Error(tok_.pos, "bool modifier can only be used on comparison operators");
      n->return_bool = true;
      SHARDWISE_RETURN_IF_ERROR(Advance());
    }
    if (IsSetOp(n->str)) n->matching.card = Cardinality::kManyToMany;
    if (tok_.kind == Tok::kIdent && (tok_.text == "on" || tok_.text == "ignoring")) {
      n->matching.on = tok_.text == "on";
      SHARDWISE_RETURN_IF_ERROR(Advance());
      auto l = ParseLabelList();
      if (!l.ok()) return l.status();
      n->matching.labels = std::move(l).value();
      if (tok_.kind == Tok::kIdent && (tok_.text == "group_left" || tok_.text == "group_right")) {
        if (IsSetOp(n->str))
          return Error(tok_.pos, "no grouping allowed for \"" + n->str + "\" operation");
        n->matching.card =
            tok_.text == "group_left" ? Cardinality::kManyToOne : Cardinality::kOneToMany;
        SHARDWISE_RETURN_IF_ERROR(Advance());
        if (tok_.kind == Tok::kLParen) {
          auto inc = ParseLabelList();
          if (!inc.ok()) return inc.status();
          n->matching.include = std::move(inc).value();
        }
      }
    } else if (tok_.kind == Tok::kIdent &&
               (tok_.text == "group_left" || tok_.text == "group_right")) {
      return Error(tok_.pos, "group modifiers need on(...) or ignoring(...)");
    }
    return Status::OK();
  }

  Status CheckBinary(Expr* n) {
    ValueType lt = n->lhs->type, rt = n->rhs->type;
    auto ok_operand = [](ValueType t) {
      return t == ValueType::kScalar || t == ValueType::kVector;
    };
    if (!ok_operand(lt) || !ok_operand(rt)) {
      return Error(n->pos, "binary expression must contain only scalar and instant vector types");
    }
    bool both_vectors = lt == ValueType::kVector && rt == ValueType::kVector;
    if (IsSetOp(n->str) && !both_vectors) {
      return Error(n->pos,
                   "set operator \"" + n->str + "\" not allowed in binary scalar expression");
    }
    if (!both_vectors && (n->matching.on || !n->matching.labels.empty() ||
                          n->matching.card == Cardinality::kManyToOne ||
                          n->matching.card == Cardinality::kOneToMany)) {
      return Error(n->pos, "vector matching only allowed between instant vectors");
    }
    if (IsComparison(n->str) && lt == ValueType::kScalar && rt == ValueType::kScalar &&
        !n->return_bool) {
      return Error(n->pos, "comparisons between scalars must use BOOL modifier");
    }
    for (const auto& inc : n->matching.include) {
      for (const auto& l : n->matching.labels) {
        if (n->matching.on && inc == l) {
          return Error(n->pos,
                       "label \"" + inc + "\" must not occur in ON and GROUP clause at once");
        }
      }
    }
    n->type = (lt == ValueType::kScalar && rt == ValueType::kScalar) ? ValueType::kScalar
                                                                     : ValueType::kVector;
    return Status::OK();
  }

  Result<ExprPtr> ParseUnary() {
    if (tok_.kind == Tok::kOp && (tok_.text == "-" || tok_.text == "+")) {
      std::string op = tok_.text;
      size_t pos = tok_.pos;
      SHARDWISE_RETURN_IF_ERROR(Advance());
      // Unary minus binds looser than ^: -2^2 is -4.
      auto operand = ParseBinary(Precedence("^"));
      if (!operand.ok()) return operand.status();
      ExprPtr e = std::move(operand).value();
      if (e->type != ValueType::kScalar && e->type != ValueType::kVector) {
        return Error(
            pos, "unary expression only allowed on expressions of type scalar or instant vector");
      }
      if (op == "+") return e;
      if (e->kind == ExprKind::kNumber) {
        e->number = -e->number;
        return e;
      }
      auto u = std::make_unique<Expr>();
      u->kind = ExprKind::kUnary;
      u->str = "-";
      u->pos = pos;
      u->type = e->type;
      u->args.push_back(std::move(e));
      return u;
    }
    return ParsePostfix();
  }

  Result<ExprPtr> ParsePostfix() {
    auto p = ParsePrimary();
    if (!p.ok()) return p.status();
    ExprPtr e = std::move(p).value();
    if (tok_.kind == Tok::kLBracket) {
      size_t pos = tok_.pos;
      if (e->kind != ExprKind::kVectorSelector) {
        return Error(pos,
                     "ranges only allowed for vector selectors (subqueries are not supported)");
      }
      SHARDWISE_RETURN_IF_ERROR(Advance());
      if (tok_.kind != Tok::kDuration)
        return Error(tok_.pos, "expected a duration in the range, got " + Describe(tok_));
      e->range_ms = tok_.duration_ms;
      SHARDWISE_RETURN_IF_ERROR(Advance());
      if (tok_.kind == Tok::kIdent && tok_.text[0] == ':')
        return Error(tok_.pos, "subqueries are not supported");
      SHARDWISE_RETURN_IF_ERROR(Expect(Tok::kRBracket, "\"]\""));
      if (e->range_ms <= 0) return Error(pos, "range must be positive");
      e->kind = ExprKind::kMatrixSelector;
      e->type = ValueType::kMatrix;
    }
    if (tok_.kind == Tok::kIdent && tok_.text == "offset") {
      if (e->kind != ExprKind::kVectorSelector && e->kind != ExprKind::kMatrixSelector) {
        return Error(tok_.pos, "offset modifier must be preceded by a selector");
      }
      SHARDWISE_RETURN_IF_ERROR(Advance());
      bool neg = false;
      if (tok_.kind == Tok::kOp && tok_.text == "-") {
        neg = true;
        SHARDWISE_RETURN_IF_ERROR(Advance());
      }
      if (tok_.kind != Tok::kDuration)
        return Error(tok_.pos, "expected a duration after offset, got " + Describe(tok_));
      e->offset_ms = neg ? -tok_.duration_ms : tok_.duration_ms;
      SHARDWISE_RETURN_IF_ERROR(Advance());
    }
    return e;
  }

  Result<std::vector<std::string>> ParseLabelList() {
    std::vector<std::string> out;
    SHARDWISE_RETURN_IF_ERROR(Expect(Tok::kLParen, "\"(\""));
    while (tok_.kind != Tok::kRParen) {
      if (tok_.kind != Tok::kIdent || !IsValidName(tok_.text)) {
        return Error(tok_.pos, "expected a label name, got " + Describe(tok_));
      }
      out.push_back(tok_.text);
      SHARDWISE_RETURN_IF_ERROR(Advance());
      if (tok_.kind == Tok::kComma) {
        SHARDWISE_RETURN_IF_ERROR(Advance());
      } else if (tok_.kind != Tok::kRParen) {
        return Error(tok_.pos, "expected \",\" or \")\" in label list, got " + Describe(tok_));
      }
    }
    SHARDWISE_RETURN_IF_ERROR(Advance());
    return out;
  }

  static bool IsValidName(const std::string& s) {
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    for (char c : s) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    }
    return true;
  }

  Result<ExprPtr> ParsePrimary() {
    auto e = std::make_unique<Expr>();
    e->pos = tok_.pos;
    switch (tok_.kind) {
      case Tok::kNumber:
        e->kind = ExprKind::kNumber;
        e->number = tok_.number;
        SHARDWISE_RETURN_IF_ERROR(Advance());
        return e;
      case Tok::kString:
        e->kind = ExprKind::kString;
        e->type = ValueType::kString;
        e->str = tok_.text;
        SHARDWISE_RETURN_IF_ERROR(Advance());
        return e;
      case Tok::kLParen: {
        SHARDWISE_RETURN_IF_ERROR(Advance());
        auto inner = ParseBinary(1);
        if (!inner.ok()) return inner.status();
        SHARDWISE_RETURN_IF_ERROR(Expect(Tok::kRParen, "\")\""));
        return std::move(inner).value();
      }
      case Tok::kLBrace:
        return ParseSelector(std::move(e), "");
      case Tok::kIdent:
        break;
      default:
        return Error(tok_.pos, "unexpected " + Describe(tok_));
    }
    std::string name = tok_.text;
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "inf" || lower == "nan") {
      e->kind = ExprKind::kNumber;
      e->number = lower == "inf" ? HUGE_VAL : std::nan("");
      SHARDWISE_RETURN_IF_ERROR(Advance());
      return e;
    }
    SHARDWISE_RETURN_IF_ERROR(Advance());
    if (kAggregations.count(name) &&
        (tok_.kind == Tok::kLParen ||
         (tok_.kind == Tok::kIdent && (tok_.text == "by" || tok_.text == "without")))) {
      return ParseAggregate(std::move(e), name);
    }
    if (tok_.kind == Tok::kLParen) return ParseCall(std::move(e), name);
    return ParseSelector(std::move(e), name);
  }

  Status ParseGrouping(Expr* e) {
    e->without = tok_.text == "without";
    SHARDWISE_RETURN_IF_ERROR(Advance());
    auto l = ParseLabelList();
    if (!l.ok()) return l.status();
    e->grouping = std::move(l).value();
    return Status::OK();
  }

  Result<ExprPtr> ParseAggregate(ExprPtr e, const std::string& op) {
    e->kind = ExprKind::kAggregate;
    e->type = ValueType::kVector;
    e->str = op;
    bool grouped = false;
    if (tok_.kind == Tok::kIdent) {
      SHARDWISE_RETURN_IF_ERROR(ParseGrouping(e.get()));
      grouped = true;
    }
    SHARDWISE_RETURN_IF_ERROR(Expect(Tok::kLParen, "\"(\""));
    if (op == "topk" || op == "bottomk") {
      auto p = ParseBinary(1);
      if (!p.ok()) return p.status();
      e->param = std::move(p).value();
      if (e->param->type != ValueType::kScalar)
        return Error(e->param->pos, "expected type scalar in aggregation parameter, got " +
                                        std::string(ValueTypeName(e->param->type)));
      SHARDWISE_RETURN_IF_ERROR(Expect(Tok::kComma, "\",\""));
    }
    auto body = ParseBinary(1);
    if (!body.ok()) return body.status();
    if ((*body)->type != ValueType::kVector) {
      return Error((*body)->pos, "expected type instant vector in aggregation expression, got " +
                                     std::string(ValueTypeName((*body)->type)));
    }
    e->args.push_back(std::move(body).value());
    SHARDWISE_RETURN_IF_ERROR(Expect(Tok::kRParen, "\")\""));
    if (tok_.kind == Tok::kIdent && (tok_.text == "by" || tok_.text == "without")) {
      if (grouped) return Error(tok_.pos, "aggregation has two grouping clauses");
      SHARDWISE_RETURN_IF_ERROR(ParseGrouping(e.get()));
    }
    return e;
  }

  Result<ExprPtr> ParseCall(ExprPtr e, const std::string& name) {
    const FuncSig* sig = LookupFunc(name);
    if (sig == nullptr) return Error(e->pos, "unknown or unsupported function \"" + name + "\"");
    e->kind = ExprKind::kCall;
    e->str = name;
    e->type = sig->ret;
    SHARDWISE_RETURN_IF_ERROR(Advance());  // (
    while (tok_.kind != Tok::kRParen) {
      auto a = ParseBinary(1);
      if (!a.ok()) return a.status();
      e->args.push_back(std::move(a).value());
      if (tok_.kind == Tok::kComma) {
        SHARDWISE_RETURN_IF_ERROR(Advance());
      } else if (tok_.kind != Tok::kRParen) {
        return Error(tok_.pos,
                     "expected \",\" or \")\" in call to " + name + ", got " + Describe(tok_));
      }
    }
    SHARDWISE_RETURN_IF_ERROR(Advance());
    size_t n = e->args.size(), max = sig->args.size(), min = max - sig->optional;
    if (n < min || n > max) {
      return Error(e->pos, "wrong number of arguments for function \"" + name + "\": expected " +
                               std::to_string(min) + ", got " + std::to_string(n));
    }
    for (size_t i = 0; i < n; ++i) {
      if (e->args[i]->type != sig->args[i]) {
        return Error(e->args[i]->pos, "expected type " + std::string(ValueTypeName(sig->args[i])) +
                                          " in call to function \"" + name + "\", got " +
                                          std::string(ValueTypeName(e->args[i]->type)));
      }
    }
    return e;
  }

  Result<ExprPtr> ParseSelector(ExprPtr e, const std::string& name) {
    e->kind = ExprKind::kVectorSelector;
    e->type = ValueType::kVector;
    if (!name.empty()) {
      static const std::set<std::string, std::less<>> kKeywords = {
          "by",   "without", "on",  "ignoring", "group_left", "group_right",
          "bool", "offset",  "and", "or",       "unless"};
      if (kKeywords.count(name)) return Error(e->pos, "unexpected keyword \"" + name + "\"");
      e->matchers.push_back(
          Matcher{MatchType::kEqual, std::string(kMetricNameLabel), name, nullptr});
    }
    if (tok_.kind == Tok::kLBrace) {
      SHARDWISE_RETURN_IF_ERROR(Advance());
      while (tok_.kind != Tok::kRBrace) {
        if (tok_.kind != Tok::kIdent)
          return Error(tok_.pos, "expected a label name in matcher, got " + Describe(tok_));
        Matcher m;
        m.name = tok_.text;
        SHARDWISE_RETURN_IF_ERROR(Advance());
        if (tok_.kind != Tok::kOp)
          return Error(tok_.pos, "expected a label matching operator, got " + Describe(tok_));
        if (tok_.text == "=")
          m.type = MatchType::kEqual;
        else if (tok_.text == "!=")
          m.type = MatchType::kNotEqual;
        else if (tok_.text == "=~")
          m.type = MatchType::kRegexMatch;
        else if (tok_.text == "!~")
          m.type = MatchType::kRegexNoMatch;
        else
          return Error(tok_.pos, "unexpected operator \"" + tok_.text + "\" in label matcher");
        SHARDWISE_RETURN_IF_ERROR(Advance());
        if (tok_.kind != Tok::kString)
          return Error(tok_.pos, "expected a quoted label value, got " + Describe(tok_));
        m.value = tok_.text;
        size_t vpos = tok_.pos;
        SHARDWISE_RETURN_IF_ERROR(Advance());
        if (m.type == MatchType::kRegexMatch || m.type == MatchType::kRegexNoMatch) {
          RE2::Options opts;
          opts.set_log_errors(false);
          opts.set_dot_nl(true);
          m.re = std::make_shared<RE2>("^(?:" + m.value + ")$", opts);
          if (!m.re->ok())
            return Error(vpos, "invalid regular expression \"" + m.value + "\": " + m.re->error());
        }
        if (m.name == kMetricNameLabel && !name.empty()) {
          return Error(vpos, "metric name must not be set twice: \"" + name + "\"");
        }
        e->matchers.push_back(std::move(m));
        if (tok_.kind == Tok::kComma) {
          SHARDWISE_RETURN_IF_ERROR(Advance());
        } else if (tok_.kind != Tok::kRBrace) {
          return Error(tok_.pos,
                       "expected \",\" or \"}\" in label matchers, got " + Describe(tok_));
        }
      }
      SHARDWISE_RETURN_IF_ERROR(Advance());
    }
    bool any_non_empty = false;
    for (const auto& m : e->matchers) {
      if (!m.Matches("")) any_non_empty = true;
    }
    if (!any_non_empty) {
      return Error(e->pos, "vector selector must contain at least one non-empty matcher");
    }
    return e;
  }

  static constexpr std::string_view kMetricNameLabel = "__name__";
  Lexer lex_;
  Token tok_;
};

}  // namespace

Result<ExprPtr> Parse(std::string_view query) { return Parser(query).ParseAll(); }

Result<int64_t> ParseDuration(std::string_view s) {
  size_t consumed = 0;
  auto d = ParseDurationAt(s, &consumed);
  if (!d.ok() || consumed != s.size()) {
    return Status::InvalidArgument("invalid duration \"" + std::string(s) + "\"");
  }
  return d;
}

}  // namespace shardwise::promql
