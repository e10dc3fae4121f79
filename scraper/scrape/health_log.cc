#include "scraper/scrape/health_log.h"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace shardwise::scrape {
namespace {

std::string Shape(const std::string& message) {
  std::string out;
  out.reserve(message.size());
  std::copy_if(message.begin(), message.end(), std::back_inserter(out),
               [](char c) { return !std::isdigit(static_cast<unsigned char>(c)); });
  return out;
}

}  // namespace

HealthLog::Change HealthLog::Observe(const Status& status) {
  if (status.ok()) {
    if (!failing_) {
      failures_ = 0;
      return Change::kNone;
    }
    failing_ = false;
    return Change::kRecovered;  // failures_ keeps the outage's length until the next call
  }
  if (!failing_) failures_ = 0;
  ++failures_;
  std::string shape = Shape(status.message());
  if (!failing_) {
    failing_ = true;
    code_ = status.code();
    shape_ = std::move(shape);
    return Change::kFailing;
  }
  if (status.code() == code_ && shape == shape_) return Change::kNone;
  code_ = status.code();
  shape_ = std::move(shape);
  return Change::kErrorChanged;
}

}  // namespace shardwise::scrape
