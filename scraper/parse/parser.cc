#include "scraper/parse/parser.h"

#include "scraper/parse/exposition_parser.h"

namespace shardwise::parse {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Format FormatFromContentType(std::string_view content_type) {
  constexpr std::string_view kOpenMetrics = "application/openmetrics-text";
  const std::string_view media_type = TrimBlanks(content_type.substr(0, content_type.find(';')));
  if (media_type.size() != kOpenMetrics.size()) return Format::kPrometheusText;
  for (size_t i = 0; i < media_type.size(); ++i) {
    if (Lower(media_type[i]) != kOpenMetrics[i]) return Format::kPrometheusText;
  }
  return Format::kOpenMetrics;
}

std::unique_ptr<Parser> Parser::New(Format format, std::string_view body) {
  return std::make_unique<ExpositionParser>(format, body);
}

}  // namespace shardwise::parse
