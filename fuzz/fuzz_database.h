// The small database the query fuzz targets (query_api_fuzz, remote_read_fuzz) answer from:
// 12 series (`up` and `http_requests_total`, codes 200/300/400, instances 10.0.0.0-11, the
// jobs `jobs` in turn), 5 samples each at t = 0..4 s. Opened on first use in a fresh
// temporary directory, removed at exit; the database itself lives until the process ends.
#pragma once

#include <stdlib.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz/fuzz_check.h"
#include "scraper/tsdb/db.h"

namespace shardwise::fuzz {

inline char fuzz_database_dir[] = "/tmp/shardwise-fuzz-db-XXXXXX";

inline void RemoveFuzzDatabaseDir() {
  std::error_code ignored;
  std::filesystem::remove_all(fuzz_database_dir, ignored);
}

// `jobs` is read on the first call only (one database per process).
inline const tsdb::DB& FuzzDatabase(const std::array<const char*, 3>& jobs) {
  static tsdb::DB* db = [&] {
    const char* dir = mkdtemp(fuzz_database_dir);
    Check(dir != nullptr, "temporary directory");
    std::atexit(RemoveFuzzDatabaseDir);
    tsdb::DBOptions options;
    options.retention_interval = std::chrono::milliseconds(0);
    auto opened = tsdb::DB::Open(dir, options);
    Check(opened.ok(), "database opens");
    auto app = (*opened)->NewAppender();
    for (int i = 0; i < 12; ++i) {
      Labels labels{{"__name__", i % 2 ? "up" : "http_requests_total"},
                    {"code", std::to_string(200 + i % 3 * 100)},
                    {"instance", "10.0.0." + std::to_string(i) + ":9100"},
                    {"job", jobs[i % 3]}};
      storage::SeriesRef ref = 0;
      for (int64_t t = 0; t < 5; ++t) {
        Check(app->Append(ref, labels, 1000 * t, static_cast<double>(i * t)).ok(), "append");
      }
    }
    Check(app->Commit().ok(), "commit");
    return opened->release();
  }();
  return *db;
}

}  // namespace shardwise::fuzz
