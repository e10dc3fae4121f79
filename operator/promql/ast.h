// The PromQL syntax tree for the subset the operator evaluates (prometheus-adapter rules):
// literals, instant/range selectors with offset, function calls, aggregations, unary minus
// and binary operators with vector matching. One node type with a kind keeps the parser and
// evaluator small; `pos` is the byte offset of the node in the query, for error messages.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace shardwise::promql {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

// A label matcher. Regexes are RE2, fully anchored as in Prometheus.
struct Matcher {
  MatchType type = MatchType::kEqual;
  std::string name;
  std::string value;
  std::shared_ptr<re2::RE2> re;  // set for the regex types
  // An absent label matches as the empty string.
  bool Matches(std::string_view v) const;
  std::string ToString() const;
};

enum class ValueType { kScalar, kVector, kMatrix, kString };
std::string_view ValueTypeName(ValueType t);

enum class ExprKind {
  kNumber,
  kString,
  kVectorSelector,
  kMatrixSelector,
  kCall,
  kAggregate,
  kUnary,
  kBinary
};

enum class Cardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

struct VectorMatching {
  Cardinality card = Cardinality::kOneToOne;
  bool on = false;                   // on(...) when true, ignoring(...) otherwise
  std::vector<std::string> labels;   // the on/ignoring list
  std::vector<std::string> include;  // group_left/group_right(...) labels
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind = ExprKind::kNumber;
  ValueType type = ValueType::kScalar;
  size_t pos = 0;

  double number = 0;  // kNumber
  std::string str;    // kString; the function name (kCall); the operator (kAggregate, kUnary,
                      // kBinary)

  // kVectorSelector / kMatrixSelector.
  std::vector<Matcher> matchers;  // includes __name__="..." when a name was written
  int64_t range_ms = 0;           // matrix selectors only
  int64_t offset_ms = 0;

  std::vector<ExprPtr> args;  // kCall arguments; kUnary/kAggregate: args[0] is the operand

  // kAggregate.
  bool without = false;
  std::vector<std::string> grouping;
  ExprPtr param;  // topk/bottomk k

  // kBinary.
  ExprPtr lhs, rhs;
  bool return_bool = false;
  VectorMatching matching;
};

}  // namespace shardwise::promql
