// Lexical primitives shared by the exposition parsers: character classes for metric and
// label names, number and timestamp parsing with Prometheus's accepted spellings, UTF-8
// validation and unescaping. All functions are pure, bounded by the given range, and
// never allocate except the Append* ones, which append to a caller-owned string.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/utf8.h"

namespace shardwise::parse::lex {

enum CharClass : uint8_t {
  kMetricNameStart = 1,  // [a-zA-Z_:]
  kMetricNameChar = 2,   // [a-zA-Z0-9_:]
  kLabelNameStart = 4,   // [a-zA-Z_]
  kLabelNameChar = 8,    // [a-zA-Z0-9_]
  kBlank = 16,           // space or tab
};

namespace internal {
constexpr std::array<uint8_t, 256> MakeCharClass() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    uint8_t v = 0;
    if (alpha || c == ':') v |= kMetricNameStart;
    if (alpha || digit || c == ':') v |= kMetricNameChar;
    if (alpha) v |= kLabelNameStart;
    if (alpha || digit) v |= kLabelNameChar;
    if (c == ' ' || c == '\t') v |= kBlank;
    t[c] = v;
  }
  return t;
}
}  // namespace internal

inline constexpr std::array<uint8_t, 256> kCharClass = internal::MakeCharClass();

inline bool Is(char c, CharClass cls) { return kCharClass[static_cast<unsigned char>(c)] & cls; }

// Advances over characters of class `cls`; returns the first position not in it (or end).
inline const char* SkipClass(const char* p, const char* end, CharClass cls) {
  while (p < end && Is(*p, cls)) ++p;
  return p;
}
inline const char* SkipBlanks(const char* p, const char* end) { return SkipClass(p, end, kBlank); }

// The first position in [p, end) holding `c`, or end.
inline const char* Find(const char* p, const char* end, char c) {
  while (p < end && *p != c) ++p;
  return p;
}
// The first blank (space or tab) in [p, end), or end.
inline const char* FindBlank(const char* p, const char* end) {
  while (p < end && !Is(*p, kBlank)) ++p;
  return p;
}

// Scans a quoted string's body from p (just after the opening quote) up to the first '"',
// '\\' or byte >= 0x80, eight bytes at a time; returns that position or end.
inline const char* FindQuoteBackslashOrHigh(const char* p, const char* end) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  while (end - p >= 8) {
    uint64_t v;
    __builtin_memcpy(&v, p, 8);
    const uint64_t quote = v ^ (kOnes * '"');
    const uint64_t backslash = v ^ (kOnes * '\\');
    // A byte of x is zero iff the corresponding bit of (x - ones) & ~x & highs is set
    // (the lowest set bit is exact, which is the one we use).
    const uint64_t hits = ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) | v;
    const uint64_t mask = hits & kHighs;
    if (mask != 0) return p + (__builtin_ctzll(mask) >> 3);
    p += 8;
  }
  while (p < end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) < 0x80) ++p;
  return p;
}

#if defined(__SSE2__)
namespace internal {
// Bit i is set when p[i] is in [a-zA-Z0-9_:].
inline unsigned MetricNameCharMask16(const char* p) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  // Signed compares: bytes >= 0x80 are negative and fall outside every range.
  const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                      _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
  const __m128i lower = _mm_or_si128(x, _mm_set1_epi8(0x20));
  const __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)),
                                      _mm_cmplt_epi8(lower, _mm_set1_epi8('z' + 1)));
  const __m128i punct =
      _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('_')), _mm_cmpeq_epi8(x, _mm_set1_epi8(':')));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(digit, alpha), punct)));
}
}  // namespace internal
#endif

// The first position in [p, line_end) whose byte is not in [a-zA-Z0-9_:], or line_end.
// Classifies 32 bytes per step where SSE2 is available (most names end within the first
// step, so the loop exit is predictable); reads never go past buffer_end
// (line_end <= buffer_end), and the result never depends on bytes past line_end because
// the line terminator is not a name character.
inline const char* SkipMetricNameChars(const char* p, const char* line_end,
                                       const char* buffer_end) {
#if defined(__SSE2__)
  while (p < line_end && buffer_end - p >= 32) {
    const uint32_t name =
        internal::MetricNameCharMask16(p) | (internal::MetricNameCharMask16(p + 16) << 16);
    if (name != 0xFFFFFFFFu) {
      const char* stop = p + __builtin_ctz(~name);
      return stop < line_end ? stop : line_end;
    }
    p += 32;
  }
#endif
  while (p < line_end && Is(*p, kMetricNameChar)) ++p;
  return p < line_end ? p : line_end;
}

// The first '\n' in [p, end), or end: an inline SSE2 search, cheaper than a memchr call
// for the short lines of an exposition.
inline const char* FindNewline(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i newline = _mm_set1_epi8('\n');
  while (end - p >= 32) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
    const uint32_t m = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(a, newline))) |
                       (static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(b, newline))) << 16);
    if (m != 0) return p + __builtin_ctz(m);
    p += 32;
  }
#endif
  while (p < end && *p != '\n') ++p;
  return p;
}

// The last '}' in [p, end), or nullptr, searching backwards 16 bytes at a time.
inline const char* FindLastCloseBrace(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i brace = _mm_set1_epi8('}');
  while (end - p >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(end - 16));
    const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, brace)));
    if (m != 0) return end - 16 + (31 - __builtin_clz(m));
    end -= 16;
  }
#endif
  while (end > p) {
    if (*--end == '}') return end;
  }
  return nullptr;
}

// A sample value as Prometheus accepts it (Go's strconv.ParseFloat without hex floats and
// underscores): decimal and exponent forms, an optional sign, and case-insensitive
// "NaN", "Inf", "Infinity" (signed infinities; NaN without sign). Out-of-range values are
// errors; underflow gives zero. Returns false on anything else, including an empty token.
bool ParseValue(std::string_view token, double& out);

// The fast path of ParseValue: parses the plain decimal number (sign, digits, fraction,
// exponent; exactly representable cases only) starting at p and returns the position after
// it, or nullptr when the text there needs the general ParseValue. The caller must check
// that the number ends where the token ends.
inline const char* ParseDecimalPrefix(const char* p, const char* end, double& out) {
  // Clinger's fast path: a decimal mantissa below 2^53 scaled by 10^k with |k| <= 22 is
  // exact in double, so one multiplication or division rounds correctly.
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const bool negative = p < end && *p == '-';
  if (p < end && (*p == '-' || *p == '+')) ++p;
  uint64_t mantissa = 0;
  int scale = 0;
  const char* q = p;
  while (q < end && static_cast<unsigned>(*q - '0') < 10) {
    mantissa = mantissa * 10 + static_cast<unsigned>(*q++ - '0');
  }
  ptrdiff_t digits = q - p;
  if (q < end && *q == '.') {
    const char* frac = ++q;
    while (q < end && static_cast<unsigned>(*q - '0') < 10) {
      mantissa = mantissa * 10 + static_cast<unsigned>(*q++ - '0');
    }
    scale = -static_cast<int>(std::min<ptrdiff_t>(q - frac, 1000));
    digits += q - frac;
  }
  // At most 19 digits cannot overflow uint64; the mantissa must also be exact in double.
  if (digits == 0 || digits > 19 || mantissa > (uint64_t{1} << 53)) return nullptr;
  if (q < end && (*q == 'e' || *q == 'E')) {
    ++q;
    bool exp_negative = false;
    if (q < end && (*q == '+' || *q == '-')) exp_negative = *q++ == '-';
    int exponent = 0;
    const char* exp_digits = q;
    while (q < end && static_cast<unsigned>(*q - '0') < 10) {
      if (exponent < 1000) exponent = exponent * 10 + (*q - '0');
      ++q;
    }
    if (q == exp_digits) return nullptr;
    scale += exp_negative ? -exponent : exponent;
  }
  if (scale < -22 || scale > 22) return nullptr;
  const double m = static_cast<double>(mantissa);
  const double d = scale >= 0 ? m * kPow10[scale] : m / kPow10[-scale];
  out = negative ? -d : d;
  return q;
}

// A Prometheus-text timestamp: an unsigned decimal int64 of milliseconds (digits only, as
// Prometheus's lexer: "-5" and "+7" are malformed).
bool ParseTextTimestamp(std::string_view token, int64_t& out_ms);

// An OpenMetrics timestamp: finite float seconds, rounded to the nearest millisecond.
bool ParseOpenMetricsTimestamp(std::string_view token, int64_t& out_ms);

// RFC 3629 UTF-8 (common/utf8.h).
using ::shardwise::IsValidUtf8;

// Appends `raw` with \\ -> \, \n -> newline and, when `unescape_quote`, \" -> ".
// Any other backslash sequence is kept as written, as Prometheus does.
void AppendUnescaped(std::string_view raw, bool unescape_quote, std::string& out);

}  // namespace shardwise::parse::lex
