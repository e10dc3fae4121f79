// Kubernetes timestamps: metav1.Time ("2024-01-01T00:00:00Z", seconds) and
// metav1.MicroTime ("2024-01-01T00:00:00.000000Z"), always UTC.
#pragma once

#include <chrono>
#include <string>

namespace shardwise::kube {

std::string FormatTime(std::chrono::system_clock::time_point t);
std::string FormatMicroTime(std::chrono::system_clock::time_point t);

}  // namespace shardwise::kube
