#include "operator/kube/store.h"

#include <mutex>

namespace shardwise::kube {

Store::Store() {
  AddIndexer(std::string(kNamespaceIndex),
             [](const Object& object) { return std::vector<std::string>{NamespaceOf(object)}; });
  AddIndexer(std::string(kLabelIndex), [](const Object& object) {
    std::vector<std::string> values;
    const auto metadata = object.find("metadata");
    if (metadata == object.end() || !metadata->is_object()) return values;
    const auto labels = metadata->find("labels");
    if (labels == metadata->end() || !labels->is_object()) return values;
    for (const auto& [key, value] : labels->items()) {
      if (value.is_string()) values.push_back(key + "=" + value.get<std::string>());
    }
    return values;
  });
}

void Store::AddIndexer(std::string name, IndexFunc index) {
  std::unique_lock lock(mu_);
  indexes_[name].clear();
  auto& by_value = indexes_[name];
  for (const auto& [key, object] : items_) {
    for (auto& value : index(*object)) by_value[std::move(value)].insert(key);
  }
  indexers_[std::move(name)] = std::move(index);
}

void Store::IndexLocked(const std::string& key, const Object& object, int sign) {
  for (const auto& [name, index] : indexers_) {
    auto& by_value = indexes_[name];
    for (auto& value : index(object)) {
      if (sign > 0) {
        by_value[std::move(value)].insert(key);
        continue;
      }
      auto it = by_value.find(value);
      if (it == by_value.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) by_value.erase(it);
    }
  }
}

ObjectPtr Store::Get(std::string_view key) const {
  std::shared_lock lock(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Store::List() const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [key, object] : items_) out.push_back(object);
  return out;
}

std::vector<std::string> Store::Keys() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [key, object] : items_) out.push_back(key);
  return out;
}

std::vector<ObjectPtr> Store::ByIndex(std::string_view index, std::string_view value) const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  auto by_value = indexes_.find(index);
  if (by_value == indexes_.end()) return out;
  auto keys = by_value->second.find(std::string(value));
  if (keys == by_value->second.end()) return out;
  for (const auto& key : keys->second) {
    if (auto it = items_.find(key); it != items_.end()) out.push_back(it->second);
  }
  return out;
}

size_t Store::size() const {
  std::shared_lock lock(mu_);
  return items_.size();
}

ObjectPtr Store::Upsert(ObjectPtr object) {
  std::string key = KeyOf(*object);
  std::unique_lock lock(mu_);
  ObjectPtr previous;
  auto it = items_.find(key);
  if (it != items_.end()) {
    previous = it->second;
    IndexLocked(key, *previous, -1);
    it->second = object;
  } else {
    items_.emplace(key, object);
  }
  IndexLocked(key, *object, +1);
  return previous;
}

ObjectPtr Store::Remove(std::string_view key) {
  std::unique_lock lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  ObjectPtr previous = it->second;
  items_.erase(it);
  IndexLocked(std::string(key), *previous, -1);
  return previous;
}

}  // namespace shardwise::kube
