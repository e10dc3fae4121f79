// The operator's web UI: the pages at `/` and `/ui/...` (operator/ui/assets, compiled into
// the binary) and the read-only JSON they render, built from the pool controller's
// in-memory snapshots (pool/pool_snapshot.h) — a page view never reaches the Kubernetes API.
//
//   GET /api/v1/ui/pools                          every pool: shard counts, load, conditions
//   GET /api/v1/ui/pools/<ns>/<name>              one pool: shards with load and heartbeat
//                                                 age, handoffs, monitors, autoscaling, history
//   GET /api/v1/ui/pools/<ns>/<name>/targets      its targets; ?shard=N, ?q=substring (job,
//                                                 address or labels), ?limit= (default 500)
//
// What it shows: target addresses and labels, never credentials (plans hold those; they are
// not in a snapshot). Who may read it: see docs/security.md ("Web UI").
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "common/http/server.h"
#include "operator/pool/pool_snapshot.h"

namespace shardwise::ui {

using Clock = std::chrono::system_clock;

nlohmann::json PoolsJson(const pool::SnapshotStore& store, Clock::time_point now);
nlohmann::json PoolJson(const pool::PoolSnapshot& pool, Clock::time_point now);
// Targets matching `shard` (-1: all) and `query` (case-insensitive substring; empty: all),
// at most `limit`; "matched" counts all that match.
nlohmann::json TargetsJson(const pool::PoolSnapshot& pool, int shard, const std::string& query,
                           size_t limit);

// Registers the pages and the JSON API on `server` (before it starts). `store` must
// outlive the server.
void Register(http::Server& server, const pool::SnapshotStore& store);

}  // namespace shardwise::ui
