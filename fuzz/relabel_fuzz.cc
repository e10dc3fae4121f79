// libFuzzer target for relabel rules from untrusted configuration. The first byte picks
// the syntax (even: Prometheus YAML, odd: Prometheus Operator JSON); the rest is a rules
// document, optionally followed by a NUL and "name=value" lines that are added to a fixed
// label set. Rules that parse are compiled and applied to that set.
//
// Invariants: parsing and compiling return a Status and never throw or crash; a rule list
// that parses compiles (parsing validates); a kept result is a well-formed label set:
// sorted, unique names, no empty values.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/labels.h"
#include "common/relabel/parse.h"
#include "common/relabel/relabeler.h"
#include "fuzz/fuzz_check.h"

namespace {

using shardwise::Labels;
using shardwise::LabelsBuilder;
using shardwise::fuzz::Check;
namespace relabel = shardwise::relabel;

Labels InputLabels(std::string_view extra) {
  LabelsBuilder builder(Labels{{"__address__", "10.0.0.1:9100"},
                               {"__meta_kubernetes_pod_label_app", "api"},
                               {"__name__", "http_requests_total"},
                               {"code", "200"},
                               {"instance", "10.0.0.1:9100"},
                               {"job", "node"}});
  while (!extra.empty()) {
    const size_t eol = extra.find('\n');
    const std::string_view line = extra.substr(0, eol);
    extra = eol == std::string_view::npos ? std::string_view() : extra.substr(eol + 1);
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    builder.Set(line.substr(0, eq), line.substr(eq + 1));
  }
  return builder.Build();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool json_syntax = data[0] & 1;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t nul = input.find('\0');
  const std::string document = input.substr(0, nul);
  const std::string_view extra =
      nul == std::string::npos ? std::string_view() : std::string_view(input).substr(nul + 1);

  shardwise::Result<std::vector<relabel::RelabelConfig>> configs =
      std::vector<relabel::RelabelConfig>{};
  if (json_syntax) {
    const nlohmann::json doc = nlohmann::json::parse(document, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return 0;
    configs = relabel::FromJson(doc);
  } else {
    configs = relabel::ParseYaml(document);
  }
  if (!configs.ok()) {
    Check(!configs.status().message().empty(), "a rejected config says why");
    return 0;
  }
  auto relabeler = relabel::Relabeler::Compile(*configs);
  Check(relabeler.ok(), "a config that parses compiles");
  Check(relabeler->configs() == *configs, "the relabeler keeps its configs");

  const Labels in = InputLabels(extra);
  const std::optional<Labels> out = relabeler->Process(in);
  if (!out) return 0;
  for (size_t i = 0; i < out->size(); ++i) {
    Check(!(*out)[i].value.empty(), "no empty label values");
    if (i > 0) Check((*out)[i - 1].name < (*out)[i].name, "names sorted and unique");
  }
  return 0;
}
