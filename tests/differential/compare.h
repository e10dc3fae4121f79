// The differential test's oracle: what two remote-write receivers got from two scrapers of
// the same targets (Prometheus and shardwise), compared sample by sample.
//
// Alignment is by scrape, not by wall time: each job's scrape timestamps are read from its
// `up` series (non-stale samples, in order), and a sample stamped with the k-th of them
// belongs to "scrape #k" of that job. Samples with any other timestamp carry one exposed by
// the target (honor_timestamps) and are compared by their timestamp. Only scrapes both
// receivers got completely are compared: scrape #k of a job counts when both hold at least
// k+1 `up` samples for it (each scraper remote-writes from one in-order queue, so the report
// series, written last in a scrape, arrives after the scrape's other samples).
//
// Within one scrape a series' values are compared as a multiset (duplicates count); samples
// with exposed timestamps as a set (Prometheus re-sends an unchanged sample every scrape).
// Staleness markers are compared exactly (the marker's bit pattern), other NaNs as "NaN".
// Values of scrape_duration_seconds are not compared, only their presence. Metadata is
// compared as the set of (family, type, help, unit) each receiver got.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace shardwise::differential {

struct Point {
  int64_t t_ms;
  double value;
};

struct SeriesData {
  std::string name;  // __name__
  std::string job;
  std::vector<Point> points;  // in arrival order
};

// What one receiver got.
struct Capture {
  std::map<std::string, SeriesData> series;  // by the series' labels, rendered
  std::set<std::string> metadata;            // "family|type|help|unit"
};

// Scrapes of `job` both captures hold completely.
size_t ComparableScrapes(const Capture& a, const Capture& b, const std::string& job);

// Every difference, one line each: "<job> scrape #3 {series}: prometheus [1] shardwise []".
// Lines are ordered by job, then series, then scrape.
std::vector<std::string> Compare(const Capture& prometheus, const Capture& shardwise,
                                 const std::vector<std::string>& jobs);

// "NaN", "stale", "+Inf", "-0", "1.5"...
std::string ValueString(double v);

}  // namespace shardwise::differential
