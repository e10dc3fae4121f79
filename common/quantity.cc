#include "common/quantity.h"

#include <cctype>
#include <cstdlib>
#include <limits>

namespace shardwise {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// Multiplies `mantissa_digits` (a decimal string with `frac` digits after the point) by
// base^exp10 × (binary multiplier) and 1000, rounding up, into milli-units.
Result<int64_t> Scale(const std::string& digits, int frac, int exp10, int64_t binary) {
  // value = digits × 10^(exp10 - frac + 3) × binary   (+3: milli-units)
  int shift = exp10 - frac + 3;
  // Strip trailing zeros off the integer representation to widen the usable range.
  std::string d = digits;
  size_t nz = d.find_first_not_of('0');
  d = nz == std::string::npos ? "0" : d.substr(nz);
  __int128 v = 0;
  const __int128 limit = static_cast<__int128>(kMax);
  for (char c : d) {
    v = v * 10 + (c - '0');
    if (v > limit * 1000) return Status::InvalidArgument("quantity too large");
  }
  v *= binary;
  if (v > limit * 1000) return Status::InvalidArgument("quantity too large");
  for (; shift > 0; --shift) {
    v *= 10;
    if (v > limit) return Status::InvalidArgument("quantity too large");
  }
  bool round_up = false;
  for (; shift < 0; ++shift) {
    if (v % 10 != 0) round_up = true;
    v /= 10;
  }
  if (round_up) ++v;
  if (v > limit) return Status::InvalidArgument("quantity too large");
  return static_cast<int64_t>(v);
}

}  // namespace

Result<Quantity> ParseQuantity(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument(
        "quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': \"" +
        std::string(text) + "\"");
  };
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  std::string digits;
  int frac = 0;
  bool seen_point = false, seen_digit = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits += c;
      seen_digit = true;
      if (seen_point) ++frac;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!seen_digit) return bad();
  std::string_view suffix = text.substr(i);
  int exp10 = 0;
  int64_t binary = 1;
  QuantityFormat format = QuantityFormat::kDecimalSI;
  static const struct {
    const char* s;
    int exp10;
    int64_t binary;
  } kSuffixes[] = {{"", 0, 1},
                   {"n", -9, 1},
                   {"u", -6, 1},
                   {"m", -3, 1},
                   {"k", 3, 1},
                   {"M", 6, 1},
                   {"G", 9, 1},
                   {"T", 12, 1},
                   {"P", 15, 1},
                   {"E", 18, 1},
                   {"Ki", 0, int64_t{1} << 10},
                   {"Mi", 0, int64_t{1} << 20},
                   {"Gi", 0, int64_t{1} << 30},
                   {"Ti", 0, int64_t{1} << 40},
                   {"Pi", 0, int64_t{1} << 50},
                   {"Ei", 0, int64_t{1} << 60}};
  bool found = false;
  for (const auto& s : kSuffixes) {
    if (suffix == s.s) {
      exp10 = s.exp10;
      binary = s.binary;
      if (binary > 1) format = QuantityFormat::kBinarySI;
      found = true;
      break;
    }
  }
  if (!found) {
    if (suffix.size() < 2 || (suffix[0] != 'e' && suffix[0] != 'E')) return bad();
    std::string_view e = suffix.substr(1);
    size_t j = (e[0] == '+' || e[0] == '-') ? 1 : 0;
    if (j == e.size() || e.size() > 4) return bad();
    for (size_t k = j; k < e.size(); ++k)
      if (!std::isdigit(static_cast<unsigned char>(e[k]))) return bad();
    exp10 = std::atoi(std::string(e).c_str());
    format = QuantityFormat::kDecimalExponent;
  }
  auto milli = Scale(digits, frac, exp10, binary);
  if (!milli.ok())
    return Status::InvalidArgument(milli.status().message() + ": \"" + std::string(text) + "\"");
  return Quantity{negative ? -milli.value() : milli.value(), format};
}

std::string FormatQuantity(int64_t milli, QuantityFormat format) {
  if (milli == 0) return "0";
  std::string sign = milli < 0 ? "-" : "";
  // Magnitude as unsigned so that INT64_MIN formats too.
  uint64_t m = milli < 0 ? 0 - static_cast<uint64_t>(milli) : static_cast<uint64_t>(milli);
  if (m % 1000 != 0) return sign + std::to_string(m) + "m";
  uint64_t v = m / 1000;
  if (format == QuantityFormat::kBinarySI && v % 1024 == 0) {
    static const char* kBin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    int k = 0;
    while (v % 1024 == 0 && k < 6) {
      v /= 1024;
      ++k;
    }
    return sign + std::to_string(v) + kBin[k];
  }
  static const char* kDec[] = {"", "k", "M", "G", "T", "P", "E"};
  int k = 0;
  while (v % 1000 == 0 && k < 6) {
    v /= 1000;
    ++k;
  }
  if (format == QuantityFormat::kDecimalExponent)
    return sign + std::to_string(v) + (k ? "e" + std::to_string(3 * k) : "");
  return sign + std::to_string(v) + kDec[k];
}

}  // namespace shardwise
