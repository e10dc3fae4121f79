#include "scraper/tsdb/chunkenc/chunk.h"

#include <vector>

namespace shardwise::tsdb::chunkenc {

std::string Seal(const std::string& xor_chunk) {
  std::vector<TimedValue> samples;
  samples.reserve(static_cast<size_t>(NumSamples(xor_chunk)));
  XorIterator it(xor_chunk);
  while (it.Next()) samples.push_back({it.t(), it.v()});
  std::string out;
  if (!it.error()) {
    auto decimal = EncodeDecimal(samples);
    if (decimal && decimal->size() < xor_chunk.size()) {
      out.reserve(decimal->size() + 1);
      out.push_back(static_cast<char>(Encoding::kDecimal));
      out += *decimal;
      return out;
    }
  }
  out.reserve(xor_chunk.size() + 1);
  out.push_back(static_cast<char>(Encoding::kXor));
  out += xor_chunk;
  return out;
}

Encoding SealedEncoding(std::string_view sealed) {
  return !sealed.empty() && sealed[0] == static_cast<char>(Encoding::kDecimal) ? Encoding::kDecimal
                                                                               : Encoding::kXor;
}

Iterator::Iterator(std::string_view sealed)
    : it_(std::in_place_type<XorIterator>, std::string_view()) {
  if (sealed.empty()) {
    bad_header_ = true;
    return;
  }
  auto encoding = static_cast<Encoding>(sealed[0]);
  sealed.remove_prefix(1);
  if (encoding == Encoding::kXor) {
    it_.emplace<XorIterator>(sealed);
  } else if (encoding == Encoding::kDecimal) {
    it_.emplace<DecimalIterator>(sealed);
  } else {
    bad_header_ = true;
  }
}

bool Iterator::Next() {
  if (bad_header_) return false;
  return std::visit([](auto& it) { return it.Next(); }, it_);
}
int64_t Iterator::t() const {
  return std::visit([](const auto& it) { return it.t(); }, it_);
}
double Iterator::v() const {
  return std::visit([](const auto& it) { return it.v(); }, it_);
}
bool Iterator::error() const {
  return bad_header_ || std::visit([](const auto& it) { return it.error(); }, it_);
}

}  // namespace shardwise::tsdb::chunkenc
