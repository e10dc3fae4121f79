#include "operator/kube/watch.h"

namespace shardwise::kube {

std::string_view WatchEventTypeName(WatchEvent::Type type) {
  switch (type) {
    case WatchEvent::Type::kAdded:
      return "ADDED";
    case WatchEvent::Type::kModified:
      return "MODIFIED";
    case WatchEvent::Type::kDeleted:
      return "DELETED";
    case WatchEvent::Type::kBookmark:
      return "BOOKMARK";
    case WatchEvent::Type::kError:
      return "ERROR";
  }
  return "ERROR";
}

WatchEvent DecodeWatchLine(std::string_view line) {
  WatchEvent event;
  event.type = WatchEvent::Type::kError;
  auto parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) {
    event.error = ApiError::Decode("undecodable watch line: " + std::string(line.substr(0, 200)));
    return event;
  }
  if (parsed.value("kind", "") == "Status" && !parsed.contains("type")) {
    event.error = ApiError::FromResponse(parsed.value("code", 500), line, "");
    event.object = std::move(parsed);
    return event;
  }
  const std::string type = parsed.value("type", "");
  auto object = parsed.find("object");
  if (object == parsed.end() || !object->is_object()) {
    event.error = ApiError::Decode("watch event without an object: " + type);
    return event;
  }
  event.object = std::move(*object);
  if (type == "ADDED") {
    event.type = WatchEvent::Type::kAdded;
  } else if (type == "MODIFIED") {
    event.type = WatchEvent::Type::kModified;
  } else if (type == "DELETED") {
    event.type = WatchEvent::Type::kDeleted;
  } else if (type == "BOOKMARK") {
    event.type = WatchEvent::Type::kBookmark;
  } else if (type == "ERROR") {
    event.error = ApiError::FromResponse(event.object.value("code", 500), event.object.dump(), "");
  } else {
    event.error = ApiError::Decode("unknown watch event type \"" + type + "\"");
  }
  return event;
}

std::vector<WatchEvent> WatchLineDecoder::Feed(std::string_view chunk) {
  std::vector<WatchEvent> events;
  partial_.append(chunk);
  size_t start = 0;
  for (size_t newline; (newline = partial_.find('\n', start)) != std::string::npos;
       start = newline + 1) {
    std::string_view line(partial_.data() + start, newline - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (!line.empty()) events.push_back(DecodeWatchLine(line));
  }
  partial_.erase(0, start);
  return events;
}

std::shared_ptr<WatchStream::State> WatchStream::NewState() { return std::make_shared<State>(); }

bool WatchStream::OnData(const std::shared_ptr<State>& state, std::string_view chunk) {
  std::lock_guard lock(state->mu);
  if (state->stopped || state->ended) return false;
  auto events = state->decoder.Feed(chunk);
  if (events.empty()) return true;
  for (auto& event : events) state->events.push_back(std::move(event));
  state->cv.notify_all();
  return true;
}

void WatchStream::OnDone(const std::shared_ptr<State>& state, std::optional<ApiError> error) {
  std::lock_guard lock(state->mu);
  if (state->ended) return;
  state->ended = true;
  if (!state->stopped) state->error = std::move(error);
  state->cv.notify_all();
}

void WatchStream::SetHandle(const std::shared_ptr<State>& state,
                            std::unique_ptr<StreamHandle> handle) {
  {
    std::lock_guard lock(state->mu);
    if (!state->stopped) {
      state->handle = std::move(handle);
      return;
    }
  }
  if (handle) handle->Cancel();
}

std::optional<WatchEvent> WatchStream::Next(std::chrono::milliseconds wait) {
  std::unique_lock lock(state_->mu);
  state_->cv.wait_for(lock, wait, [&] { return !state_->events.empty() || state_->ended; });
  if (state_->events.empty()) return std::nullopt;
  WatchEvent event = std::move(state_->events.front());
  state_->events.pop_front();
  return event;
}

bool WatchStream::ended() const {
  std::lock_guard lock(state_->mu);
  return state_->ended && state_->events.empty();
}

std::optional<ApiError> WatchStream::end_error() const {
  std::lock_guard lock(state_->mu);
  return state_->error;
}

void WatchStream::Stop() {
  std::unique_ptr<StreamHandle> handle;
  {
    std::lock_guard lock(state_->mu);
    state_->stopped = true;
    handle = std::move(state_->handle);
  }
  // Outside the lock: a transport may call OnDone synchronously from Cancel().
  if (handle) handle->Cancel();
  handle.reset();
  std::lock_guard lock(state_->mu);
  state_->ended = true;
  state_->cv.notify_all();
}

}  // namespace shardwise::kube
