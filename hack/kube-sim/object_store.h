// ObjectStore: the simulator's etcd. Objects are JSON documents kept per storage
// collection ("<group>/<plural>") and keyed by namespace/name. Every write takes the
// next value of one global resourceVersion counter, is recorded in a bounded event
// history, and is fanned out to watchers. A watch that starts before the oldest kept
// event is refused with 410 Expired, as etcd compaction makes real servers do.
//
// All reads and writes go through Transact(), which runs a function under the store's
// single lock: read-modify-write sequences are atomic.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "hack/kube-sim/api_error.h"

namespace shardwise::kubesim {

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED or DELETED
  std::string collection;
  json object;    // the new state (last state for DELETED)
  json previous;  // the state before this event; null for ADDED
  uint64_t resource_version = 0;
};

// One watch stream's queue. Filled by the store, drained by one consumer thread.
class Watcher {
 public:
  Watcher(std::string collection, std::string ns) : collection_(collection), ns_(ns) {}
  // The next event, waiting up to `timeout`; nullopt on timeout or once closed and empty.
  std::optional<WatchEvent> Next(std::chrono::milliseconds timeout);
  // True once the store dropped this watcher (queue overflow or shutdown).
  bool closed() const;

 private:
  friend class ObjectStore;
  bool Wants(const WatchEvent& e) const;
  void Push(WatchEvent e);
  void Close();

  const std::string collection_;  // "" = every collection
  const std::string ns_;          // "" = every namespace
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchEvent> queue_;
  bool closed_ = false;
};

class ObjectStore {
 public:
  explicit ObjectStore(size_t history_limit = 20000);
  ~ObjectStore();

  class Txn {
   public:
    const json* Get(const std::string& collection, const std::string& ns,
                    const std::string& name) const;
    // Items of `collection` in `ns` ("" = all namespaces), ordered by namespace/name,
    // starting after the key `after` ("" = from the start).
    std::vector<const json*> List(const std::string& collection, const std::string& ns,
                                  const std::string& after = "") const;
    // Every collection name that holds at least one object.
    std::vector<std::string> Collections() const;
    // Stores `object` under a fresh resourceVersion (written into its metadata) and
    // returns the stored copy. ADDED if new, MODIFIED otherwise.
    json Put(const std::string& collection, json object);
    // Removes the object (if present) with a DELETED event under a fresh resourceVersion.
    std::optional<json> Remove(const std::string& collection, const std::string& ns,
                               const std::string& name);
    uint64_t ResourceVersion() const;

   private:
    friend class ObjectStore;
    explicit Txn(ObjectStore* store) : store_(store) {}
    ObjectStore* store_;
  };

  template <typename F>
  auto Transact(F&& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    Txn txn(this);
    return fn(txn);
  }

  uint64_t ResourceVersion();

  // Starts a watch on `collection` ("" = all) in `ns` ("" = all). With `since` unset the
  // watcher first receives a synthetic ADDED for every current object; otherwise every
  // kept event with resourceVersion > *since. 410 if *since predates the history.
  ApiResult<std::shared_ptr<Watcher>> Watch(const std::string& collection, const std::string& ns,
                                            std::optional<uint64_t> since);
  // True if a list at exactly `rv` can no longer be served (history compacted).
  bool IsCompacted(uint64_t rv);
  void StopWatch(const std::shared_ptr<Watcher>& w);

  // {"resourceVersion": N, "collections": {name: [objects...]}} and back.
  json Snapshot();
  void Restore(const json& snapshot);

  // Closes every watcher (shutdown).
  void CloseAll();

 private:
  void Record(WatchEvent e);
  static std::string Key(const std::string& ns, const std::string& name) { return ns + "/" + name; }

  const size_t history_limit_;
  std::mutex mu_;
  uint64_t rv_ = 1;
  // rv of the newest event dropped from the history; watches from below it are 410.
  uint64_t compacted_rv_ = 0;
  std::unordered_map<std::string, std::map<std::string, json>> collections_;
  std::deque<WatchEvent> history_;
  std::vector<std::shared_ptr<Watcher>> watchers_;
};

}  // namespace shardwise::kubesim
