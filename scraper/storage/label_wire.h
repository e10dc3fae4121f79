// The remote-write `Label` message (prometheus.Label inside TimeSeries.labels) as bytes:
// field tag and length first, then name and value as proto3 strings (empty ones omitted),
// exactly as libprotobuf writes them. The process's label pair table stores each pair in
// this form and remote write's encoder copies it into requests, so both write it here.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

#include "common/varint.h"

namespace shardwise::storage {

namespace label_wire {
constexpr char kTagLabel = (1 << 3) | 2;  // TimeSeries.labels
constexpr char kTagName = (1 << 3) | 2;   // Label.name
constexpr char kTagValue = (2 << 3) | 2;  // Label.value

inline size_t StringFieldSize(std::string_view s) {
  return s.empty() ? 0 : 1 + VarintSize(s.size()) + s.size();
}

inline char* PutStringField(char* p, char tag, std::string_view s) {
  if (s.empty()) return p;  // proto3 omits empty strings
  *p++ = tag;
  p = PutVarint(p, s.size());
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}
}  // namespace label_wire

// Bytes of the Label message for (name, value), tag and length included.
inline size_t LabelMessageSize(std::string_view name, std::string_view value) {
  const size_t body = label_wire::StringFieldSize(name) + label_wire::StringFieldSize(value);
  return 1 + VarintSize(body) + body;
}

// Writes that message at `p` (LabelMessageSize bytes); returns the end.
inline char* PutLabelMessage(char* p, std::string_view name, std::string_view value) {
  *p++ = label_wire::kTagLabel;
  p = PutVarint(p, label_wire::StringFieldSize(name) + label_wire::StringFieldSize(value));
  p = label_wire::PutStringField(p, label_wire::kTagName, name);
  return label_wire::PutStringField(p, label_wire::kTagValue, value);
}

}  // namespace shardwise::storage
