// EventRecorder: records core/v1 Events about objects ("kubectl describe" shows them)
// without blocking the caller.
//
// Record() only enqueues (a bounded queue; when it is full the event is dropped and
// counted — events are advisory and must never stall a controller). A background thread
// sends them. Repeats are aggregated as client-go does: an event with the same involved
// object, type, reason and message as one already sent is a PATCH of that Event's count
// and lastTimestamp instead of a new object; if that Event is gone (expired by the
// server), a new one is created.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "operator/kube/client.h"

namespace shardwise::kube {

struct ObjectReference {
  std::string api_version;
  std::string kind;
  std::string ns;
  std::string name;
  std::string uid;
  std::string resource_version;

  // From an object's apiVersion, kind and metadata.
  static ObjectReference From(const Object& object);
  nlohmann::json ToJson() const;
};

class EventRecorder {
 public:
  struct Options {
    std::string component = "shardwise-operator";  // source.component, reportingController
    std::string host;                              // source.host (optional)
    size_t max_queued = 1000;
    size_t max_aggregated = 4096;  // remembered (object, reason, message) keys
  };

  EventRecorder(Client* client, Options options);
  ~EventRecorder();  // sends what is queued (bounded by one attempt each), then stops
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // type is "Normal" or "Warning"; reason is CamelCase ("ShardsScaled").
  void Record(const ObjectReference& object, std::string_view type, std::string_view reason,
              std::string message);

  // Waits until every event recorded before the call was sent (or failed).
  bool Flush(std::chrono::milliseconds timeout);
  int64_t dropped() const { return dropped_.load(); }
  int64_t failed() const { return failed_.load(); }

 private:
  struct Pending {
    ObjectReference object;
    std::string type, reason, message;
    std::chrono::system_clock::time_point time;
  };
  struct Aggregate {
    std::string ns, name;
    int64_t count = 0;
  };
  void Run();
  void Send(const Pending& event);

  Client* const client_;
  const Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  uint64_t enqueued_ = 0, sent_ = 0;
  bool stopping_ = false;
  std::unordered_map<std::string, Aggregate> aggregates_;  // sender thread only
  std::atomic<int64_t> dropped_{0}, failed_{0};
  std::thread thread_;
};

}  // namespace shardwise::kube
