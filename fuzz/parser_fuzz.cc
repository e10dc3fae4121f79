// libFuzzer target for the exposition parsers. The first input byte picks the format
// (even: Prometheus text, odd: OpenMetrics); the rest is the body. Every accessor is
// exercised after every entry, and the invariants below abort on violation, so that
// ASan/UBSan and the fuzzer see both memory errors and contract breaches.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "scraper/parse/parser.h"

namespace {

using shardwise::LabelsBuilder;
using shardwise::parse::Entry;
using shardwise::parse::Exemplar;
using shardwise::parse::Format;
using shardwise::parse::Parser;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

bool Within(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Format format = (data[0] & 1) ? Format::kOpenMetrics : Format::kPrometheusText;
  // A private copy, so that ASan flags any read past the body.
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto parser = Parser::New(format, body);
  LabelsBuilder builder;
  size_t entries = 0;
  for (;;) {
    const Entry e = parser->Next();
    Check(++entries <= body.size() + 2, "more entries than lines");
    switch (e) {
      case Entry::kSeries: {
        const std::string_view series = parser->Series();
        Check(!series.empty() && Within(series, body), "Series() lies inside the body");
        (void)parser->Value();
        (void)parser->TimestampMs();
        (void)parser->IsCreatedSample();
        parser->Labels(builder);
        const shardwise::Labels labels = builder.Build();
        if (!labels.empty()) {
          Check(series.starts_with(labels.Get("__name__")), "__name__ is the series' prefix");
        }
        Exemplar exemplar;
        if (parser->Exemplar(exemplar)) {
          Check(format == Format::kOpenMetrics, "exemplars only in OpenMetrics");
        }
        break;
      }
      case Entry::kType:
      case Entry::kHelp:
      case Entry::kUnit:
        Check(Within(parser->FamilyName(), body), "FamilyName() lies inside the body");
        (void)parser->Type();
        (void)parser->Help();
        (void)parser->Unit();
        break;
      case Entry::kComment:
        Check(format == Format::kPrometheusText, "free comments only in text format");
        break;
      case Entry::kEnd:
        Check(parser->Next() == Entry::kEnd, "kEnd is sticky");
        return 0;
      case Entry::kError: {
        const std::string& message = parser->error().message();
        Check(!parser->error().ok() && message.starts_with("line "), "errors carry a position");
        Check(parser->Next() == Entry::kError, "kError is sticky");
        return 0;
      }
    }
  }
}
