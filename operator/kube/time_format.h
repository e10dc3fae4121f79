// Kubernetes timestamps: metav1.Time ("2024-01-01T00:00:00Z", seconds) and
// metav1.MicroTime ("2024-01-01T00:00:00.000000Z"), always UTC.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace shardwise::kube {

std::string FormatTime(std::chrono::system_clock::time_point t);
std::string FormatMicroTime(std::chrono::system_clock::time_point t);
// Either form back (fractional seconds kept to the microsecond; "Z" only, as the API server
// writes them); nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> ParseTime(std::string_view s);

}  // namespace shardwise::kube
