// The sample sink between the scrape engine and storage. A scrape obtains one Appender,
// appends every sample of that scrape and then commits (all become visible and durable
// per the storage's policy) or rolls back (none do). This is what makes a failed scrape
// ingest nothing rather than a silent partial batch.
//
// Series references: Append returns, through `ref`, a storage-chosen id for the series.
// Callers cache it (keyed by the raw series text) and pass it back on later appends, so
// steady-state appends skip label handling. A ref of 0 means "unknown: look up `labels`".
// A ref is valid for the lifetime of the Appendable that issued it, unless the storage
// reports NotFound for it, in which case the caller retries with ref 0.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "common/labels.h"
#include "common/status.h"

namespace shardwise::storage {

using SeriesRef = uint64_t;

// Prometheus's staleness marker: a NaN with this exact bit pattern. Distinct from a NaN
// value exposed by a target, and preserved bit for bit through the whole pipeline.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

inline double StaleNaN() {
  double d;
  std::memcpy(&d, &kStaleNaNBits, sizeof d);
  return d;
}
inline bool IsStaleNaN(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == kStaleNaNBits;
}

// Why a storage refused one sample (the batch goes on without it): the InvalidArgument
// message starts with one of these (Prometheus's error texts). RejectionOf() classifies.
inline constexpr std::string_view kErrOutOfBounds = "out of bounds";
inline constexpr std::string_view kErrOutOfOrder = "out of order sample";
inline constexpr std::string_view kErrDuplicate = "duplicate sample for timestamp";

enum class Rejection { kNone, kOutOfBounds, kOutOfOrder, kDuplicate, kOther };
inline Rejection RejectionOf(const Status& st) {
  if (st.ok()) return Rejection::kNone;
  if (st.code() != Status::Code::kInvalidArgument) return Rejection::kOther;
  std::string_view m = st.message();
  if (m.starts_with(kErrOutOfBounds)) return Rejection::kOutOfBounds;
  if (m.starts_with(kErrOutOfOrder)) return Rejection::kOutOfOrder;
  if (m.starts_with(kErrDuplicate)) return Rejection::kDuplicate;
  return Rejection::kOther;
}

class Appender {
 public:
  virtual ~Appender() = default;
  // Appends (t_ms, v) to the series. `ref` is in/out: see the file comment.
  // Errors: InvalidArgument for an out-of-bounds (too old), out-of-order or duplicate
  // sample (the sample is skipped, the batch continues; RejectionOf() tells which),
  // ResourceExhausted when a series limit is hit. Commit fails (nothing of the batch is
  // stored) when the storage cannot write, e.g. its disk is full.
  virtual Status Append(SeriesRef& ref, const Labels& labels, int64_t t_ms, double v) = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
};

class Appendable {
 public:
  virtual ~Appendable() = default;
  virtual std::unique_ptr<Appender> NewAppender() = 0;
};

}  // namespace shardwise::storage
