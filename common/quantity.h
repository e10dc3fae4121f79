// Kubernetes resource Quantities ("1500m", "2k", "10Mi", "1.5", "1e3") as integer
// milli-units, which is the precision the HPA and the custom metrics API work in.
// Parsing rounds fractions of a milli-unit up (as Quantity.MilliValue() does); formatting
// gives the canonical form the apiserver and kubectl print: "1500m", "2k", "450", "10Mi".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shardwise {

enum class QuantityFormat { kDecimalSI, kBinarySI, kDecimalExponent };

struct Quantity {
  int64_t milli = 0;
  QuantityFormat format = QuantityFormat::kDecimalSI;
};

// InvalidArgument for anything that is not a Quantity or that overflows milli-units.
Result<Quantity> ParseQuantity(std::string_view text);

// Canonical text: DecimalSI uses the largest of "", k, M, G, T, P, E that keeps the
// mantissa whole ("m" for fractions); BinarySI uses Ki, Mi, ... when the value is a whole
// multiple of 1024, and DecimalSI otherwise.
std::string FormatQuantity(int64_t milli, QuantityFormat format = QuantityFormat::kDecimalSI);
inline std::string FormatQuantity(const Quantity& q) { return FormatQuantity(q.milli, q.format); }

}  // namespace shardwise
