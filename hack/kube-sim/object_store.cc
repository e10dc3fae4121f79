#include "hack/kube-sim/object_store.h"

#include <algorithm>

namespace shardwise::kubesim {

namespace {
constexpr size_t kMaxQueuedEvents = 100000;

std::string NamespaceOf(const json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  return m->value("namespace", "");
}
std::string NameOf(const json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  return m->value("name", "");
}
}  // namespace

std::optional<WatchEvent> Watcher::Next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_; });
  if (queue_.empty()) return std::nullopt;
  WatchEvent e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

bool Watcher::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

bool Watcher::Wants(const WatchEvent& e) const {
  if (!collection_.empty() && e.collection != collection_) return false;
  if (!ns_.empty() && NamespaceOf(e.object) != ns_) return false;
  return true;
}

void Watcher::Push(WatchEvent e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    if (queue_.size() >= kMaxQueuedEvents) {
      closed_ = true;  // a consumer this far behind must relist
    } else {
      queue_.push_back(std::move(e));
    }
  }
  cv_.notify_all();
}

void Watcher::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

ObjectStore::ObjectStore(size_t history_limit) : history_limit_(history_limit) {}

ObjectStore::~ObjectStore() { CloseAll(); }

const json* ObjectStore::Txn::Get(const std::string& collection, const std::string& ns,
                                  const std::string& name) const {
  auto c = store_->collections_.find(collection);
  if (c == store_->collections_.end()) return nullptr;
  auto it = c->second.find(Key(ns, name));
  return it == c->second.end() ? nullptr : &it->second;
}

std::vector<const json*> ObjectStore::Txn::List(const std::string& collection,
                                                const std::string& ns,
                                                const std::string& after) const {
  std::vector<const json*> out;
  auto c = store_->collections_.find(collection);
  if (c == store_->collections_.end()) return out;
  auto it = after.empty() ? c->second.begin() : c->second.upper_bound(after);
  if (!ns.empty() && after.empty()) it = c->second.lower_bound(ns + "/");
  for (; it != c->second.end(); ++it) {
    if (!ns.empty()) {
      if (it->first.compare(0, ns.size() + 1, ns + "/") != 0) {
        if (it->first > ns + "/") break;
        continue;
      }
    }
    out.push_back(&it->second);
  }
  return out;
}

std::vector<std::string> ObjectStore::Txn::Collections() const {
  std::vector<std::string> out;
  for (const auto& [name, items] : store_->collections_)
    if (!items.empty()) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

json ObjectStore::Txn::Put(const std::string& collection, json object) {
  uint64_t rv = ++store_->rv_;
  object["metadata"]["resourceVersion"] = std::to_string(rv);
  auto& items = store_->collections_[collection];
  std::string key = Key(NamespaceOf(object), NameOf(object));
  auto it = items.find(key);
  WatchEvent e;
  e.collection = collection;
  e.resource_version = rv;
  e.object = object;
  if (it == items.end()) {
    e.type = "ADDED";
    items.emplace(key, object);
  } else {
    e.type = "MODIFIED";
    e.previous = std::move(it->second);
    it->second = object;
  }
  store_->Record(std::move(e));
  return object;
}

std::optional<json> ObjectStore::Txn::Remove(const std::string& collection, const std::string& ns,
                                             const std::string& name) {
  auto c = store_->collections_.find(collection);
  if (c == store_->collections_.end()) return std::nullopt;
  auto it = c->second.find(Key(ns, name));
  if (it == c->second.end()) return std::nullopt;
  uint64_t rv = ++store_->rv_;
  json last = std::move(it->second);
  c->second.erase(it);
  // A DELETED event carries the last state at the deletion's resourceVersion.
  last["metadata"]["resourceVersion"] = std::to_string(rv);
  WatchEvent e;
  e.type = "DELETED";
  e.collection = collection;
  e.resource_version = rv;
  e.object = last;
  e.previous = last;
  store_->Record(std::move(e));
  return last;
}

uint64_t ObjectStore::Txn::ResourceVersion() const { return store_->rv_; }

uint64_t ObjectStore::ResourceVersion() {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_;
}

void ObjectStore::Record(WatchEvent e) {
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    if ((*it)->Wants(e)) (*it)->Push(e);
    if ((*it)->closed()) {
      it = watchers_.erase(it);
    } else {
      ++it;
    }
  }
  history_.push_back(std::move(e));
  while (history_.size() > history_limit_) {
    compacted_rv_ = history_.front().resource_version;
    history_.pop_front();
  }
}

bool ObjectStore::IsCompacted(uint64_t rv) {
  std::lock_guard<std::mutex> lock(mu_);
  return rv < compacted_rv_;
}

ApiResult<std::shared_ptr<Watcher>> ObjectStore::Watch(const std::string& collection,
                                                       const std::string& ns,
                                                       std::optional<uint64_t> since) {
  std::lock_guard<std::mutex> lock(mu_);
  auto w = std::make_shared<Watcher>(collection, ns);
  if (!since) {
    for (const auto& [cname, items] : collections_) {
      if (!collection.empty() && cname != collection) continue;
      for (const auto& [key, obj] : items) {
        WatchEvent e{"ADDED", cname, obj, nullptr, rv_};
        if (w->Wants(e)) w->Push(std::move(e));
      }
    }
  } else {
    if (*since < compacted_rv_) {
      return ApiError::Expired("too old resource version: " + std::to_string(*since) + " (" +
                               std::to_string(compacted_rv_ + 1) + ")");
    }
    for (const auto& e : history_)
      if (e.resource_version > *since && w->Wants(e)) w->Push(e);
  }
  watchers_.push_back(w);
  return w;
}

void ObjectStore::StopWatch(const std::shared_ptr<Watcher>& w) {
  std::lock_guard<std::mutex> lock(mu_);
  w->Close();
  watchers_.erase(std::remove(watchers_.begin(), watchers_.end(), w), watchers_.end());
}

void ObjectStore::CloseAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& w : watchers_) w->Close();
  watchers_.clear();
}

json ObjectStore::Snapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  json out = {{"resourceVersion", rv_}, {"collections", json::object()}};
  for (const auto& [name, items] : collections_) {
    json arr = json::array();
    for (const auto& [key, obj] : items) arr.push_back(obj);
    out["collections"][name] = std::move(arr);
  }
  return out;
}

void ObjectStore::Restore(const json& snapshot) {
  std::lock_guard<std::mutex> lock(mu_);
  collections_.clear();
  history_.clear();
  rv_ = snapshot.value("resourceVersion", uint64_t{1});
  compacted_rv_ = rv_;  // no history survives a restart
  const json collections = snapshot.value("collections", json::object());
  for (const auto& [name, items] : collections.items()) {
    auto& c = collections_[name];
    for (const auto& obj : items) c[Key(NamespaceOf(obj), NameOf(obj))] = obj;
  }
}

}  // namespace shardwise::kubesim
