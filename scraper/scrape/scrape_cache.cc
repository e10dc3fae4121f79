#include "scraper/scrape/scrape_cache.h"

#include <xxhash.h>

namespace shardwise::scrape {

uint32_t ScrapeCache::Hash(std::string_view raw) {
  return static_cast<uint32_t>(XXH3_64bits(raw.data(), raw.size()));
}

ScrapeCache::Entry* ScrapeCache::Add(std::string_view raw, Entry entry) {
  if (raw.size() > kMaxRawSize || arena_.size() + raw.size() > UINT32_MAX) return nullptr;
  in_order_ = false;
  grew_ = true;
  entry.live_pos = kNotLive;
  entry.text_off = static_cast<uint32_t>(arena_.size());
  entry.text_len = static_cast<uint32_t>(raw.size());
  arena_.append(raw);
  uint32_t id;
  if (free_.empty()) {
    id = static_cast<uint32_t>(entries_.size());
    entries_.push_back(entry);
  } else {
    id = free_.back();
    free_.pop_back();
    entries_[id] = entry;
  }
  table_.Insert(Slot{id, Hash(raw)});
  return &entries_[id];
}

void ScrapeCache::Erase(uint32_t id) {
  Entry& e = entries_[id];
  const std::string_view raw = Raw(e);
  const uint32_t hash = Hash(raw);
  if (Slot* slot = table_.Find(hash, [&](const Slot& s) { return s.id == id; })) {
    table_.Erase(slot);
  }
  garbage_ += raw.size();
  e = Entry();
  free_.push_back(id);
}

void ScrapeCache::Tidy() {
  if (garbage_ > 4096 && garbage_ * 2 > arena_.size()) {
    std::string fresh;
    fresh.reserve(arena_.size() - garbage_);
    table_.ForEach([&](const Slot& s) {
      Entry& e = entries_[s.id];
      const std::string_view raw = Raw(e);
      e.text_off = static_cast<uint32_t>(fresh.size());
      fresh.append(raw);
    });
    arena_.swap(fresh);
    garbage_ = 0;
  }
  if (table_.empty()) {  // the target went away or exposes nothing: hold nothing
    entries_ = std::vector<Entry>();
    free_ = std::vector<uint32_t>();
    arena_ = std::string();
    live_ = std::vector<uint32_t>();
    touched_ = std::vector<uint32_t>();
    garbage_ = 0;
    grew_ = false;
    return;
  }
  if (!grew_) return;
  // Growth doubles capacity; a target's series set is mostly stable after its first
  // scrape, so what grew is trimmed once to what is held.
  grew_ = false;
  auto trim = [](auto& v) {
    if (v.capacity() > v.size() + v.size() / 8 + 16) v.shrink_to_fit();
  };
  trim(entries_);
  trim(arena_);
  trim(live_);
  // The next pass fills touched_ to about the live set's size: no allocation then.
  if (touched_.capacity() < live_.size() ||
      touched_.capacity() > live_.size() + live_.size() / 8 + 16) {
    std::vector<uint32_t> fresh;
    fresh.reserve(live_.size());
    touched_.swap(fresh);
  }
}

size_t ScrapeCache::MemoryBytes() const {
  return entries_.capacity() * sizeof(Entry) + free_.capacity() * sizeof(uint32_t) +
         arena_.capacity() + table_.MemoryBytes() +
         (touched_.capacity() + live_.capacity()) * sizeof(uint32_t);
}

}  // namespace shardwise::scrape
