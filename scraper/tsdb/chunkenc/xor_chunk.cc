#include "scraper/tsdb/chunkenc/xor_chunk.h"

#include <bit>
#include <cstring>

#include "scraper/tsdb/encoding.h"

namespace shardwise::tsdb::chunkenc {

ChunkBuffer::ChunkBuffer(const ChunkBuffer& o) { *this = o; }

ChunkBuffer& ChunkBuffer::operator=(const ChunkBuffer& o) {
  if (this == &o) return *this;
  delete[] data_;
  data_ = o.cap_ == 0 ? nullptr : new char[o.cap_];
  if (o.size_ > 0) std::memcpy(data_, o.data_, o.size_);
  size_ = o.size_;
  cap_ = o.cap_;
  return *this;
}

ChunkBuffer& ChunkBuffer::operator=(ChunkBuffer&& o) noexcept {
  if (this == &o) return *this;
  delete[] data_;
  data_ = o.data_;
  size_ = o.size_;
  cap_ = o.cap_;
  o.data_ = nullptr;
  o.size_ = o.cap_ = 0;
  return *this;
}

void ChunkBuffer::Grow() {
  // Sizes glibc malloc serves without slack: 16-byte steps minus its 8-byte header.
  size_t want = cap_ + cap_ / 4 + 16;
  uint32_t cap = static_cast<uint32_t>((want + 8 + 15) / 16 * 16 - 8);
  char* fresh = new char[cap];
  if (size_ > 0) std::memcpy(fresh, data_, size_);
  delete[] data_;
  data_ = fresh;
  cap_ = cap;
}

void XorAppender::Append(int64_t t, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  if (num_ == 0) {
    data_.push_back(0);  // the sample count, set below
    data_.push_back(0);
  }
  BasicBitWriter<ChunkBuffer> w(&data_, free_bits_);
  if (num_ == 0) {
    w.WriteVarint(ZigZag(t));
    w.WriteBits(bits, 64);
    v_bits_ = bits;
  } else if (num_ == 1) {
    delta_ = WrappingSub(t, t_);
    w.WriteVarint(ZigZag(delta_));
    WriteValue(w, bits);
  } else {
    int64_t delta = WrappingSub(t, t_);
    int64_t dod = WrappingSub(delta, delta_);
    if (dod == 0) {
      w.WriteBit(false);
    } else if (FitsSigned(dod, 14)) {
      w.WriteBits(0b10, 2);
      w.WriteBits(static_cast<uint64_t>(dod), 14);
    } else if (FitsSigned(dod, 17)) {
      w.WriteBits(0b110, 3);
      w.WriteBits(static_cast<uint64_t>(dod), 17);
    } else if (FitsSigned(dod, 20)) {
      w.WriteBits(0b1110, 4);
      w.WriteBits(static_cast<uint64_t>(dod), 20);
    } else {
      w.WriteBits(0b1111, 4);
      w.WriteBits(static_cast<uint64_t>(dod), 64);
    }
    delta_ = delta;
    WriteValue(w, bits);
  }
  free_bits_ = static_cast<uint8_t>(w.free_bits());
  t_ = t;
  ++num_;
  data_[0] = static_cast<char>(num_ >> 8);
  data_[1] = static_cast<char>(num_ & 0xFF);
}

void XorAppender::WriteValue(BasicBitWriter<ChunkBuffer>& w, uint64_t bits) {
  uint64_t x = bits ^ v_bits_;
  if (x == 0) {
    w.WriteBit(false);
  } else {
    w.WriteBit(true);
    int leading = std::countl_zero(x);
    int trailing = std::countr_zero(x);
    if (leading >= 32) leading = 31;  // fits the 5-bit field
    if (leading_ != 0xFF && leading >= leading_ && trailing >= trailing_) {
      w.WriteBit(false);
      w.WriteBits(x >> trailing_, 64 - leading_ - trailing_);
    } else {
      leading_ = static_cast<uint8_t>(leading);
      trailing_ = static_cast<uint8_t>(trailing);
      int significant = 64 - leading - trailing;
      w.WriteBit(true);
      w.WriteBits(static_cast<uint64_t>(leading), 5);
      // 64 significant bits are stored as 0: a 6-bit field cannot hold 64 and a width
      // of 0 never occurs (x != 0).
      w.WriteBits(static_cast<uint64_t>(significant & 63), 6);
      w.WriteBits(x >> trailing, significant);
    }
  }
  v_bits_ = bits;
}

std::string XorAppender::Finish() {
  std::string out(bytes());
  *this = XorAppender();
  return out;
}

int NumSamples(std::string_view chunk) {
  if (chunk.size() < 2) return 0;
  return static_cast<uint8_t>(chunk[0]) << 8 | static_cast<uint8_t>(chunk[1]);
}

XorIterator::XorIterator(std::string_view chunk)
    : r_(chunk.size() >= 2 ? chunk.substr(2) : std::string_view()), total_(NumSamples(chunk)) {}

double XorIterator::v() const {
  double d;
  std::memcpy(&d, &v_bits_, 8);
  return d;
}

bool XorIterator::ReadValue() {
  bool bit;
  if (!r_.ReadBit(&bit)) return false;
  if (!bit) return true;
  if (!r_.ReadBit(&bit)) return false;
  if (bit) {
    uint64_t leading, significant;
    if (!r_.ReadBits(5, &leading) || !r_.ReadBits(6, &significant)) return false;
    if (significant == 0) significant = 64;
    if (leading + significant > 64) return false;
    leading_ = static_cast<uint8_t>(leading);
    trailing_ = static_cast<uint8_t>(64 - leading - significant);
  }
  int significant = 64 - leading_ - trailing_;
  uint64_t x;
  if (!r_.ReadBits(significant, &x)) return false;
  v_bits_ ^= x << trailing_;
  return true;
}

bool XorIterator::Next() {
  if (error_ || read_ >= total_) return false;
  bool ok = true;
  if (read_ == 0) {
    uint64_t t;
    ok = r_.ReadVarint(&t) && r_.ReadBits(64, &v_bits_);
    t_ = UnZigZag(t);
  } else if (read_ == 1) {
    uint64_t d;
    ok = r_.ReadVarint(&d);
    delta_ = UnZigZag(d);
    t_ = WrappingAdd(t_, delta_);
    ok = ok && ReadValue();
  } else {
    int prefix = 0;
    bool bit = true;
    while (prefix < 4 && (ok = r_.ReadBit(&bit)) && bit) ++prefix;
    if (ok) {
      static constexpr int kWidth[] = {0, 14, 17, 20, 64};
      int width = kWidth[prefix];
      int64_t dod = 0;
      if (width > 0) {
        uint64_t raw;
        ok = r_.ReadBits(width, &raw);
        if (width < 64 && (raw >> (width - 1)) & 1) raw |= ~uint64_t{0} << width;  // sign-extend
        dod = static_cast<int64_t>(raw);
      }
      delta_ = WrappingAdd(delta_, dod);
      t_ = WrappingAdd(t_, delta_);
      ok = ok && ReadValue();
    }
  }
  if (!ok) {
    error_ = true;
    return false;
  }
  ++read_;
  return true;
}

}  // namespace shardwise::tsdb::chunkenc
