#include "scraper/parse/exposition_parser.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "scraper/parse/lexer.h"

namespace shardwise::parse {
namespace {

using lex::Is;
using lex::SkipBlanks;
using lex::SkipClass;

// Prometheus stores every exposed NaN as this one "normal" NaN, so that no target can
// forge the staleness marker's bit pattern.
constexpr uint64_t kNormalNaNBits = 0x7ff8000000000001ULL;

double CanonicalNaN() {
  double d;
  std::memcpy(&d, &kNormalNaNBits, sizeof d);
  return d;
}

// Up to this many label names, duplicates are found by comparing each new name with the
// previous ones; longer blocks are sorted once at the end instead.
constexpr size_t kPairwiseDuplicateCheckLimit = 16;

bool StartsWith(const char* p, const char* end, std::string_view prefix) {
  return static_cast<size_t>(end - p) >= prefix.size() &&
         std::memcmp(p, prefix.data(), prefix.size()) == 0;
}

bool TypeFromText(std::string_view s, bool openmetrics, MetricType& out) {
  if (s == "counter") {
    out = MetricType::kCounter;
  } else if (s == "gauge") {
    out = MetricType::kGauge;
  } else if (s == "histogram") {
    out = MetricType::kHistogram;
  } else if (s == "summary") {
    out = MetricType::kSummary;
  } else if (!openmetrics && s == "untyped") {
    out = MetricType::kUnknown;
  } else if (openmetrics && s == "unknown") {
    out = MetricType::kUnknown;
  } else if (openmetrics && s == "gaugehistogram") {
    out = MetricType::kGaugeHistogram;
  } else if (openmetrics && s == "info") {
    out = MetricType::kInfo;
  } else if (openmetrics && s == "stateset") {
    out = MetricType::kStateset;
  } else {
    return false;
  }
  return true;
}

std::string Quote(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMax) out += "...";
  out += '"';
  return out;
}

}  // namespace

ExpositionParser::ExpositionParser(Format format, std::string_view body)
    : openmetrics_(format == Format::kOpenMetrics),
      end_(body.data() + body.size()),
      pos_(body.data()),
      line_start_(body.data()) {
  label_spans_.reserve(kPairwiseDuplicateCheckLimit);
}

Entry ExpositionParser::Finish(Entry e) {
  finished_ = true;
  final_entry_ = e;
  return e;
}

void ExpositionParser::RecordError(size_t line, size_t column, std::string_view reason) const {
  std::string msg = "line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
  msg.append(reason);
  error_ = Status::InvalidArgument(std::move(msg));
}

void ExpositionParser::RecordError(const char* at, std::string_view reason) const {
  RecordError(line_, static_cast<size_t>(at - line_start_) + 1, reason);
}

Entry ExpositionParser::FailAtLineColumn(size_t line, size_t column, std::string_view reason) {
  RecordError(line, column, reason);
  return Finish(Entry::kError);
}

Entry ExpositionParser::Fail(const char* at, std::string_view reason) {
  RecordError(at, reason);
  return Finish(Entry::kError);
}

inline const char* ExpositionParser::ScanMetricName(const char* p, const char* end) const {
  if (p == end || !Is(*p, lex::kMetricNameStart)) return p;
  return lex::SkipMetricNameChars(p + 1, end, end_);
}

Entry ExpositionParser::Next() {
  if (finished_) return final_entry_;
  if (labels_failed_) return Finish(Entry::kError);
  for (;;) {
    if (pos_ >= end_) {
      if (!openmetrics_) return Finish(Entry::kEnd);
      // Point at where "# EOF" should have been.
      const bool at_line_start = line_ == 0 || end_[-1] == '\n';
      return FailAtLineColumn(at_line_start ? line_ + 1 : line_,
                              at_line_start ? 1 : static_cast<size_t>(end_ - line_start_) + 1,
                              "OpenMetrics input must end with \"# EOF\"");
    }
    ++line_;
    line_start_ = pos_;
    const char* line_end = lex::FindNewline(pos_, end_);
    pos_ = line_end < end_ ? line_end + 1 : end_;

    const char* p = line_start_;
    if (!openmetrics_) {
      p = SkipBlanks(p, line_end);
      if (p == line_end) continue;  // blank line
    } else if (p == line_end) {
      return Fail(p, "empty line");
    }
    return ParseLine(p, line_end);
  }
}

Entry ExpositionParser::ParseLine(const char* p, const char* line_end) {
  if (*p == '#') return ParseComment(p, line_end);
  return ParseSeries(p, line_end);
}

Entry ExpositionParser::ParseComment(const char* p, const char* line_end) {
  family_ = {};
  text_ = {};
  type_ = MetricType::kUnknown;
  help_ready_ = false;
  return openmetrics_ ? ParseOpenMetricsComment(p, line_end) : ParseTextComment(p, line_end);
}

// "#" blanks "HELP"|"TYPE" blank ... is metadata; any other "#" line is a comment.
Entry ExpositionParser::ParseTextComment(const char* p, const char* line_end) {
  const char* q = SkipBlanks(p + 1, line_end);
  if (q > p + 1 && static_cast<size_t>(line_end - q) > 4 && Is(q[4], lex::kBlank)) {
    if (std::memcmp(q, "HELP", 4) == 0) return ParseMetadata(Entry::kHelp, q + 5, line_end);
    if (std::memcmp(q, "TYPE", 4) == 0) return ParseMetadata(Entry::kType, q + 5, line_end);
  }
  text_ = std::string_view(p, static_cast<size_t>(line_end - p));
  return Entry::kComment;
}

Entry ExpositionParser::ParseOpenMetricsComment(const char* p, const char* line_end) {
  if (line_end - p == 5 && std::memcmp(p, "# EOF", 5) == 0) {
    if (pos_ != end_) {
      return FailAtLineColumn(line_ + 1, 1, "unexpected data after \"# EOF\"");
    }
    return Finish(Entry::kEnd);
  }
  if (StartsWith(p, line_end, "# HELP ")) return ParseMetadata(Entry::kHelp, p + 7, line_end);
  if (StartsWith(p, line_end, "# TYPE ")) return ParseMetadata(Entry::kType, p + 7, line_end);
  if (StartsWith(p, line_end, "# UNIT ")) return ParseMetadata(Entry::kUnit, p + 7, line_end);
  return Fail(p, "invalid comment: OpenMetrics allows only # HELP, # TYPE, # UNIT and # EOF");
}

// p points just after "HELP"/"TYPE"/"UNIT" and its separator.
Entry ExpositionParser::ParseMetadata(Entry kind, const char* p, const char* line_end) {
  if (!openmetrics_) p = SkipBlanks(p, line_end);
  const char* name = p;
  p = ScanMetricName(p, line_end);
  if (p == name) return Fail(p, "expected metric name in # HELP, # TYPE or # UNIT");
  family_ = std::string_view(name, static_cast<size_t>(p - name));

  const char* text = p;
  if (p < line_end) {
    if (!Is(*p, lex::kBlank) || (openmetrics_ && *p != ' ')) {
      return Fail(p, "invalid character in metric name");
    }
    text = openmetrics_ ? p + 1 : SkipBlanks(p, line_end);
  }
  text_ = std::string_view(text, static_cast<size_t>(line_end - text));

  switch (kind) {
    case Entry::kType: {
      std::string_view type = text_;
      if (!openmetrics_) {
        while (!type.empty() && Is(type.back(), lex::kBlank)) type.remove_suffix(1);
      }
      if (type.empty()) return Fail(text, "expected metric type in # TYPE");
      if (!TypeFromText(type, openmetrics_, type_)) {
        return Fail(text, "invalid metric type " + Quote(type));
      }
      typed_family_ = family_;
      typed_family_type_ = type_;
      text_ = {};
      break;
    }
    case Entry::kHelp:
      if (!lex::IsValidUtf8(text_)) return Fail(text, "invalid UTF-8 in help text");
      break;
    case Entry::kUnit:
      // The unit must be a "_<unit>" suffix of the family name.
      if (!text_.empty() && (family_.size() <= text_.size() || !family_.ends_with(text_) ||
                             family_[family_.size() - text_.size() - 1] != '_')) {
        return Fail(text, "unit " + Quote(text_) + " is not a suffix of metric " + Quote(family_));
      }
      break;
    default:
      break;
  }
  return kind;
}

Entry ExpositionParser::ParseSeries(const char* p, const char* line_end) {
  const char* const start = p;
  p = ScanMetricName(p, line_end);
  if (p == start) {
    return Fail(p, *p == '{' ? "expected metric name before '{'" : "invalid metric name");
  }
  name_size_ = static_cast<size_t>(p - start);
  label_block_ = {};

  const char* brace = openmetrics_ ? p : SkipBlanks(p, line_end);
  if (brace < line_end && *brace == '{') {
    const char* after = FindLabelBlockEnd(brace + 1, line_end);
    if (after == nullptr) return Finish(Entry::kError);
    label_block_ = std::string_view(brace + 1, static_cast<size_t>(after - 1 - (brace + 1)));
    p = after;
  }
  series_ = std::string_view(start, static_cast<size_t>(p - start));

  // Separator, then the value.
  const char* v = openmetrics_ ? p + (p < line_end && *p == ' ') : SkipBlanks(p, line_end);
  // Prometheus's text lexer needs no blank between '}' and the value; OpenMetrics does.
  if (v == p && !(label_block_.data() != nullptr && !openmetrics_)) {
    if (p == line_end) return Fail(p, "expected value after metric");
    return Fail(p, label_block_.data() != nullptr ? "expected ' ' after label set"
                                                  : "invalid character in metric name");
  }
  if (v == line_end) return Fail(v, "expected value after metric");
  const char* v_end = lex::ParseDecimalPrefix(v, line_end, value_);
  if (v_end == nullptr ||
      (v_end != line_end && *v_end != ' ' && (openmetrics_ || *v_end != '\t'))) {
    v_end = openmetrics_ ? lex::Find(v, line_end, ' ') : lex::FindBlank(v, line_end);
    if (!lex::ParseValue(std::string_view(v, static_cast<size_t>(v_end - v)), value_)) {
      return Fail(v, "invalid value " + Quote(std::string_view(v, static_cast<size_t>(v_end - v))));
    }
  }
  if (std::isnan(value_)) value_ = CanonicalNaN();
  has_timestamp_ = false;
  has_exemplar_ = false;

  if (!openmetrics_) {
    const char* t = SkipBlanks(v_end, line_end);
    if (t == line_end) return Entry::kSeries;
    const char* t_end = lex::FindBlank(t, line_end);
    if (!lex::ParseTextTimestamp(std::string_view(t, static_cast<size_t>(t_end - t)),
                                 timestamp_ms_)) {
      return Fail(
          t, "invalid timestamp " + Quote(std::string_view(t, static_cast<size_t>(t_end - t))));
    }
    has_timestamp_ = true;
    const char* rest = SkipBlanks(t_end, line_end);
    if (rest != line_end) return Fail(rest, "unexpected text after timestamp");
    return Entry::kSeries;
  }

  // OpenMetrics: [" " timestamp] [" # " exemplar]
  p = v_end;
  if (p == line_end) return Entry::kSeries;
  ++p;  // the space Find stopped at
  if (p == line_end) return Fail(p, "trailing space after value");
  if (*p != '#') {
    const char* t_end = lex::Find(p, line_end, ' ');
    if (!lex::ParseOpenMetricsTimestamp(std::string_view(p, static_cast<size_t>(t_end - p)),
                                        timestamp_ms_)) {
      return Fail(
          p, "invalid timestamp " + Quote(std::string_view(p, static_cast<size_t>(t_end - p))));
    }
    has_timestamp_ = true;
    p = t_end;
    if (p == line_end) return Entry::kSeries;
    ++p;
    if (p == line_end || *p != '#') return Fail(p, "unexpected text after timestamp");
  }
  return ParseExemplar(p, line_end);
}

// p points at the '#' of " # {labels} value [timestamp]".
Entry ExpositionParser::ParseExemplar(const char* p, const char* line_end) {
  if (line_end - p < 3 || p[1] != ' ' || p[2] != '{') {
    return Fail(p, "expected exemplar \"# {labels} value\"");
  }
  const char* after = ScanLabelBlock(p + 3, line_end);
  if (after == nullptr) return Finish(Entry::kError);
  exemplar_block_ = std::string_view(p + 3, static_cast<size_t>(after - 1 - (p + 3)));
  p = after;
  if (p == line_end || *p != ' ' || p + 1 == line_end) {
    return Fail(p, "expected exemplar value");
  }
  ++p;
  const char* v_end = lex::Find(p, line_end, ' ');
  if (!lex::ParseValue(std::string_view(p, static_cast<size_t>(v_end - p)), exemplar_value_)) {
    return Fail(
        p, "invalid exemplar value " + Quote(std::string_view(p, static_cast<size_t>(v_end - p))));
  }
  if (std::isnan(exemplar_value_)) exemplar_value_ = CanonicalNaN();
  exemplar_has_timestamp_ = false;
  p = v_end;
  if (p < line_end) {
    ++p;
    const char* t_end = lex::Find(p, line_end, ' ');
    if (!lex::ParseOpenMetricsTimestamp(std::string_view(p, static_cast<size_t>(t_end - p)),
                                        exemplar_timestamp_ms_)) {
      return Fail(p, "invalid exemplar timestamp " +
                         Quote(std::string_view(p, static_cast<size_t>(t_end - p))));
    }
    exemplar_has_timestamp_ = true;
    if (t_end != line_end) return Fail(t_end, "unexpected text after exemplar");
  }
  has_exemplar_ = true;
  return Entry::kSeries;
}

const char* ExpositionParser::FindLabelBlockEnd(const char* p, const char* line_end) {
  // Without an exemplar, nothing after the label set can contain '}', so the set ends at
  // the line's last '}'. A '#' may start an exemplar (or sit in a label value): then the
  // block is scanned properly, which also validates it.
  if (openmetrics_ && std::memchr(p, '#', static_cast<size_t>(line_end - p)) != nullptr) {
    return ScanLabelBlock(p, line_end);
  }
  const char* close = lex::FindLastCloseBrace(p, line_end);
  if (close == nullptr) return ScanLabelBlock(p, line_end);  // fails, saying where and why
  return close + 1;
}

const char* ExpositionParser::ScanLabelBlock(const char* p, const char* end) const {
  const bool text = !openmetrics_;
  label_spans_.clear();
  if (text) p = SkipBlanks(p, end);
  for (;;) {
    if (p == end) {
      RecordError(p, "unexpected end of line in label set");
      return nullptr;
    }
    if (*p == '}') break;  // also accepts a trailing comma, as Prometheus does
    if (!Is(*p, lex::kLabelNameStart)) {
      RecordError(p, "invalid label name");
      return nullptr;
    }
    const char* name = p;
    p = SkipClass(p + 1, end, lex::kLabelNameChar);
    const std::string_view name_view(name, static_cast<size_t>(p - name));
    if (name_view == kMetricName) {
      RecordError(name, "label name \"__name__\" is reserved for the metric name");
      return nullptr;
    }
    if (label_spans_.size() < kPairwiseDuplicateCheckLimit) {
      for (const LabelSpan& prev : label_spans_) {
        if (prev.name.size() == name_view.size() && prev.name[0] == name_view[0] &&
            prev.name == name_view) {
          RecordError(name, "duplicate label name " + Quote(name_view));
          return nullptr;
        }
      }
    }

    if (text) p = SkipBlanks(p, end);
    if (p == end || *p != '=') {
      RecordError(p, "expected '=' after label name");
      return nullptr;
    }
    ++p;
    if (text) p = SkipBlanks(p, end);
    if (p == end || *p != '"') {
      RecordError(p, "expected '\"' to start label value");
      return nullptr;
    }
    const char* open_quote = p++;
    const char* value = p;
    bool high_bits = false;
    bool escaped = false;
    for (;;) {
      p = lex::FindQuoteBackslashOrHigh(p, end);
      if (p >= end) {
        RecordError(open_quote, "unterminated label value");
        return nullptr;
      }
      if (*p == '"') break;
      if (*p == '\\') {
        escaped = true;
        p += 2;
      } else {
        high_bits = true;
        ++p;
      }
    }
    const std::string_view value_view(value, static_cast<size_t>(p - value));
    if (high_bits && !lex::IsValidUtf8(value_view)) {
      RecordError(value, "invalid UTF-8 in label value");
      return nullptr;
    }
    label_spans_.push_back({name_view, value_view, escaped});
    ++p;  // closing quote
    if (text) p = SkipBlanks(p, end);
    if (p < end && *p == ',') {
      ++p;
      if (text) p = SkipBlanks(p, end);
      continue;
    }
    if (p < end && *p == '}') break;
    RecordError(p, "expected ',' or '}' after label value");
    return nullptr;
  }

  if (label_spans_.size() > kPairwiseDuplicateCheckLimit) {
    // Label order does not matter to the callers, which build sorted label sets.
    std::sort(label_spans_.begin(), label_spans_.end(),
              [](const LabelSpan& a, const LabelSpan& b) { return a.name < b.name; });
    for (size_t i = 1; i < label_spans_.size(); ++i) {
      if (label_spans_[i].name == label_spans_[i - 1].name) {
        const std::string_view later =
            std::max(label_spans_[i].name, label_spans_[i - 1].name,
                     [](std::string_view a, std::string_view b) { return a.data() < b.data(); });
        RecordError(later.data(), "duplicate label name " + Quote(later));
        return nullptr;
      }
    }
  }
  return p + 1;
}

void ExpositionParser::Labels(LabelsBuilder& out) const {
  out.Reset();
  if (label_block_.data() != nullptr) {
    // Next() only found the block's bounds; validate it now, once per new series.
    const char* const block_end = label_block_.data() + label_block_.size() + 1;
    const char* after = ScanLabelBlock(label_block_.data(), block_end);
    if (after != nullptr && after != block_end) {
      RecordError(after, "unexpected text after label set");
      after = nullptr;
    }
    if (after == nullptr) {
      labels_failed_ = true;
      return;
    }
  }
  out.Set(kMetricName, series_.substr(0, name_size_));
  if (label_block_.data() == nullptr) return;
  std::string unescaped;
  for (const LabelSpan& label : label_spans_) {
    if (!label.escaped) {
      out.Set(label.name, label.value);
      continue;
    }
    unescaped.clear();
    lex::AppendUnescaped(label.value, /*unescape_quote=*/true, unescaped);
    out.Set(label.name, unescaped);
  }
}

bool ExpositionParser::Exemplar(struct Exemplar& out) const {
  if (!has_exemplar_) return false;
  // Next() validated the exemplar; scanning it again only collects its labels.
  ScanLabelBlock(exemplar_block_.data(), exemplar_block_.data() + exemplar_block_.size() + 1);
  LabelsBuilder builder;
  std::string unescaped;
  for (const LabelSpan& label : label_spans_) {
    unescaped.clear();
    lex::AppendUnescaped(label.value, /*unescape_quote=*/true, unescaped);
    builder.Set(label.name, unescaped);
  }
  out.labels = builder.Build();
  out.value = exemplar_value_;
  out.timestamp_ms =
      exemplar_has_timestamp_ ? std::optional<int64_t>(exemplar_timestamp_ms_) : std::nullopt;
  return true;
}

bool ExpositionParser::IsCreatedSample() const {
  if (!openmetrics_) return false;
  switch (typed_family_type_) {
    case MetricType::kCounter:
    case MetricType::kHistogram:
    case MetricType::kGaugeHistogram:
    case MetricType::kSummary:
      break;
    default:
      return false;
  }
  const std::string_view name = series_.substr(0, name_size_);
  return name.size() == typed_family_.size() + 8 && name.starts_with(typed_family_) &&
         name.ends_with("_created");
}

std::string_view ExpositionParser::Help() const {
  if (text_.find('\\') == std::string_view::npos) return text_;
  if (!help_ready_) {
    help_.clear();
    lex::AppendUnescaped(text_, /*unescape_quote=*/openmetrics_, help_);
    help_ready_ = true;
  }
  return help_;
}

}  // namespace shardwise::parse
