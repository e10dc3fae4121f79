#include "scraper/remotewrite/series_store.h"

#include <algorithm>
#include <cstring>

namespace shardwise::remotewrite {
namespace {

// A block: holders (uint16, guarded by the store's mutex), id count (uint16), encoded size
// (uint32), then the ids: 24 bytes with 4 labels, the allocator's smallest class.
constexpr size_t kHeader = 2 * sizeof(uint16_t) + sizeof(uint32_t);

uint16_t Holders(const char* block) {
  uint16_t n;
  std::memcpy(&n, block, sizeof n);
  return n;
}

uint16_t Count(const char* block) {
  uint16_t n;
  std::memcpy(&n, block + sizeof(uint16_t), sizeof n);
  return n;
}

// The store hands out const pointers so queues cannot write the bytes; only it changes
// the count, under its mutex.
uint16_t AddHolders(const char* block, int delta) {
  const uint16_t n = static_cast<uint16_t>(Holders(block) + delta);
  std::memcpy(const_cast<char*>(block), &n, sizeof n);
  return n;
}

size_t BlockBytes(const char* block) { return kHeader + Count(block) * sizeof(uint32_t); }

}  // namespace

std::span<const uint32_t> LabelBlockIds(const char* block) {
  // Blocks come from new char[], aligned for any type, and the ids start at a multiple of 4.
  return {reinterpret_cast<const uint32_t*>(block + kHeader), Count(block)};
}

uint32_t LabelBlockEncodedSize(const char* block) {
  uint32_t n;
  std::memcpy(&n, block + 2 * sizeof(uint16_t), sizeof n);
  return n;
}

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
  if (known && slot && Equal(slot, labels) && Holders(slot) < kMaxHolders) {
    AddHolders(slot, +1);
    return slot;
  }
  if (labels.size() > kMaxLabels) return nullptr;
  // New, or redefined with other labels: the old block lives on for its holders.
  ids_.resize(labels.size());
  pairs_->AcquireAll(labels, ids_.data());
  uint32_t encoded = 0;
  for (uint32_t id : ids_) encoded += static_cast<uint32_t>(pairs_->encoded(id).size());
  const uint16_t holders = 1, count = static_cast<uint16_t>(ids_.size());
  char* block = new char[kHeader + ids_.size() * sizeof(uint32_t)];
  std::memcpy(block, &holders, sizeof holders);
  std::memcpy(block + sizeof holders, &count, sizeof count);
  std::memcpy(block + 2 * sizeof(uint16_t), &encoded, sizeof encoded);
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

void SeriesStore::PrefetchPairs(const char* block) const {
  for (uint32_t id : LabelBlockIds(block)) pairs_->PrefetchEntry(id);
}

SeriesStore::Usage SeriesStore::usage() const {
  std::lock_guard lock(mu_);
  return usage_;
}

}  // namespace shardwise::remotewrite
