// Sealed chunks: what the head keeps once a chunk is full. The first byte names the
// encoding, the rest is that encoding's bytes. Seal() turns a finished XOR chunk into
// the smaller of XOR and decimal (decimal only when every value round-trips exactly);
// Iterator reads either.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "scraper/tsdb/chunkenc/decimal_chunk.h"
#include "scraper/tsdb/chunkenc/xor_chunk.h"

namespace shardwise::tsdb::chunkenc {

enum class Encoding : uint8_t { kXor = 1, kDecimal = 2 };

std::string Seal(const std::string& xor_chunk);
Encoding SealedEncoding(std::string_view sealed);

class Iterator {
 public:
  explicit Iterator(std::string_view sealed);
  bool Next();
  int64_t t() const;
  double v() const;
  bool error() const;

 private:
  std::variant<XorIterator, DecimalIterator> it_;
  bool bad_header_ = false;
};

}  // namespace shardwise::tsdb::chunkenc
