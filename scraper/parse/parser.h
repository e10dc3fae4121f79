// Exposition parsers: the Prometheus text format 0.0.4 and OpenMetrics 1.0 text.
//
// A Parser walks one scrape body without copying it. Next() advances to the next entry;
// for a series entry, Series() is the raw series text exactly as exposed (name plus the
// label block, whitespace-trimmed), which the scrape cache uses as its key so that a series
// seen before costs no label parsing. Labels() does the full parse (and the label checks)
// only on a cache miss.
//
// Errors: on malformed input Next() returns Entry::kError and error() carries
// "line L, column C: reason". The scrape that gets an error must discard everything it
// parsed (no partial ingest). A parser never reads outside the body and never crashes on
// any input (fuzzed).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "common/labels.h"
#include "common/status.h"

namespace shardwise::parse {

enum class Format { kPrometheusText, kOpenMetrics };

// The Accept header Prometheus 2.x sends: OpenMetrics preferred, text 0.0.4 as fallback.
inline constexpr std::string_view kScrapeAcceptHeader =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

// OpenMetrics for "application/openmetrics-text" (any version), otherwise Prometheus text
// (including an empty or unknown Content-Type, as Prometheus does).
Format FormatFromContentType(std::string_view content_type);

enum class MetricType {
  kUnknown,
  kCounter,
  kGauge,
  kHistogram,
  kGaugeHistogram,
  kSummary,
  kInfo,
  kStateset,
};

enum class Entry {
  kSeries,   // a sample line
  kType,     // # TYPE
  kHelp,     // # HELP
  kUnit,     // # UNIT (OpenMetrics)
  kComment,  // any other comment
  kEnd,      // end of input (after "# EOF" for OpenMetrics)
  kError,    // malformed input; see error()
};

struct Exemplar {
  Labels labels;
  double value = 0;
  std::optional<int64_t> timestamp_ms;
};

class Parser {
 public:
  virtual ~Parser() = default;

  // `body` must outlive the parser and every string_view it hands out.
  static std::unique_ptr<Parser> New(Format format, std::string_view body);

  virtual Entry Next() = 0;

  // Valid after kSeries.
  virtual std::string_view Series() const = 0;
  virtual double Value() const = 0;
  // Milliseconds since the epoch; OpenMetrics seconds are converted. Not virtual: it is
  // asked once per sample on the ingest hot path, and Next() has already decided it.
  std::optional<int64_t> TimestampMs() const {
    return has_timestamp_ ? std::optional<int64_t>(timestamp_ms_) : std::nullopt;
  }
  // Parses the current series' labels (with __name__) into `out`, unescaping values.
  // `out` is reset first. Next() checks everything except the inside of the label block,
  // so that known series cost no label work; Labels() checks it (names, quoting, escapes,
  // UTF-8, duplicate names). On an invalid block `out` is left empty and the following
  // Next() returns kError. Callers must therefore keep nothing from a scrape that ends in
  // kError, scrape-cache entries included — else a cached invalid series would later pass
  // unchecked.
  virtual void Labels(LabelsBuilder& out) const = 0;
  // True when the current sample carries an exemplar, which is stored in `out`.
  virtual bool Exemplar(struct Exemplar& out) const = 0;
  // OpenMetrics only: true when the current sample is the "<family>_created" sample of the
  // counter, histogram, gaugehistogram or summary family announced by the last # TYPE.
  // Its value is a creation time in seconds, not a measurement; Prometheus 2.42 ingests it
  // as an ordinary series, later versions turn it into a created timestamp.
  virtual bool IsCreatedSample() const { return false; }

  // Valid after kType / kHelp / kUnit: the metric family and its type, help or unit.
  virtual std::string_view FamilyName() const = 0;
  virtual MetricType Type() const = 0;
  virtual std::string_view Help() const = 0;  // unescaped lazily; may allocate
  virtual std::string_view Unit() const = 0;

  // Valid after kError.
  virtual const Status& error() const = 0;

 protected:
  // The current sample's exposed timestamp, set by Next() of the implementation.
  int64_t timestamp_ms_ = 0;
  bool has_timestamp_ = false;
};

}  // namespace shardwise::parse
