#include "operator/kube/informer.h"

#include <random>
#include <set>

#include "common/log/log.h"

namespace shardwise::kube {

ClientListerWatcher::ClientListerWatcher(Client* client, GroupVersionResource gvr, std::string ns,
                                         std::string label_selector, std::string field_selector)
    : client_(client),
      gvr_(std::move(gvr)),
      ns_(std::move(ns)),
      label_selector_(std::move(label_selector)),
      field_selector_(std::move(field_selector)) {}

ApiResult<ObjectList> ClientListerWatcher::List(const ListOptions& options) {
  ListOptions with_selectors = options;
  with_selectors.label_selector = label_selector_;
  with_selectors.field_selector = field_selector_;
  return client_->List(gvr_, ns_, with_selectors);
}

std::unique_ptr<WatchStream> ClientListerWatcher::Watch(const WatchOptions& options) {
  WatchOptions with_selectors = options;
  with_selectors.label_selector = label_selector_;
  with_selectors.field_selector = field_selector_;
  return client_->Watch(gvr_, ns_, with_selectors);
}

Informer::Informer(std::shared_ptr<ListerWatcher> source, Options options)
    : source_(std::move(source)), options_(std::move(options)) {}

Informer::~Informer() { Stop(); }

void Informer::AddEventHandler(EventHandler handler) { handlers_.push_back(std::move(handler)); }

void Informer::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (current_watch_ != nullptr) current_watch_->Stop();
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return synced_.load() || stopping_; });
  return synced_.load();
}

std::string Informer::LastResourceVersion() const {
  std::lock_guard lock(mu_);
  return resource_version_;
}

void Informer::SetResourceVersion(std::string rv) {
  if (rv.empty()) return;
  std::lock_guard lock(mu_);
  resource_version_ = std::move(rv);
}

bool Informer::SleepFor(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, delay, [&] { return stopping_; });
}

void Informer::Run() {
  Backoff backoff(options_.initial_backoff, options_.max_backoff, 2.0, 0.2);
  bool need_list = true;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    if (need_list) {
      if (!ListAndReplace()) {
        if (!SleepFor(backoff.Next())) return;
        continue;
      }
      need_list = false;
      backoff.Reset();
    }
    const auto started = std::chrono::steady_clock::now();
    switch (WatchOnce()) {
      case WatchOutcome::kRelist:
        need_list = true;
        break;
      case WatchOutcome::kRewatch:
        backoff.Reset();
        break;
      case WatchOutcome::kFailed:
        // A watch that ran a while before failing was healthy: start the backoff over.
        if (std::chrono::steady_clock::now() - started > options_.max_backoff) backoff.Reset();
        if (!SleepFor(backoff.Next())) return;
        break;
    }
  }
}

bool Informer::ListAndReplace() {
  ListOptions options;
  options.limit = options_.page_size;
  std::vector<Object> items;
  std::string resource_version;
  for (;;) {
    auto page = source_->List(options);
    if (!page.ok() && page.error().IsGone() && !options.continue_token.empty()) {
      // The continue token expired mid-way: start over in one piece.
      log::Warn("list continue token expired; relisting without paging",
                {{"informer", options_.name}});
      options = ListOptions();
      items.clear();
      continue;
    }
    if (!page.ok()) {
      log::Warn("list failed", {{"informer", options_.name}, {"error", page.error().ToString()}});
      return false;
    }
    for (auto& item : page->items) items.push_back(std::move(item));
    resource_version = page->resource_version;
    if (page->continue_token.empty()) break;
    options.continue_token = page->continue_token;
  }
  ++lists_;

  // Replace: new and changed objects first, then the ones the list no longer has.
  std::set<std::string> listed;
  for (auto& item : items) {
    if (options_.transform) options_.transform(item);
    auto object = std::make_shared<const Object>(std::move(item));
    listed.insert(KeyOf(*object));
    ObjectPtr old = store_.Upsert(object);
    for (const auto& handler : handlers_) {
      if (old == nullptr) {
        if (handler.on_add) handler.on_add(*object);
      } else if (ResourceVersionOf(*old) != ResourceVersionOf(*object)) {
        if (handler.on_update) handler.on_update(*old, *object);
      }
    }
  }
  for (const auto& key : store_.Keys()) {
    if (listed.contains(key)) continue;
    ObjectPtr old = store_.Remove(key);
    if (old == nullptr) continue;
    for (const auto& handler : handlers_) {
      if (handler.on_delete) handler.on_delete(*old);
    }
  }
  SetResourceVersion(resource_version);
  if (!synced_.exchange(true)) {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  }
  if (options_.resync_period.count() > 0) {
    next_resync_ = std::chrono::steady_clock::now() + options_.resync_period;
  }
  return true;
}

Informer::WatchOutcome Informer::WatchOnce() {
  static thread_local std::minstd_rand rng{std::random_device{}()};
  WatchOptions options;
  options.resource_version = LastResourceVersion();
  options.allow_bookmarks = true;
  // Spread re-watches of many informers over time.
  std::uniform_int_distribution<int> spread(0, options_.watch_timeout_seconds);
  options.timeout_seconds = options_.watch_timeout_seconds + spread(rng);

  std::unique_ptr<WatchStream> stream = source_->Watch(options);
  {
    std::lock_guard lock(mu_);
    if (stopping_) return WatchOutcome::kRewatch;
    current_watch_ = stream.get();
  }
  ++watches_;
  const auto started = std::chrono::steady_clock::now();
  int64_t events = 0;
  WatchOutcome outcome = WatchOutcome::kRewatch;
  for (;;) {
    std::optional<WatchEvent> event = stream->Next(std::chrono::milliseconds(100));
    if (event) {
      if (event->type == WatchEvent::Type::kError) {
        if (event->error.IsGone()) {
          log::Info("watch expired; relisting",
                    {{"informer", options_.name}, {"error", event->error.message()}});
          outcome = WatchOutcome::kRelist;
        } else {
          log::Warn("watch error event",
                    {{"informer", options_.name}, {"error", event->error.ToString()}});
          outcome = WatchOutcome::kFailed;
        }
        break;
      }
      Apply(*event);
      ++events;
      continue;
    }
    MaybeResync();
    if (stream->ended()) {
      if (auto error = stream->end_error()) {
        if (error->IsGone()) {
          outcome = WatchOutcome::kRelist;
        } else {
          log::Warn("watch failed", {{"informer", options_.name}, {"error", error->ToString()}});
          outcome = WatchOutcome::kFailed;
        }
      } else if (events == 0 &&
                 std::chrono::steady_clock::now() - started < std::chrono::seconds(1)) {
        // A server that ends every watch at once would otherwise be hammered.
        outcome = WatchOutcome::kFailed;
      }
      break;
    }
  }
  {
    std::lock_guard lock(mu_);
    current_watch_ = nullptr;
  }
  stream->Stop();
  return outcome;
}

void Informer::Apply(const WatchEvent& event) {
  SetResourceVersion(ResourceVersionOf(event.object));
  switch (event.type) {
    case WatchEvent::Type::kBookmark:
    case WatchEvent::Type::kError:
      return;
    case WatchEvent::Type::kAdded:
    case WatchEvent::Type::kModified: {
      Object copy = event.object;
      if (options_.transform) options_.transform(copy);
      auto object = std::make_shared<const Object>(std::move(copy));
      ObjectPtr old = store_.Upsert(object);
      for (const auto& handler : handlers_) {
        if (old == nullptr) {
          if (handler.on_add) handler.on_add(*object);
        } else if (handler.on_update) {
          handler.on_update(*old, *object);
        }
      }
      return;
    }
    case WatchEvent::Type::kDeleted: {
      ObjectPtr old = store_.Remove(KeyOf(event.object));
      if (old == nullptr) return;
      for (const auto& handler : handlers_) {
        if (handler.on_delete) handler.on_delete(event.object);
      }
      return;
    }
  }
}

void Informer::MaybeResync() {
  if (options_.resync_period.count() <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_resync_) return;
  next_resync_ = now + options_.resync_period;
  for (const auto& object : store_.List()) {
    for (const auto& handler : handlers_) {
      if (handler.on_update) handler.on_update(*object, *object);
    }
  }
}

}  // namespace shardwise::kube
