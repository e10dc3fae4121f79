// Validating a ScrapePlan and keeping the last good one on disk.
//
// The scraper persists every plan it accepts to `<data dir>/operator/plan.json` so that,
// when the operator is unreachable at start, it can go on scraping what it was last told
// to. Writes are atomic (temp file + fsync + rename + fsync of the directory): a crash
// leaves either the previous plan or the new one, never a torn file. The plan carries the
// targets' credentials, so the file is 0600 and its directory 0700, whatever the umask or
// the modes found on disk. A plan left at the old place, `<data dir>/plan.json`, is still
// loaded, and removed once a plan is persisted at the new one.
//
// ValidatePlan rejects what the scrape engine could not run exactly as given: a target
// without an address, an unknown scheme, a path not starting with '/', a zero interval or
// timeout, timeout > interval, "__" labels (the plan's labels are final), duplicate ids and
// metric relabelings that do not parse. A rejected plan is never persisted or applied.
#pragma once

#include <string>

#include "common/plan/plan.h"
#include "common/status.h"

namespace shardwise::opclient {

Status ValidatePlan(const plan::ScrapePlan& plan);

std::string PlanPath(const std::string& data_dir);
// Writes `plan` as JSON to PlanPath(data_dir) atomically; creates its directories if needed.
Status PersistPlan(const std::string& data_dir, const plan::ScrapePlan& plan);
// NotFound when there is no plan file; Corruption/InvalidArgument when it does not parse
// or validate.
Result<plan::ScrapePlan> LoadPersistedPlan(const std::string& data_dir);

// Writes `contents` to `path` atomically with the given permission bits (e.g. 0600).
Status WriteFileAtomically(const std::string& path, std::string_view contents, int mode);

}  // namespace shardwise::opclient
