#include "operator/promql/engine.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "operator/promql/parser.h"

namespace shardwise::promql {

namespace {
constexpr uint64_t kStaleBits = 0x7ff0000000000002ULL;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

bool IsStaleMarker(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == kStaleBits;
}

double StaleMarker() {
  double d;
  std::memcpy(&d, &kStaleBits, sizeof d);
  return d;
}

Result<std::vector<Series>> MemorySource::Select(const std::vector<Matcher>& matchers, int64_t mint,
                                                 int64_t maxt) {
  std::vector<Series> out;
  for (const auto& s : series_) {
    bool match = true;
    for (const auto& m : matchers) {
      if (!m.Matches(s.labels.Get(m.name))) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    Series sel{s.labels, {}};
    for (const auto& p : s.points) {
      if (p.t >= mint && p.t <= maxt) sel.points.push_back(p);
    }
    out.push_back(std::move(sel));
  }
  return out;
}

namespace {

Labels DropName(const Labels& l) {
  if (!l.Has(kMetricName)) return l;
  LabelsBuilder b(l);
  b.Del(kMetricName);
  return b.Build();
}

// A collision-free key for a label set (names and values cannot contain \xff as UTF-8).
std::string Key(const Labels& l) {
  std::string k;
  for (const auto& lb : l) {
    k += lb.name;
    k += '\xff';
    k += lb.value;
    k += '\xff';
  }
  return k;
}

Labels MatchingLabels(const Labels& l, const VectorMatching& m) {
  LabelsBuilder b(l);
  if (m.on) {
    b.Keep(m.labels);
  } else {
    b.Del(kMetricName);
    for (const auto& n : m.labels) b.Del(n);
  }
  return b.Build();
}

bool IsComparison(std::string_view op) {
  return op == "==" || op == "!=" || op == ">" || op == "<" || op == ">=" || op == "<=";
}
bool IsArithmetic(std::string_view op) {
  return op == "+" || op == "-" || op == "*" || op == "/" || op == "%" || op == "^";
}

// Prometheus's vectorElemBinop: the value and whether a comparison keeps the element.
std::pair<double, bool> ElemBinop(std::string_view op, double l, double r) {
  if (op == "+") return {l + r, true};
  if (op == "-") return {l - r, true};
  if (op == "*") return {l * r, true};
  if (op == "/") return {l / r, true};
  if (op == "%") return {std::fmod(l, r), true};
  if (op == "^") return {std::pow(l, r), true};
  if (op == "==") return {l, l == r};
  if (op == "!=") return {l, l != r};
  if (op == ">") return {l, l > r};
  if (op == "<") return {l, l < r};
  if (op == ">=") return {l, l >= r};
  if (op == "<=") return {l, l <= r};
  return {kNaN, false};
}

struct Bucket {
  double upper;
  double count;
};

// Prometheus's bucketQuantile over classic buckets.
double BucketQuantile(double q, std::vector<Bucket> buckets) {
  if (std::isnan(q)) return kNaN;
  if (q < 0) return -HUGE_VAL;
  if (q > 1) return HUGE_VAL;
  std::sort(buckets.begin(), buckets.end(),
            [](const Bucket& a, const Bucket& b) { return a.upper < b.upper; });
  if (buckets.empty() || !std::isinf(buckets.back().upper) || buckets.back().upper < 0) {
    return kNaN;
  }
  // Buckets with the same bound (e.g. "1" and "1.0") are summed.
  std::vector<Bucket> co;
  for (const auto& b : buckets) {
    if (!co.empty() && co.back().upper == b.upper) {
      co.back().count += b.count;
    } else {
      co.push_back(b);
    }
  }
  // Counts are scraped non-atomically and can dip; make them monotonic.
  for (size_t i = 1; i < co.size(); ++i) co[i].count = std::max(co[i].count, co[i - 1].count);
  if (co.size() < 2) return kNaN;
  double observations = co.back().count;
  if (observations == 0) return kNaN;
  double rank = q * observations;
  size_t b = 0;
  while (b < co.size() - 1 && !(co[b].count >= rank)) ++b;
  if (b == co.size() - 1) return co[co.size() - 2].upper;
  if (b == 0 && co[0].upper <= 0) return co[0].upper;
  double start = 0, end = co[b].upper, count = co[b].count;
  if (b > 0) {
    start = co[b - 1].upper;
    count -= co[b - 1].count;
    rank -= co[b - 1].count;
  }
  return start + (end - start) * (rank / count);
}

class Evaluator {
 public:
  Evaluator(SampleSource& src, int64_t t, const Limits& limits)
      : src_(src), t_(t), limits_(limits) {}

  Result<Value> Eval(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kNumber: {
        Value v;
        v.scalar = e.number;
        return v;
      }
      case ExprKind::kString: {
        Value v;
        v.type = ValueType::kString;
        v.str = e.str;
        return v;
      }
      case ExprKind::kVectorSelector:
        return EvalVectorSelector(e);
      case ExprKind::kMatrixSelector:
        return EvalMatrixSelector(e);
      case ExprKind::kCall:
        return EvalCall(e);
      case ExprKind::kAggregate:
        return EvalAggregate(e);
      case ExprKind::kUnary: {
        auto r = Eval(*e.args[0]);
        if (!r.ok()) return r;
        Value v = std::move(r).value();
        if (v.type == ValueType::kScalar) {
          v.scalar = -v.scalar;
        } else {
          for (auto& s : v.vector) {
            s.v = -s.v;
            s.labels = DropName(s.labels);
          }
        }
        return v;
      }
      case ExprKind::kBinary:
        return EvalBinary(e);
    }
    return Status::Internal("unknown expression kind");
  }

 private:
  Result<std::vector<Series>> Select(const Expr& e, int64_t mint, int64_t maxt) {
    auto r = src_.Select(e.matchers, mint, maxt);
    if (!r.ok()) return r;
    series_ += r->size();
    if (series_ > limits_.max_series) {
      return Status::ResourceExhausted("query selects more than " +
                                       std::to_string(limits_.max_series) + " series");
    }
    for (const auto& s : *r) samples_ += s.points.size();
    if (samples_ > limits_.max_samples) {
      return Status::ResourceExhausted("query loads more than " +
                                       std::to_string(limits_.max_samples) + " samples");
    }
    return r;
  }

  Result<Value> EvalVectorSelector(const Expr& e) {
    int64_t ref = t_ - e.offset_ms;
    auto r = Select(e, ref - kLookbackDeltaMs, ref);
    if (!r.ok()) return r.status();
    Value v;
    v.type = ValueType::kVector;
    for (auto& s : *r) {
      const Point* last = nullptr;
      for (const auto& p : s.points) {
        if (p.t >= ref - kLookbackDeltaMs && p.t <= ref) last = &p;
      }
      if (last == nullptr || IsStaleMarker(last->v)) continue;
      v.vector.push_back(Sample{std::move(s.labels), last->v});
    }
    return v;
  }

  Result<Value> EvalMatrixSelector(const Expr& e) {
    int64_t maxt = t_ - e.offset_ms, mint = maxt - e.range_ms;
    auto r = Select(e, mint, maxt);
    if (!r.ok()) return r.status();
    Value v;
    v.type = ValueType::kMatrix;
    for (auto& s : *r) {
      Series out{std::move(s.labels), {}};
      for (const auto& p : s.points) {
        if (p.t >= mint && p.t <= maxt && !IsStaleMarker(p.v)) out.points.push_back(p);
      }
      if (!out.points.empty()) v.matrix.push_back(std::move(out));
    }
    return v;
  }

  // Prometheus's extrapolatedRate (2.x): extrapolate to the window edges when the first/last
  // sample is within 1.1x the average interval of them, else by half an interval; counters
  // are not extrapolated below zero.
  static std::optional<double> ExtrapolatedRate(const std::vector<Point>& pts, int64_t range_start,
                                                int64_t range_end, double range_s, bool is_counter,
                                                bool is_rate) {
    if (pts.size() < 2) return std::nullopt;
    double result = pts.back().v - pts.front().v;
    if (is_counter) {
      double last = 0;
      for (const auto& p : pts) {
        if (p.v < last) result += last;
        last = p.v;
      }
    }
    double to_start = static_cast<double>(pts.front().t - range_start) / 1000;
    double to_end = static_cast<double>(range_end - pts.back().t) / 1000;
    double sampled = static_cast<double>(pts.back().t - pts.front().t) / 1000;
    double avg = sampled / static_cast<double>(pts.size() - 1);
    if (is_counter && result > 0 && pts.front().v >= 0) {
      double to_zero = sampled * (pts.front().v / result);
      if (to_zero < to_start) to_start = to_zero;
    }
    double threshold = avg * 1.1;
    double interval = sampled;
    interval += to_start < threshold ? to_start : avg / 2;
    interval += to_end < threshold ? to_end : avg / 2;
    double factor = interval / sampled;
    if (is_rate) factor /= range_s;
    return result * factor;
  }

  static std::optional<double> InstantValue(const std::vector<Point>& pts, bool is_rate) {
    if (pts.size() < 2) return std::nullopt;
    const Point& last = pts[pts.size() - 1];
    const Point& prev = pts[pts.size() - 2];
    double result = (is_rate && last.v < prev.v) ? last.v : last.v - prev.v;
    double interval = static_cast<double>(last.t - prev.t);
    if (interval == 0) return std::nullopt;
    if (is_rate) result /= interval / 1000;
    return result;
  }

  Result<Value> EvalCall(const Expr& e) {
    const std::string& f = e.str;
    Value out;
    out.type = ValueType::kVector;
    if (f == "time") {
      out.type = ValueType::kScalar;
      out.scalar = static_cast<double>(t_) / 1000;
      return out;
    }
    std::vector<Value> args;
    for (const auto& a : e.args) {
      auto r = Eval(*a);
      if (!r.ok()) return r;
      args.push_back(std::move(r).value());
    }
    if (!e.args.empty() && e.args[0]->kind == ExprKind::kMatrixSelector) {
      const Expr& sel = *e.args[0];
      int64_t range_end = t_ - sel.offset_ms, range_start = range_end - sel.range_ms;
      double range_s = static_cast<double>(sel.range_ms) / 1000;
      for (auto& s : args[0].matrix) {
        const auto& pts = s.points;
        std::optional<double> v;
        if (f == "rate")
          v = ExtrapolatedRate(pts, range_start, range_end, range_s, true, true);
        else if (f == "increase")
          v = ExtrapolatedRate(pts, range_start, range_end, range_s, true, false);
        else if (f == "delta")
          v = ExtrapolatedRate(pts, range_start, range_end, range_s, false, false);
        else if (f == "irate")
          v = InstantValue(pts, true);
        else if (f == "idelta")
          v = InstantValue(pts, false);
        else if (f == "count_over_time")
          v = static_cast<double>(pts.size());
        else if (f == "last_over_time")
          v = pts.back().v;
        else if (f == "sum_over_time" || f == "avg_over_time") {
          double sum = 0;
          for (const auto& p : pts) sum += p.v;
          v = f == "sum_over_time" ? sum : sum / static_cast<double>(pts.size());
        } else if (f == "max_over_time" || f == "min_over_time") {
          double m = pts[0].v;
          for (const auto& p : pts) {
            if (f == "max_over_time" ? (p.v > m || std::isnan(m)) : (p.v < m || std::isnan(m)))
              m = p.v;
          }
          v = m;
        }
        if (!v) continue;
        out.vector.push_back(Sample{f == "last_over_time" ? s.labels : DropName(s.labels), *v});
      }
      return out;
    }
    if (f == "scalar") {
      out.type = ValueType::kScalar;
      out.scalar = args[0].vector.size() == 1 ? args[0].vector[0].v : kNaN;
      return out;
    }
    if (f == "vector") {
      out.vector.push_back(Sample{Labels(), args[0].scalar});
      return out;
    }
    if (f == "histogram_quantile") return HistogramQuantile(args[0].scalar, args[1].vector);
    for (auto& s : args[0].vector) {
      double x = s.v, v = x;
      if (f == "abs")
        v = std::fabs(x);
      else if (f == "ceil")
        v = std::ceil(x);
      else if (f == "floor")
        v = std::floor(x);
      else if (f == "sqrt")
        v = std::sqrt(x);
      else if (f == "exp")
        v = std::exp(x);
      else if (f == "ln")
        v = std::log(x);
      else if (f == "log2")
        v = std::log2(x);
      else if (f == "log10")
        v = std::log10(x);
      else if (f == "clamp_min")
        v = std::max(x, args[1].scalar);
      else if (f == "clamp_max")
        v = std::min(x, args[1].scalar);
      else if (f == "clamp") {
        double lo = args[1].scalar, hi = args[2].scalar;
        if (lo > hi) return out;  // Prometheus returns an empty vector
        v = std::max(lo, std::min(hi, x));
      } else if (f == "round") {
        double to = args.size() > 1 ? args[1].scalar : 1;
        double inv = 1.0 / to;
        v = std::floor(x * inv + 0.5) / inv;
      } else {
        return Status::InvalidArgument("function \"" + f + "\" is not supported");
      }
      // Prometheus's clamp_min/max(NaN) gives NaN; std::max/min would not.
      if (std::isnan(x)) v = x;
      out.vector.push_back(Sample{DropName(s.labels), v});
    }
    return out;
  }

  Result<Value> HistogramQuantile(double q, const Vector& in) {
    struct Group {
      Labels labels;
      std::vector<Bucket> buckets;
    };
    std::map<std::string, Group> groups;
    for (const auto& s : in) {
      const Label* le = s.labels.Find("le");
      if (le == nullptr) continue;
      char* end = nullptr;
      double upper = std::strtod(le->value.c_str(), &end);
      if (le->value.empty() || *end != '\0') continue;
      LabelsBuilder b(s.labels);
      b.Del("le");
      b.Del(kMetricName);
      Labels l = b.Build();
      auto& g = groups[Key(l)];
      g.labels = l;
      g.buckets.push_back(Bucket{upper, s.v});
    }
    Value out;
    out.type = ValueType::kVector;
    for (auto& [k, g] : groups) {
      out.vector.push_back(Sample{g.labels, BucketQuantile(q, g.buckets)});
    }
    return out;
  }

  Result<Value> EvalAggregate(const Expr& e) {
    auto r = Eval(*e.args[0]);
    if (!r.ok()) return r;
    double k = 0;
    if (e.param) {
      auto p = Eval(*e.param);
      if (!p.ok()) return p;
      k = p->scalar;
    }
    const std::string& op = e.str;
    struct Group {
      Labels labels;
      double value = 0;
      double count = 0;
      std::vector<Sample> top;
    };
    std::map<std::string, Group> groups;
    std::vector<std::string> order;
    for (auto& s : r->vector) {
      LabelsBuilder b(s.labels);
      if (e.without) {
        b.Del(kMetricName);
        for (const auto& n : e.grouping) b.Del(n);
      } else {
        b.Keep(e.grouping);
      }
      Labels gl = b.Build();
      std::string key = Key(gl);
      auto [it, inserted] = groups.try_emplace(key);
      Group& g = it->second;
      if (inserted) {
        order.push_back(key);
        g.labels = gl;
        g.value = s.v;
        g.count = 1;
        if (op == "count") g.value = 1;
        if (op == "topk" || op == "bottomk") {
          g.top.clear();
          if (k >= 1) g.top.push_back(s);
        }
        continue;
      }
      g.count++;
      if (op == "sum")
        g.value += s.v;
      else if (op == "avg")
        g.value += (s.v - g.value) / g.count;
      else if (op == "count")
        g.value += 1;
      else if (op == "max") {
        if (g.value < s.v || std::isnan(g.value)) g.value = s.v;
      } else if (op == "min") {
        if (g.value > s.v || std::isnan(g.value)) g.value = s.v;
      } else if (op == "topk" || op == "bottomk") {
        if (k >= 1) g.top.push_back(s);
      }
    }
    Value out;
    out.type = ValueType::kVector;
    for (const auto& key : order) {
      Group& g = groups[key];
      if (op == "topk" || op == "bottomk") {
        bool top = op == "topk";
        // NaN sorts last for both.
        std::stable_sort(g.top.begin(), g.top.end(), [top](const Sample& a, const Sample& b) {
          if (std::isnan(a.v)) return false;
          if (std::isnan(b.v)) return true;
          return top ? a.v > b.v : a.v < b.v;
        });
        size_t n = std::min(g.top.size(), static_cast<size_t>(std::max(0.0, k)));
        for (size_t i = 0; i < n; ++i) out.vector.push_back(g.top[i]);
        continue;
      }
      out.vector.push_back(Sample{g.labels, g.value});
    }
    return out;
  }

  Result<Value> EvalBinary(const Expr& e) {
    auto lr = Eval(*e.lhs);
    if (!lr.ok()) return lr;
    auto rr = Eval(*e.rhs);
    if (!rr.ok()) return rr;
    Value l = std::move(lr).value(), r = std::move(rr).value();
    const std::string& op = e.str;
    Value out;
    out.type = ValueType::kVector;
    if (l.type == ValueType::kScalar && r.type == ValueType::kScalar) {
      out.type = ValueType::kScalar;
      auto [v, keep] = ElemBinop(op, l.scalar, r.scalar);
      out.scalar = IsComparison(op) ? (keep ? 1 : 0) : v;
      return out;
    }
    if (l.type == ValueType::kScalar || r.type == ValueType::kScalar) {
      bool swap = l.type == ValueType::kScalar;
      Vector& vec = swap ? r.vector : l.vector;
      double scalar = swap ? l.scalar : r.scalar;
      for (auto& s : vec) {
        double lv = swap ? scalar : s.v, rv = swap ? s.v : scalar;
        auto [v, keep] = ElemBinop(op, lv, rv);
        // The vector's own value is the result of a filter even when it is on the right.
        if (IsComparison(op) && swap) v = rv;
        if (e.return_bool) {
          v = keep ? 1 : 0;
          keep = true;
        }
        if (!keep) continue;
        Labels lbl = (IsArithmetic(op) || e.return_bool) ? DropName(s.labels) : std::move(s.labels);
        out.vector.push_back(Sample{std::move(lbl), v});
      }
      return out;
    }
    if (op == "and" || op == "or" || op == "unless") return SetOp(e, l.vector, r.vector);
    return VectorBinop(e, std::move(l.vector), std::move(r.vector));
  }

  Result<Value> SetOp(const Expr& e, Vector& lhs, Vector& rhs) {
    const auto& m = e.matching;
    Value out;
    out.type = ValueType::kVector;
    std::set<std::string> rsigs, lsigs;
    for (const auto& s : rhs) rsigs.insert(Key(MatchingLabels(s.labels, m)));
    for (const auto& s : lhs) lsigs.insert(Key(MatchingLabels(s.labels, m)));
    if (e.str == "and") {
      for (auto& s : lhs) {
        if (rsigs.count(Key(MatchingLabels(s.labels, m)))) out.vector.push_back(std::move(s));
      }
    } else if (e.str == "unless") {
      for (auto& s : lhs) {
        if (!rsigs.count(Key(MatchingLabels(s.labels, m)))) out.vector.push_back(std::move(s));
      }
    } else {
      for (auto& s : lhs) out.vector.push_back(std::move(s));
      for (auto& s : rhs) {
        if (!lsigs.count(Key(MatchingLabels(s.labels, m)))) out.vector.push_back(std::move(s));
      }
    }
    return out;
  }

  Result<Value> VectorBinop(const Expr& e, Vector lhs, Vector rhs) {
    const auto& m = e.matching;
    const std::string& op = e.str;
    if (m.card == Cardinality::kOneToMany) std::swap(lhs, rhs);
    // The "one" side, indexed by its matching signature.
    std::unordered_map<std::string, const Sample*> right;
    for (const auto& s : rhs) {
      std::string sig = Key(MatchingLabels(s.labels, m));
      if (!right.emplace(sig, &s).second) {
        return Status::InvalidArgument(
            "found duplicate series for the match group " + MatchingLabels(s.labels, m).ToString() +
            " on the " + (m.card == Cardinality::kOneToMany ? "left" : "right") +
            " hand-side of the operation: many-to-many matching not allowed: matching labels "
            "must be unique on one side");
      }
    }
    Value out;
    out.type = ValueType::kVector;
    std::set<std::string> matched, inserted;
    for (const auto& ls : lhs) {
      std::string sig = Key(MatchingLabels(ls.labels, m));
      auto it = right.find(sig);
      if (it == right.end()) continue;
      const Sample& rs = *it->second;
      double vl = ls.v, vr = rs.v;
      if (m.card == Cardinality::kOneToMany) std::swap(vl, vr);
      auto [v, keep] = ElemBinop(op, vl, vr);
      if (e.return_bool) {
        v = keep ? 1 : 0;
      } else if (!keep) {
        continue;
      }
      // The result's labels come from the "many" side (the left for one-to-one).
      LabelsBuilder b(ls.labels);
      if (IsArithmetic(op) || e.return_bool) b.Del(kMetricName);
      if (m.card == Cardinality::kOneToOne) {
        if (m.on) {
          b.Keep(m.labels);
        } else {
          for (const auto& n : m.labels) b.Del(n);
        }
      }
      for (const auto& n : m.include) {
        std::string_view v2 = rs.labels.Get(n);
        if (!v2.empty()) {
          b.Set(n, v2);
        } else {
          b.Del(n);
        }
      }
      Labels metric = b.Build();
      if (m.card == Cardinality::kOneToOne) {
        if (!matched.insert(sig).second) {
          return Status::InvalidArgument(
              "multiple matches for labels: many-to-one matching must be explicit "
              "(group_left/group_right)");
        }
      } else if (!inserted.insert(Key(metric)).second) {
        return Status::InvalidArgument(
            "multiple matches for labels: grouping labels must ensure unique matches");
      }
      out.vector.push_back(Sample{std::move(metric), v});
    }
    return out;
  }

  SampleSource& src_;
  int64_t t_;
  Limits limits_;
  size_t series_ = 0;
  size_t samples_ = 0;
};

}  // namespace

Result<Value> Evaluate(const Expr& expr, SampleSource& source, int64_t t_ms, const Limits& limits) {
  return Evaluator(source, t_ms, limits).Eval(expr);
}

Result<Value> Query(std::string_view query, SampleSource& source, int64_t t_ms,
                    const Limits& limits) {
  auto e = Parse(query);
  if (!e.ok()) return e.status();
  return Evaluate(**e, source, t_ms, limits);
}

}  // namespace shardwise::promql
