#include "scraper/scrape/size.h"

#include <array>
#include <cctype>
#include <string>

namespace shardwise::scrape {

Result<uint64_t> ParseSize(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("not a valid size: \"" + std::string(text) + "\"");
  };
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
    if (n > (uint64_t{1} << 50)) return bad();
    ++i;
  }
  if (i == 0) return bad();
  std::string_view unit = text.substr(i);
  static constexpr std::array<std::string_view, 6> kNames = {"B", "K", "M", "G", "T", "P"};
  if (unit.empty()) return n;
  for (size_t p = 0; p < kNames.size(); ++p) {
    std::string_view rest = unit;
    if (rest.substr(0, 1) != kNames[p]) continue;
    rest.remove_prefix(1);
    bool ok = p == 0 ? rest.empty() : (rest == "B" || rest == "iB");
    if (!ok) continue;
    uint64_t factor = uint64_t{1} << (10 * p);
    return n * factor;
  }
  return bad();
}

}  // namespace shardwise::scrape
