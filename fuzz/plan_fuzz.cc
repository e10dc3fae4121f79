// libFuzzer target for the discovery protocol documents (common/plan/plan.h): arbitrary
// bytes are parsed as JSON without exceptions, then read both as a ScrapePlan and as a
// LoadReport, as the scraper and the operator do with what they receive.
//
// Invariants: the readers return a Status and never throw or crash; a plan that reads
// writes back to JSON that reads to an equal plan; its URLs and http_sd view render; a
// report that reads writes back to JSON that reads again.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/plan/plan.h"
#include "fuzz/fuzz_check.h"

namespace plan = shardwise::plan;
using shardwise::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json doc =
      nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;

  if (auto p = plan::PlanFromJson(doc); p.ok()) {
    const nlohmann::json written = plan::ToJson(*p);
    auto again = plan::PlanFromJson(nlohmann::json::parse(written.dump()));
    Check(again.ok(), "a written plan reads back");
    Check(*again == *p, "a plan survives a round trip");
    for (const auto& t : p->targets) Check(!t.Url().empty(), "every target has a URL");
    Check(plan::ToHttpSd(*p).size() == p->targets.size(), "one http_sd group per target");
  } else {
    Check(!p.status().message().empty(), "a rejected plan says why");
  }

  if (auto r = plan::ReportFromJson(doc); r.ok()) {
    auto again = plan::ReportFromJson(nlohmann::json::parse(plan::ToJson(*r).dump()));
    Check(again.ok(), "a written report reads back");
    Check(again->per_target.size() == r->per_target.size(), "per-target loads survive");
  } else {
    Check(!r.status().message().empty(), "a rejected report says why");
  }
  return 0;
}
