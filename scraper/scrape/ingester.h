// Ingester: turns one scrape's outcome into samples, with Prometheus's semantics.
//
// Ingest() parses the body, maps each series through the scrape cache (target labels merged
// per honor_labels, then metric relabeling, then label limits on a cache miss), appends
// every sample and the staleness markers of series that went away, adds the report series
// (up, scrape_duration_seconds, scrape_samples_scraped,
// scrape_samples_post_metric_relabeling, scrape_series_added) and commits, all in one
// appender. Any error in the body — malformed exposition, sample limit, label limits, a
// storage failure — discards the whole scrape: the appender is rolled back and a second one
// holds only up=0, the other report series and staleness markers. As in Prometheus 2.42,
// the markers go to the previous scrape's series that the failed body did not list before
// its failure point; the ones it did list stay live (ScrapeCache::CommitPartial).
// IngestFailure() is for a scrape that never got a body (network error, HTTP status,
// timeout): an empty scrape, every series of the previous one gets a marker.
//
// Report series, as Prometheus 2.42: scrape_samples_scraped counts every sample line
// parsed; scrape_samples_post_metric_relabeling every one metric relabeling kept, including
// duplicates, out-of-order samples and those over sample_limit; scrape_series_added the
// series new to this target's cache whose first sample storage accepted within the limit.
// A scrape that fails in the body reports the counts up to the failure (the whole body for
// sample_limit, whose parse goes on to the end); one without a body reports zeros.
//
// Metadata (# TYPE/HELP/UNIT) is kept per target in a MetadataCache (metadata()).
//
// honor_labels=false: target labels win; a clashing exposed label is kept as
// exported_<name> (more "exported_" prefixes while that name is taken too).
// honor_labels=true: exposed labels win; target labels fill in only absent ones.
// honor_timestamps=false: exposed timestamps are ignored.
//
// Not thread-safe: a scrape loop serialises its calls.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/labels.h"
#include "common/relabel/relabeler.h"
#include "common/status.h"
#include "scraper/parse/parser.h"
#include "scraper/scrape/metadata_cache.h"
#include "scraper/scrape/scrape_cache.h"
#include "scraper/storage/appender.h"

namespace shardwise::scrape {

struct IngestOptions {
  bool honor_labels = false;
  bool honor_timestamps = true;
  uint64_t sample_limit = 0;  // 0 = no limit, for all limits
  uint64_t label_limit = 0;
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;
  relabel::Relabeler metric_relabeler;
};

struct IngestResult {
  Status status;           // why the scrape failed; OK when it was ingested
  std::string_view limit;  // "sample_limit", "label_limit", ... when a limit failed it
  size_t samples_scraped = 0;
  size_t samples_post_relabel = 0;
  size_t series_added = 0;
  size_t stale_markers = 0;
  // Samples the storage refused (the scrape goes on without them), by reason.
  size_t samples_out_of_bounds = 0;
  size_t samples_out_of_order = 0;
  size_t samples_duplicate = 0;
};

class Ingester {
 public:
  Ingester(Labels target_labels, IngestOptions options, storage::Appendable& storage);

  IngestResult Ingest(std::string_view body, std::string_view content_type, int64_t ts_ms,
                      double duration_seconds);
  IngestResult IngestFailure(Status error, int64_t ts_ms, double duration_seconds);
  // Staleness markers for every live series and the report series (the target went away).
  Status WriteStaleMarkers(int64_t ts_ms);

  size_t cache_size() const { return cache_.size(); }
  size_t live_series() const { return cache_.LiveSeries(); }
  const Labels& target_labels() const { return target_labels_; }
  const MetadataCache& metadata() const { return metadata_; }

 private:
  // Fills `result` counts; returns the error that fails the scrape.
  Status AppendBody(std::string_view body, std::string_view content_type, int64_t ts_ms,
                    storage::Appender& app, IngestResult& result);
  // A series not in the cache: builds its final labels into `labels` (or marks the entry
  // dropped).
  Status NewEntry(parse::Parser& parser, ScrapeCache::Entry& entry, IngestResult& result,
                  Labels& labels);
  // The final labels of a cached series, derived again from its raw text (the cache keeps
  // no copy of them).
  Status DeriveLabels(std::string_view raw, Labels& labels);
  void RecordMetadata(parse::Entry kind, const parse::Parser& parser);
  // Appends by ref; hands the storage the labels only when the entry has no ref (or the
  // storage forgot it): `fresh` when the caller has just built them, else derived.
  Status AppendSample(storage::Appender& app, ScrapeCache::Entry& node, int64_t t, double v,
                      const Labels* fresh = nullptr);
  // partial: the body was parsed up to a failure; the series seen so far stay live.
  IngestResult IngestFailure(IngestResult r, int64_t ts_ms, double duration_seconds, bool partial);
  Status AppendReport(storage::Appender& app, int64_t ts_ms, bool up, double duration,
                      const IngestResult& r);
  Status CheckLabelLimits(const Labels& labels, IngestResult& result) const;
  void MergeTargetLabels(LabelsBuilder& b) const;

  // Appends one staleness marker per series (not per cache entry) in one pass.
  class StaleMarker {
   public:
    StaleMarker(Ingester& ingester, storage::Appender& app, int64_t ts_ms, IngestResult& result)
        : ingester_(ingester), app_(app), ts_ms_(ts_ms), result_(result) {}
    void operator()(ScrapeCache::Entry& node);

   private:
    Ingester& ingester_;
    storage::Appender& app_;
    const int64_t ts_ms_;
    IngestResult& result_;
    std::unordered_set<uint64_t> marked_;  // label hashes
  };

  enum { kUp, kDuration, kScraped, kPostRelabel, kSeriesAdded, kReportSeries };
  Labels target_labels_;
  IngestOptions options_;
  storage::Appendable& storage_;
  ScrapeCache cache_;
  MetadataCache metadata_;
  Labels report_labels_[kReportSeries];
  storage::SeriesRef report_refs_[kReportSeries] = {};
  LabelsBuilder builder_;                                  // reused on cache misses
  Labels new_labels_;                                      // of the series just added to the cache
  parse::Format format_ = parse::Format::kPrometheusText;  // of the body being ingested
};

}  // namespace shardwise::scrape
