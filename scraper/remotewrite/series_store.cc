#include "scraper/remotewrite/series_store.h"

#include <cstring>

namespace shardwise::remotewrite {
namespace {

// A block: holders (uint32, guarded by the store's mutex), length (uint32), the bytes.
constexpr size_t kHeader = 2 * sizeof(uint32_t);

// The store hands out const pointers so queues cannot write the bytes; only it changes
// the count, under its mutex.
uint32_t AddHolders(const char* block, int delta) {
  uint32_t n;
  std::memcpy(&n, block, sizeof n);
  n += delta;
  std::memcpy(const_cast<char*>(block), &n, sizeof n);
  return n;
}

}  // namespace

std::string_view LabelBlockBytes(const char* block) {
  uint32_t n;
  std::memcpy(&n, block + sizeof(uint32_t), sizeof n);
  return {block + kHeader, n};
}

SeriesStore::~SeriesStore() {
  // Queues release everything when they stop; this frees what a queue never released.
  for (auto& table : index_) table->Clear([](uint64_t, const char* b) { delete[] b; });
}

uint32_t SeriesStore::View(const std::string& key) {
  std::lock_guard lock(mu_);
  auto [it, added] = views_.emplace(key, static_cast<uint32_t>(index_.size()));
  if (added) index_.push_back(std::make_unique<SeriesTable>());
  return it->second;
}

const char* SeriesStore::Acquire(uint32_t view, uint64_t ref, std::string_view encoded) {
  std::lock_guard lock(mu_);
  bool known = false;
  const char*& slot = index_.at(view)->Define(ref, &known);
  if (known && slot && LabelBlockBytes(slot) == encoded) {
    AddHolders(slot, +1);
    return slot;
  }
  // New, or redefined with other labels: the old block lives on for its holders.
  const uint32_t n = static_cast<uint32_t>(encoded.size());
  char* block = new char[kHeader + n];
  const uint32_t holders = 1;
  std::memcpy(block, &holders, sizeof holders);
  std::memcpy(block + sizeof holders, &n, sizeof n);
  std::memcpy(block + kHeader, encoded.data(), n);
  slot = block;
  ++usage_.blocks;
  usage_.bytes += kHeader + n;
  return block;
}

void SeriesStore::Release(uint32_t view, uint64_t ref, const char* block) {
  std::lock_guard lock(mu_);
  if (AddHolders(block, -1) > 0) return;
  SeriesTable& table = *index_.at(view);
  if (const char** slot = table.Find(ref); slot && *slot == block) table.Erase(ref);
  --usage_.blocks;
  usage_.bytes -= kHeader + LabelBlockBytes(block).size();
  delete[] block;
}

SeriesStore::Usage SeriesStore::usage() const {
  std::lock_guard lock(mu_);
  return usage_;
}

}  // namespace shardwise::remotewrite
