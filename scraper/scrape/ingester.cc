#include "scraper/scrape/ingester.h"

#include <cmath>

#include "scraper/parse/parser.h"

namespace shardwise::scrape {
namespace {

// The parser's type enum converts by value to the wire's.
static_assert(static_cast<int>(parse::MetricType::kCounter) ==
              static_cast<int>(storage::MetricType::kCounter));
static_assert(static_cast<int>(parse::MetricType::kStateset) ==
              static_cast<int>(storage::MetricType::kStateset));
static_assert(static_cast<int>(parse::MetricType::kGaugeHistogram) ==
              static_cast<int>(storage::MetricType::kGaugeHistogram));

constexpr const char* kReportNames[] = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                                        "scrape_samples_post_metric_relabeling",
                                        "scrape_series_added"};

Status LimitError(std::string_view limit, const Labels& labels, std::string detail) {
  std::string metric(labels.Get(kMetricName).substr(0, 50));
  return Status::ResourceExhausted(std::string(limit) + " exceeded (metric: " + metric + ", " +
                                   detail + ")");
}

}  // namespace

Ingester::Ingester(Labels target_labels, IngestOptions options, storage::Appendable& storage)
    : target_labels_(std::move(target_labels)), options_(std::move(options)), storage_(storage) {
  for (int i = 0; i < kReportSeries; ++i) {
    LabelsBuilder b(target_labels_);
    b.Set(kMetricName, kReportNames[i]);
    report_labels_[i] = b.Build();
  }
}

void Ingester::MergeTargetLabels(LabelsBuilder& b) const {
  if (options_.honor_labels) {
    for (const auto& l : target_labels_) {
      if (b.Get(l.name).empty()) b.Set(l.name, l.value);
    }
    return;
  }
  Labels exposed = b.Build();
  for (const auto& l : target_labels_) {
    std::string_view existing = exposed.Get(l.name);
    if (!existing.empty()) {
      std::string name = "exported_" + l.name;
      while (exposed.Has(name) || target_labels_.Has(name)) name = "exported_" + name;
      b.Set(name, existing);
    }
    b.Set(l.name, l.value);
  }
}

Status Ingester::CheckLabelLimits(const Labels& labels, IngestResult& result) const {
  if (options_.label_limit > 0 && labels.size() > options_.label_limit) {
    result.limit = "label_limit";
    return LimitError("label_limit", labels,
                      "number of labels: " + std::to_string(labels.size()) +
                          ", limit: " + std::to_string(options_.label_limit));
  }
  for (const auto& l : labels) {
    if (options_.label_name_length_limit > 0 && l.name.size() > options_.label_name_length_limit) {
      result.limit = "label_name_length_limit";
      return LimitError("label_name_length_limit", labels,
                        "label name: " + l.name.substr(0, 50) +
                            ", length: " + std::to_string(l.name.size()) +
                            ", limit: " + std::to_string(options_.label_name_length_limit));
    }
    if (options_.label_value_length_limit > 0 &&
        l.value.size() > options_.label_value_length_limit) {
      result.limit = "label_value_length_limit";
      return LimitError("label_value_length_limit", labels,
                        "label: " + l.name.substr(0, 50) +
                            ", value length: " + std::to_string(l.value.size()) +
                            ", limit: " + std::to_string(options_.label_value_length_limit));
    }
  }
  return Status::OK();
}

Status Ingester::NewEntry(parse::Parser& parser, ScrapeCache::Entry& entry, IngestResult& result,
                          Labels& labels) {
  builder_.Reset();
  parser.Labels(builder_);
  if (builder_.Get(kMetricName).empty()) {
    // The parser found the label block invalid; its next entry carries the error.
    if (parser.Next() == parse::Entry::kError) return parser.error();
    return Status::InvalidArgument("series without a metric name");
  }
  MergeTargetLabels(builder_);
  if (!options_.metric_relabeler.empty() && !options_.metric_relabeler.Process(builder_)) {
    entry.dropped = true;
    return Status::OK();
  }
  labels = builder_.Build();
  if (labels.Get(kMetricName).empty()) {
    return Status::InvalidArgument("metric relabeling left a series without a metric name");
  }
  entry.labels_hash = labels.Hash();
  return CheckLabelLimits(labels, result);
}

Status Ingester::DeriveLabels(std::string_view raw, Labels& labels) {
  // The raw text was valid when the entry was made and the options have not changed since
  // (a loop's ingester lives as long as its configuration), so this yields the same labels.
  std::string line(raw);
  line += " 0\n";
  if (format_ == parse::Format::kOpenMetrics) line += "# EOF\n";
  std::unique_ptr<parse::Parser> parser = parse::Parser::New(format_, line);
  if (parser->Next() != parse::Entry::kSeries) {
    return Status::Internal("cached series no longer parses: " + std::string(raw.substr(0, 100)));
  }
  ScrapeCache::Entry entry;
  IngestResult ignored;
  SHARDWISE_RETURN_IF_ERROR(NewEntry(*parser, entry, ignored, labels));
  if (entry.dropped) return Status::Internal("cached series now dropped by relabeling");
  return Status::OK();
}

Status Ingester::AppendSample(storage::Appender& app, ScrapeCache::Entry& node, int64_t t, double v,
                              const Labels* fresh) {
  static const Labels kByRef;
  ScrapeCache::Entry& e = node;
  if (e.ref != 0) {
    Status st = app.Append(e.ref, kByRef, t, v);
    if (st.code() != Status::Code::kNotFound) return st;
    e.ref = 0;  // the storage forgot the ref: it needs the labels again
  }
  if (fresh != nullptr) return app.Append(e.ref, *fresh, t, v);
  Labels labels;
  SHARDWISE_RETURN_IF_ERROR(DeriveLabels(cache_.Raw(node), labels));
  return app.Append(e.ref, labels, t, v);
}

void Ingester::RecordMetadata(parse::Entry kind, const parse::Parser& parser) {
  switch (kind) {
    case parse::Entry::kType:
      metadata_.SetType(parser.FamilyName(), static_cast<storage::MetricType>(parser.Type()));
      break;
    case parse::Entry::kHelp:
      metadata_.SetHelp(parser.FamilyName(), parser.Help());
      break;
    case parse::Entry::kUnit:
      metadata_.SetUnit(parser.FamilyName(), parser.Unit());
      break;
    default:
      break;
  }
}

Status Ingester::AppendBody(std::string_view body, std::string_view content_type, int64_t ts_ms,
                            storage::Appender& app, IngestResult& r) {
  format_ = parse::FormatFromContentType(content_type);
  std::unique_ptr<parse::Parser> parser = parse::Parser::New(format_, body);
  const uint64_t sample_limit = options_.sample_limit;
  uint64_t appended = 0;  // samples handed to storage, what sample_limit counts
  bool over_limit = false;
  for (;;) {
    parse::Entry kind = parser->Next();
    if (kind == parse::Entry::kEnd) break;
    if (kind == parse::Entry::kError) return parser->error();
    if (kind != parse::Entry::kSeries) {
      RecordMetadata(kind, *parser);
      continue;
    }
    ++r.samples_scraped;

    std::string_view raw = parser->Series();
    ScrapeCache::Entry* node = cache_.Find(raw);
    bool new_series = false;
    if (node == nullptr) {
      ScrapeCache::Entry entry;
      SHARDWISE_RETURN_IF_ERROR(NewEntry(*parser, entry, r, new_labels_));
      node = cache_.Add(raw, std::move(entry));
      if (node == nullptr) return Status::InvalidArgument("series text over 16 MiB");
      new_series = !node->dropped;
    }
    ScrapeCache::Entry& e = *node;
    if (e.dropped) {
      cache_.MarkSeen(node, false);
      continue;
    }
    // As Prometheus: every sample left after metric relabeling counts, whatever storage
    // then makes of it (duplicate, out of order, over the sample limit).
    ++r.samples_post_relabel;
    int64_t t = ts_ms;
    bool track = true;
    if (options_.honor_timestamps) {
      if (std::optional<int64_t> exposed = parser->TimestampMs()) {
        t = *exposed;
        track = false;
      }
    }
    if (!cache_.MarkSeen(node, track)) continue;  // duplicate series: the first one counts
    // Over the limit, parsing goes on so that scrape_samples_scraped reports the whole body.
    if (over_limit) continue;
    if (sample_limit > 0 && appended >= sample_limit) {
      over_limit = true;
      continue;
    }
    ++appended;
    Status st = AppendSample(app, *node, t, parser->Value(), new_series ? &new_labels_ : nullptr);
    if (st.code() == Status::Code::kInvalidArgument) {  // too old, out of order: skip it
      switch (storage::RejectionOf(st)) {
        case storage::Rejection::kOutOfBounds:
          ++r.samples_out_of_bounds;
          break;
        case storage::Rejection::kOutOfOrder:
          ++r.samples_out_of_order;
          break;
        case storage::Rejection::kDuplicate:
          ++r.samples_duplicate;
          break;
        default:
          break;
      }
      continue;
    }
    if (!st.ok()) return st.WithContext("storage");
    if (new_series) ++r.series_added;
  }
  if (over_limit) {
    r.limit = "sample_limit";
    return Status::ResourceExhausted(
        "sample_limit exceeded (limit: " + std::to_string(sample_limit) + ")");
  }
  return Status::OK();
}

Status Ingester::AppendReport(storage::Appender& app, int64_t ts_ms, bool up, double duration,
                              const IngestResult& r) {
  const double values[kReportSeries] = {
      up ? 1.0 : 0.0, duration, static_cast<double>(r.samples_scraped),
      static_cast<double>(r.samples_post_relabel), static_cast<double>(r.series_added)};
  for (int i = 0; i < kReportSeries; ++i) {
    Status st = app.Append(report_refs_[i], report_labels_[i], ts_ms, values[i]);
    if (st.code() == Status::Code::kNotFound) {
      report_refs_[i] = 0;
      st = app.Append(report_refs_[i], report_labels_[i], ts_ms, values[i]);
    }
    if (!st.ok() && st.code() != Status::Code::kInvalidArgument) return st;
  }
  return Status::OK();
}

IngestResult Ingester::Ingest(std::string_view body, std::string_view content_type, int64_t ts_ms,
                              double duration_seconds) {
  IngestResult r;
  std::unique_ptr<storage::Appender> app = storage_.NewAppender();
  cache_.Begin();
  r.status = AppendBody(body, content_type, ts_ms, *app, r);
  metadata_.EndPass();
  if (!r.status.ok()) {
    app->Rollback();
    return IngestFailure(r, ts_ms, duration_seconds, /*partial=*/true);
  }
  StaleMarker mark(*this, *app, ts_ms, r);
  cache_.Commit(mark);
  Status st = AppendReport(*app, ts_ms, true, duration_seconds, r);
  if (st.ok()) st = app->Commit();
  if (!st.ok()) r.status = st.WithContext("storage");
  return r;
}

IngestResult Ingester::IngestFailure(Status error, int64_t ts_ms, double duration_seconds) {
  IngestResult r;
  r.status = std::move(error);
  cache_.Begin();
  metadata_.EndPass();
  return IngestFailure(r, ts_ms, duration_seconds, /*partial=*/false);
}

IngestResult Ingester::IngestFailure(IngestResult r, int64_t ts_ms, double duration_seconds,
                                     bool partial) {
  std::unique_ptr<storage::Appender> app = storage_.NewAppender();
  StaleMarker mark(*this, *app, ts_ms, r);
  if (partial) {
    cache_.CommitPartial(mark);
  } else {
    cache_.Fail(mark);
  }
  // As Prometheus: the report carries what the failed pass counted before it stopped (the
  // whole body for sample_limit), though none of it was stored.
  Status st = AppendReport(*app, ts_ms, false, duration_seconds, r);
  if (st.ok()) st = app->Commit();
  r.samples_post_relabel = 0;
  r.series_added = 0;
  return r;
}

void Ingester::StaleMarker::operator()(ScrapeCache::Entry& node) {
  // Series text written in two ways (labels in another order, or made equal by metric
  // relabeling) is one series: one marker, as Prometheus keys staleness by labels.
  if (!marked_.insert(node.labels_hash).second) return;
  if (ingester_.AppendSample(app_, node, ts_ms_, storage::StaleNaN()).ok()) {
    ++result_.stale_markers;
  }
}

Status Ingester::WriteStaleMarkers(int64_t ts_ms) {
  std::unique_ptr<storage::Appender> app = storage_.NewAppender();
  const double stale = storage::StaleNaN();
  Status first;
  cache_.ForEachLive([&](ScrapeCache::Entry& node) {
    Status st = AppendSample(*app, node, ts_ms, stale);
    if (!st.ok() && first.ok()) first = st;
  });
  cache_.MarkAllStale();
  for (int i = 0; i < kReportSeries; ++i) {
    Status st = app->Append(report_refs_[i], report_labels_[i], ts_ms, stale);
    if (!st.ok() && first.ok()) first = st;
  }
  Status st = app->Commit();
  return first.ok() ? st : first;
}

}  // namespace shardwise::scrape
