// Watch events and the stream that delivers them.
//
// The API server answers a watch with a chunked body of one JSON object per line:
// {"type":"ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR","object":{...}}. An ERROR event
// carries a metav1.Status (410 Expired when the requested resourceVersion is too old)
// and the server then ends the stream. WatchLineDecoder turns chunks into events;
// WatchStream buffers them for one consumer thread, which blocks in Next().
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/kube/api_error.h"
#include "operator/kube/resource.h"
#include "operator/kube/transport.h"

namespace shardwise::kube {

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark, kError };
  Type type = Type::kAdded;
  Object object;   // the object (the last state for kDeleted); for kError the Status
  ApiError error;  // kError only
};

std::string_view WatchEventTypeName(WatchEvent::Type type);

// Splits a byte stream into lines and decodes each into an event. Bytes may arrive in any
// split. A line that is not a watch event but a bare metav1.Status (some proxies answer
// that way) becomes a kError event; undecodable lines become kError events with reason
// kDecode.
class WatchLineDecoder {
 public:
  std::vector<WatchEvent> Feed(std::string_view chunk);

 private:
  std::string partial_;
};

// Parses one line; exposed for tests.
WatchEvent DecodeWatchLine(std::string_view line);

class WatchStream {
 public:
  // Shared with the transport callbacks, which may outlive the stream object.
  struct State;

  explicit WatchStream(std::shared_ptr<State> state) : state_(std::move(state)) {}
  ~WatchStream() { Stop(); }
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  // The next event, waiting up to `wait`. nullopt on timeout or when the stream has
  // ended and every event was consumed (then ended() is true).
  std::optional<WatchEvent> Next(std::chrono::milliseconds wait);
  bool ended() const;
  // Why the stream ended: nullopt for a clean end (server timeout, Stop()); otherwise the
  // connection error or the HTTP error the watch request got.
  std::optional<ApiError> end_error() const;
  // Cancels the request; Next() then drains what was buffered and reports the end.
  void Stop();

  // Wiring for transports and fakes.
  static std::shared_ptr<State> NewState();
  // Appends bytes of the body (called from the transport thread). False once stopped.
  static bool OnData(const std::shared_ptr<State>& state, std::string_view chunk);
  static void OnDone(const std::shared_ptr<State>& state, std::optional<ApiError> error);
  static void SetHandle(const std::shared_ptr<State>& state, std::unique_ptr<StreamHandle> handle);

 private:
  std::shared_ptr<State> state_;
};

struct WatchStream::State {
  mutable std::mutex mu;
  std::condition_variable cv;
  WatchLineDecoder decoder;
  std::deque<WatchEvent> events;
  bool ended = false;
  bool stopped = false;
  std::optional<ApiError> error;
  std::unique_ptr<StreamHandle> handle;
};

}  // namespace shardwise::kube
