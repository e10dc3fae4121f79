// Informer: keeps a local, indexed copy of one resource collection current and tells
// event handlers what changed (client-go's reflector + shared informer).
//
// Protocol: LIST (paged), then WATCH from the list's resourceVersion with bookmarks, so no
// change between the two is missed. Each event updates the Store before handlers run.
//  * The watch ends cleanly (server timeout): re-watch from the last resourceVersion seen
//    (bookmarks keep it fresh even when nothing changes).
//  * The watch fails (connection cut, 5xx): re-watch after a capped exponential backoff.
//  * 410 Gone / Expired (the server no longer has that history): relist, and *replace*
//    the store — objects missing from the new list are deleted (handlers get on_delete),
//    changed ones get on_update, new ones on_add — then watch from the new list.
//  * Every resync_period (if set), handlers get on_update(obj, obj) for every object, so
//    controllers re-check state they may have dropped.
//
// Handlers run on the informer's thread, in order, and must not block: they enqueue keys
// into a WorkQueue and return. The Store may be read from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "operator/kube/client.h"
#include "operator/kube/store.h"
#include "operator/kube/watch.h"

namespace shardwise::kube {

// What an informer needs from the API: one collection, listed and watched.
class ListerWatcher {
 public:
  virtual ~ListerWatcher() = default;
  virtual ApiResult<ObjectList> List(const ListOptions& options) = 0;
  virtual std::unique_ptr<WatchStream> Watch(const WatchOptions& options) = 0;
};

// A collection on a real Client: resource, namespace ("" = all) and selectors.
class ClientListerWatcher : public ListerWatcher {
 public:
  ClientListerWatcher(Client* client, GroupVersionResource gvr, std::string ns,
                      std::string label_selector = "", std::string field_selector = "");
  ApiResult<ObjectList> List(const ListOptions& options) override;
  std::unique_ptr<WatchStream> Watch(const WatchOptions& options) override;

 private:
  Client* client_;
  GroupVersionResource gvr_;
  std::string ns_, label_selector_, field_selector_;
};

struct EventHandler {
  std::function<void(const Object& object)> on_add;
  std::function<void(const Object& old_object, const Object& new_object)> on_update;
  std::function<void(const Object& last_state)> on_delete;
};

class Informer {
 public:
  struct Options {
    std::string name = "informer";               // for logs
    int64_t page_size = 500;                     // LIST limit; 0 lists at once
    std::chrono::milliseconds resync_period{0};  // 0 = never
    // The server ends each watch after a random time in [min, 2*min) seconds.
    int watch_timeout_seconds = 300;
    std::chrono::milliseconds initial_backoff{800};
    std::chrono::milliseconds max_backoff{30000};
    // Applied to every object before it is cached and handed to handlers (client-go's
    // SetTransform): drop what the consumer never reads, to keep the cache small.
    std::function<void(Object&)> transform;
  };

  Informer(std::shared_ptr<ListerWatcher> source, Options options);
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Before Start().
  void AddEventHandler(EventHandler handler);
  void AddIndexer(std::string name, IndexFunc index) { store_.AddIndexer(std::move(name), index); }

  void Start();
  void Stop();  // returns when the informer's thread has ended

  // True once the first LIST has been applied.
  bool HasSynced() const { return synced_.load(); }
  bool WaitForSync(std::chrono::milliseconds timeout);
  const Store& store() const { return store_; }
  std::string LastResourceVersion() const;

  // Counters for tests and metrics.
  int64_t lists() const { return lists_.load(); }
  int64_t watches() const { return watches_.load(); }

 private:
  void Run();
  // LIST and replace the store; false when it failed (after logging).
  bool ListAndReplace();
  enum class WatchOutcome { kRewatch, kFailed, kRelist };
  // Watches until the stream ends and says what to do next.
  WatchOutcome WatchOnce();
  void Apply(const WatchEvent& event);
  void MaybeResync();
  void SetResourceVersion(std::string rv);
  // Sleeps unless stopped first; false when stopped.
  bool SleepFor(std::chrono::milliseconds delay);

  const std::shared_ptr<ListerWatcher> source_;
  const Options options_;
  Store store_;
  std::vector<EventHandler> handlers_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::string resource_version_;
  WatchStream* current_watch_ = nullptr;
  std::thread thread_;
  std::atomic<bool> synced_{false};
  std::atomic<int64_t> lists_{0};
  std::atomic<int64_t> watches_{0};
  std::chrono::steady_clock::time_point next_resync_{};
};

}  // namespace shardwise::kube
