#include "scraper/remotewrite/series_store.h"

#include <algorithm>
#include <cstring>

namespace shardwise::remotewrite {
namespace {

// A block: holders (uint32, guarded by the store's mutex), id count, encoded size (uint32
// each), then the ids.
constexpr size_t kHeader = 3 * sizeof(uint32_t);

uint32_t Field(const char* block, int i) {
  uint32_t n;
  std::memcpy(&n, block + i * sizeof(uint32_t), sizeof n);
  return n;
}

// The store hands out const pointers so queues cannot write the bytes; only it changes
// the count, under its mutex.
uint32_t AddHolders(const char* block, int delta) {
  uint32_t n = Field(block, 0) + delta;
  std::memcpy(const_cast<char*>(block), &n, sizeof n);
  return n;
}

size_t BlockBytes(const char* block) { return kHeader + Field(block, 1) * sizeof(uint32_t); }

}  // namespace

std::span<const uint32_t> LabelBlockIds(const char* block) {
  // Blocks come from new char[], aligned for any type, and the ids start at a multiple of 4.
  return {reinterpret_cast<const uint32_t*>(block + kHeader), Field(block, 1)};
}

uint32_t LabelBlockEncodedSize(const char* block) { return Field(block, 2); }

SeriesStore::SeriesStore(std::shared_ptr<storage::LabelPairTable> pairs)
    : pairs_(pairs ? std::move(pairs) : storage::LabelPairTable::Process()) {}

SeriesStore::~SeriesStore() {
  // Queues release everything when they stop; this frees what a queue never released.
  for (auto& table : index_) {
    table->Clear([this](uint64_t, const char* b) {
      pairs_->Release(LabelBlockIds(b));
      delete[] b;
    });
  }
}

uint32_t SeriesStore::View(const std::string& key) {
  std::lock_guard lock(mu_);
  auto [it, added] = views_.emplace(key, static_cast<uint32_t>(index_.size()));
  if (added) index_.push_back(std::make_unique<SeriesTable>());
  return it->second;
}

bool SeriesStore::Equal(const char* block, const Labels& labels) const {
  std::span<const uint32_t> ids = LabelBlockIds(block);
  if (ids.size() != labels.size()) return false;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (pairs_->value(ids[i]) != labels[i].value || pairs_->name(ids[i]) != labels[i].name) {
      return false;
    }
  }
  return true;
}

const char* SeriesStore::Acquire(uint32_t view, uint64_t ref, const Labels& labels) {
  std::lock_guard lock(mu_);
  bool known = false;
  const char*& slot = index_.at(view)->Define(ref, &known);
  if (known && slot && Equal(slot, labels)) {
    AddHolders(slot, +1);
    return slot;
  }
  // New, or redefined with other labels: the old block lives on for its holders.
  ids_.resize(labels.size());
  pairs_->AcquireAll(labels, ids_.data());
  uint32_t encoded = 0;
  for (uint32_t id : ids_) encoded += static_cast<uint32_t>(pairs_->encoded(id).size());
  const uint32_t header[3] = {1, static_cast<uint32_t>(ids_.size()), encoded};
  char* block = new char[kHeader + ids_.size() * sizeof(uint32_t)];
  std::memcpy(block, header, kHeader);
  std::memcpy(block + kHeader, ids_.data(), ids_.size() * sizeof(uint32_t));
  slot = block;
  ++usage_.blocks;
  usage_.bytes += BlockBytes(block);
  return block;
}

void SeriesStore::Release(uint32_t view, uint64_t ref, const char* block) {
  std::lock_guard lock(mu_);
  if (AddHolders(block, -1) > 0) return;
  SeriesTable& table = *index_.at(view);
  if (const char** slot = table.Find(ref); slot && *slot == block) table.Erase(ref);
  --usage_.blocks;
  usage_.bytes -= BlockBytes(block);
  pairs_->Release(LabelBlockIds(block));
  delete[] block;
}

void SeriesStore::PrefetchPairEntries(const char* block) const {
  for (uint32_t id : LabelBlockIds(block)) pairs_->PrefetchEntry(id);
}

void SeriesStore::PrefetchPairBytes(const char* block) const {
  for (uint32_t id : LabelBlockIds(block)) pairs_->PrefetchBytes(id);
}

SeriesStore::Usage SeriesStore::usage() const {
  std::lock_guard lock(mu_);
  return usage_;
}

}  // namespace shardwise::remotewrite
