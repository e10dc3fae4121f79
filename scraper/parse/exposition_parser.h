// ExpositionParser: the one implementation of Parser, for both the Prometheus text format
// 0.0.4 and OpenMetrics 1.0 text. The two grammars share their line structure and differ
// in details, which are all decided on `openmetrics_`:
//
//                      Prometheus text                 OpenMetrics
//   blank lines        skipped                         error
//   whitespace         spaces/tabs between tokens,     exactly one space between tokens,
//                      also inside {...}; none needed  none inside {...}
//                      after '}' (as in Prometheus)
//   comments           "# HELP", "# TYPE", others are  only "# HELP", "# TYPE", "# UNIT",
//                      kComment                        "# EOF"; anything else is an error
//   timestamp          int64 milliseconds              float seconds, rounded to ms
//   exemplars          not allowed                     " # {labels} value [timestamp]"
//   end                end of body                     "# EOF" (required, nothing after)
//
// Next() validates the line — metric name, value, timestamp, exemplar, metadata — without
// allocating, but only finds the bounds of the label block: a series the scrape cache has
// seen before costs no label work. Labels() validates the block (label names, quoting,
// escapes, UTF-8, duplicate names) and builds the labels; when the block is invalid it
// leaves the builder empty and the following Next() returns kError. (The block ends at
// the line's last '}', since nothing after it may contain one; an OpenMetrics line with a
// '#' after the '{', i.e. an exemplar, has its block scanned and validated by Next().)
// Columns in errors count bytes from 1.
//
// Deliberate differences from Prometheus 2.42: OpenMetrics timestamps are rounded to the
// nearest millisecond (Prometheus truncates, turning 1.001 s into 1000 ms). Like
// Prometheus's parser, this one leaves the spec's 128-character cap on exemplar labels to
// the storage.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scraper/parse/parser.h"

namespace shardwise::parse {

class ExpositionParser final : public Parser {
 public:
  ExpositionParser(Format format, std::string_view body);

  Entry Next() override;
  std::string_view Series() const override { return series_; }
  double Value() const override { return value_; }
  void Labels(LabelsBuilder& out) const override;
  bool Exemplar(struct Exemplar& out) const override;
  bool IsCreatedSample() const override;

  std::string_view FamilyName() const override { return family_; }
  MetricType Type() const override { return type_; }
  std::string_view Help() const override;
  std::string_view Unit() const override { return text_; }

  const Status& error() const override { return error_; }

 private:
  Entry ParseLine(const char* p, const char* line_end);
  Entry ParseComment(const char* p, const char* line_end);
  Entry ParseTextComment(const char* p, const char* line_end);
  Entry ParseOpenMetricsComment(const char* p, const char* line_end);
  Entry ParseMetadata(Entry kind, const char* p, const char* line_end);
  Entry ParseSeries(const char* p, const char* line_end);
  Entry ParseExemplar(const char* p, const char* line_end);
  // Returns the end of the metric name starting at p, or p when there is none.
  const char* ScanMetricName(const char* p, const char* end) const;
  // The position after the '}' closing the label block whose '{' is at p[-1], found
  // without validating the block; nullptr after recording an error.
  const char* FindLabelBlockEnd(const char* p, const char* line_end);
  // Validates the label block whose '{' is at p[-1], collecting its labels in
  // label_spans_; returns the position after '}', or nullptr after recording an error.
  const char* ScanLabelBlock(const char* p, const char* end) const;

  void RecordError(size_t line, size_t column, std::string_view reason) const;
  void RecordError(const char* at, std::string_view reason) const;
  Entry Fail(const char* at, std::string_view reason);
  Entry FailAtLineColumn(size_t line, size_t column, std::string_view reason);
  Entry Finish(Entry e);

  const bool openmetrics_;
  const char* const end_;
  const char* pos_;         // start of the next line
  const char* line_start_;  // start of the current line
  size_t line_ = 0;         // 1-based number of the current line
  bool finished_ = false;
  Entry final_entry_ = Entry::kEnd;

  // The current sample.
  std::string_view series_;
  size_t name_size_ = 0;          // series_ starts with the metric name
  std::string_view label_block_;  // between the braces, empty when there are none
  double value_ = 0;
  bool has_exemplar_ = false;
  std::string_view exemplar_block_;
  double exemplar_value_ = 0;
  int64_t exemplar_timestamp_ms_ = 0;
  bool exemplar_has_timestamp_ = false;

  // The current metadata entry and the family the last # TYPE announced.
  std::string_view family_;
  MetricType type_ = MetricType::kUnknown;
  std::string_view text_;  // raw HELP text, UNIT, or comment
  std::string_view typed_family_;
  MetricType typed_family_type_ = MetricType::kUnknown;
  mutable std::string help_;
  mutable bool help_ready_ = false;

  struct LabelSpan {
    std::string_view name;
    std::string_view value;  // raw, between the quotes
    bool escaped;            // value holds a backslash escape
  };
  mutable std::vector<LabelSpan> label_spans_;  // the last block ScanLabelBlock accepted
  mutable Status error_;
  mutable bool labels_failed_ = false;  // Labels() found the block invalid
};

}  // namespace shardwise::parse
