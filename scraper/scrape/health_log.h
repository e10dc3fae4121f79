// HealthLog: decides when a target's scrape outcome deserves a log line — once per change
// of state, never once per scrape. A target that starts failing is reported once; one that
// keeps failing the same way stays silent however long the outage; a different error is
// reported again; the recovery is reported once with the number of scrapes that failed.
//
// "The same way" compares the status code and the message with its digits removed, so
// errors that differ only in a measured duration, a port or an HTTP status of the same
// class of failure do not count as new.
//
// Not thread-safe: the owning scrape loop serialises calls.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace shardwise::scrape {

class HealthLog {
 public:
  enum class Change { kNone, kFailing, kErrorChanged, kRecovered };

  Change Observe(const Status& status);
  // Consecutive failed scrapes up to and including the last observed one (after
  // kRecovered: the length of the outage that just ended).
  uint64_t failures() const { return failures_; }

 private:
  bool failing_ = false;
  Status::Code code_ = Status::Code::kOk;
  std::string shape_;  // the last error's message without digits
  uint64_t failures_ = 0;
};

}  // namespace shardwise::scrape
