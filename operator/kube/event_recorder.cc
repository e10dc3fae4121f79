#include "operator/kube/event_recorder.h"

#include <fmt/format.h>

#include "common/log/log.h"
#include "operator/kube/time_format.h"

namespace shardwise::kube {

ObjectReference ObjectReference::From(const Object& object) {
  ObjectReference ref;
  ref.api_version = object.value("apiVersion", "");
  ref.kind = object.value("kind", "");
  ref.ns = NamespaceOf(object);
  ref.name = NameOf(object);
  ref.uid = UidOf(object);
  ref.resource_version = ResourceVersionOf(object);
  return ref;
}

nlohmann::json ObjectReference::ToJson() const {
  nlohmann::json out = nlohmann::json::object();
  if (!api_version.empty()) out["apiVersion"] = api_version;
  if (!kind.empty()) out["kind"] = kind;
  if (!ns.empty()) out["namespace"] = ns;
  if (!name.empty()) out["name"] = name;
  if (!uid.empty()) out["uid"] = uid;
  if (!resource_version.empty()) out["resourceVersion"] = resource_version;
  return out;
}

EventRecorder::EventRecorder(Client* client, Options options)
    : client_(client), options_(std::move(options)), thread_([this] { Run(); }) {}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

void EventRecorder::Record(const ObjectReference& object, std::string_view type,
                           std::string_view reason, std::string message) {
  std::lock_guard lock(mu_);
  if (stopping_ || queue_.size() >= options_.max_queued) {
    ++dropped_;
    return;
  }
  queue_.push_back({object, std::string(type), std::string(reason), std::move(message),
                    std::chrono::system_clock::now()});
  ++enqueued_;
  cv_.notify_all();
}

bool EventRecorder::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const uint64_t target = enqueued_;
  return cv_.wait_for(lock, timeout, [&] { return sent_ >= target; });
}

void EventRecorder::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    Pending event = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    Send(event);
    lock.lock();
    ++sent_;
    cv_.notify_all();
  }
}

void EventRecorder::Send(const Pending& event) {
  const std::string key =
      fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", event.object.kind, event.object.ns,
                  event.object.name, event.object.uid, event.type, event.reason, event.message);
  const std::string now = FormatTime(event.time);
  if (auto it = aggregates_.find(key); it != aggregates_.end()) {
    Aggregate& aggregate = it->second;
    nlohmann::json patch = {{"count", aggregate.count + 1}, {"lastTimestamp", now}};
    auto patched =
        client_->Patch(resources::kEvents, aggregate.ns, aggregate.name, PatchType::kMerge, patch);
    if (patched.ok()) {
      aggregate.count += 1;
      return;
    }
    aggregates_.erase(it);
    if (!patched.error().IsNotFound()) {
      ++failed_;
      log::Warn("updating event failed",
                {{"reason", event.reason}, {"error", patched.error().ToString()}});
      return;
    }
  }
  const std::string ns = event.object.ns.empty() ? "default" : event.object.ns;
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(event.time.time_since_epoch()).count();
  const std::string name = fmt::format("{}.{:x}", event.object.name, nanos);
  nlohmann::json body = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", name}, {"namespace", ns}}},
      {"involvedObject", event.object.ToJson()},
      {"type", event.type},
      {"reason", event.reason},
      {"message", event.message},
      {"source", {{"component", options_.component}}},
      {"reportingComponent", options_.component},
      {"firstTimestamp", now},
      {"lastTimestamp", now},
      {"count", 1},
  };
  if (!options_.host.empty()) body["source"]["host"] = options_.host;
  auto created = client_->Create(resources::kEvents, ns, body);
  if (!created.ok()) {
    ++failed_;
    log::Warn("creating event failed",
              {{"reason", event.reason}, {"error", created.error().ToString()}});
    return;
  }
  if (aggregates_.size() >= options_.max_aggregated) aggregates_.clear();
  aggregates_[key] = {ns, name, 1};
}

}  // namespace shardwise::kube
