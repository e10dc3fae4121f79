// Labels: an immutable, name-sorted set of label pairs identifying a series or a target.
// Names are unique. "__name__" holds the metric name. Hash() is stable across processes
// and versions (xxHash3 over the canonical encoding) so it can be persisted and used for
// sharding. LabelsBuilder edits a set and produces a new sorted Labels.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shardwise {

inline constexpr std::string_view kMetricName = "__name__";

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
  auto operator<=>(const Label&) const = default;
};

class Labels {
 public:
  Labels() = default;
  // Sorts by name; for duplicate names the last one wins.
  Labels(std::initializer_list<Label> labels);
  static Labels FromUnsorted(std::vector<Label> labels);
  // Takes labels already sorted by name with unique names (checked in debug builds).
  static Labels FromSorted(std::vector<Label> labels);

  // The value of `name`, or "" when absent (Prometheus treats empty and absent alike).
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  const Label* Find(std::string_view name) const;

  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  auto begin() const { return labels_.begin(); }
  auto end() const { return labels_.end(); }
  const Label& operator[](size_t i) const { return labels_[i]; }
  const std::vector<Label>& vec() const { return labels_; }

  // Stable 64-bit hash of the whole set.
  uint64_t Hash() const;
  // Hash over only the given names (missing names hash as empty), as hashmod would need.
  uint64_t HashFor(const std::vector<std::string>& names) const;
  // {a="1", b="2"} with the metric name in front when present: up{job="x"}.
  std::string ToString() const;
  // Total bytes of names and values, for label-limit checks.
  size_t ByteSize() const;

  bool operator==(const Labels&) const = default;
  auto operator<=>(const Labels&) const = default;

 private:
  std::vector<Label> labels_;
};

// Collects edits against a base set; Labels() applies them and returns a sorted set.
// Setting an empty value deletes the label, as in Prometheus.
class LabelsBuilder {
 public:
  LabelsBuilder() = default;
  explicit LabelsBuilder(const Labels& base) { Reset(base); }
  void Reset(const Labels& base);
  void Reset() { labels_.clear(); }
  void Set(std::string_view name, std::string_view value);
  void Del(std::string_view name);
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  // Calls fn(name, value) for every label currently set (unsorted order).
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& l : labels_) fn(l.name, l.value);
  }
  void Keep(const std::vector<std::string>& names);
  Labels Build() const;

 private:
  std::vector<Label> labels_;  // unsorted, unique names
};

// True when `name` matches [a-zA-Z_][a-zA-Z0-9_]* (the classic Prometheus label-name rule).
bool IsValidLabelName(std::string_view name);
// True when `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsValidMetricName(std::string_view name);

}  // namespace shardwise
