// TsdbWalSource: the WalSource over the embedded TSDB's WAL (scraper/tsdb). Reads the
// newest checkpoint, tails segments with wal::Tailer, decodes series and samples records,
// and reports acknowledgements as a registered WAL consumer so retention keeps every
// segment some endpoint still needs (up to the DB's WAL size cap). When the size cap
// deleted segments under a reader, the reader counts them in skipped_segments(), returns
// a series-only record with the newest checkpoint's series (the labels the lost segments
// defined), and goes on at the oldest remaining segment.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "scraper/remotewrite/wal_source.h"
#include "scraper/tsdb/db.h"

namespace shardwise::remotewrite {

class TsdbWalSource : public WalSource {
 public:
  // `db` must outlive this source and every reader it creates.
  explicit TsdbWalSource(tsdb::DB& db) : db_(db) {}

  Result<WalPosition> ReadCheckpoint(const std::function<void(WalSeries)>& fn) override;
  std::unique_ptr<WalReader> NewReader(WalPosition from) override;
  WalPosition End() override;
  void WaitForAppend(WalPosition known_end, std::chrono::milliseconds max_wait,
                     uint64_t min_bytes = 0) override;
  void Acknowledge(const std::string& consumer, WalPosition pos) override;
  void Release(const std::string& consumer) override;

 private:
  tsdb::DB& db_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<tsdb::WalConsumer>> consumers_;
};

}  // namespace shardwise::remotewrite
