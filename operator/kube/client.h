// Client: the Kubernetes REST API by GroupVersionResource, with untyped JSON objects.
//
// Every request passes a client-side token bucket (Config::qps/burst) and is retried with
// capped exponential backoff when the answer is worth retrying: 429 and 503 with
// Retry-After (honoured) for every verb — the server did not act on them — and other 5xx
// and connection failures only for verbs that are safe to repeat (GET, PUT, DELETE).
// Errors come back as typed ApiErrors carrying the server's Status message and causes.
//
// Methods are thread-safe and block the calling thread (never call them from a watch or
// transport callback). Watch() returns a stream the caller drains from its own thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/kube/api_error.h"
#include "operator/kube/config.h"
#include "operator/kube/rate_limiter.h"
#include "operator/kube/resource.h"
#include "operator/kube/token_source.h"
#include "operator/kube/transport.h"
#include "operator/kube/watch.h"

namespace shardwise::kube {

struct ListOptions {
  std::string label_selector;  // "app=web,tier!=db,env in (a,b)"
  std::string field_selector;  // "metadata.name=x"
  int64_t limit = 0;           // page size; 0 = everything at once
  std::string continue_token;
  std::string resource_version;        // "" = most recent; "0" = any (cache)
  std::string resource_version_match;  // "", "Exact", "NotOlderThan"
};

struct ObjectList {
  std::string resource_version;  // the list's metadata.resourceVersion: watch from here
  std::string continue_token;    // "" on the last page
  std::vector<Object> items;     // apiVersion/kind filled in when the server omitted them
};

struct WriteOptions {
  std::string field_manager;
  bool dry_run = false;
  std::string field_validation;  // "", "Ignore", "Warn", "Strict"
};

enum class PatchType {
  kMerge,           // application/merge-patch+json (RFC 7386)
  kJson,            // application/json-patch+json (RFC 6902)
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in types only)
  kApply,           // application/apply-patch+yaml: server-side apply (field_manager needed)
};
std::string_view PatchContentType(PatchType type);

struct PatchOptions {
  std::string field_manager;  // required for kApply
  bool force = false;         // kApply: take fields owned by other managers
  bool dry_run = false;
};

struct DeleteOptions {
  std::string propagation_policy;  // "", "Background", "Foreground", "Orphan"
  std::optional<int64_t> grace_period_seconds;
  std::string precondition_uid;               // delete only this incarnation
  std::string precondition_resource_version;  // delete only this version
  bool dry_run = false;
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // events after this version ("" or "0": synthetic ADDs first)
  bool allow_bookmarks = true;
  int timeout_seconds = 0;  // the server ends the stream after this long; 0 = its default
};

class Client {
 public:
  struct Options {
    int max_retries = 5;
    std::chrono::milliseconds initial_backoff{100};
    std::chrono::milliseconds max_backoff{5000};
    // Retry-After values above this are clamped (a server can ask for minutes).
    std::chrono::seconds max_retry_after{30};
    std::chrono::milliseconds request_timeout{30000};
    SteadyClock clock = RealSteadyClock();  // for the rate limiter
  };

  Client(Config config, std::shared_ptr<Transport> transport);
  Client(Config config, std::shared_ptr<Transport> transport, Options options);
  // A client on the project's HTTP stack (see http_transport.h).
  static Result<std::unique_ptr<Client>> Connect(Config config);
  static Result<std::unique_ptr<Client>> Connect(Config config, Options options);

  const Config& config() const { return config_; }
  // The context's or service account's namespace, "default" when unset.
  std::string DefaultNamespace() const;

  // `ns` "" addresses cluster-scoped resources (or, for List/Watch, every namespace).
  ApiResult<Object> Get(const GroupVersionResource& gvr, std::string_view ns, std::string_view name,
                        std::string_view subresource = "");
  // One page (or everything when limit is 0).
  ApiResult<ObjectList> List(const GroupVersionResource& gvr, std::string_view ns,
                             const ListOptions& options = {});
  // Follows continue tokens until the last page; the items of all pages together.
  ApiResult<ObjectList> ListAll(const GroupVersionResource& gvr, std::string_view ns,
                                ListOptions options);
  ApiResult<Object> Create(const GroupVersionResource& gvr, std::string_view ns,
                           const Object& object, const WriteOptions& options = {});
  // PUT; the object's metadata.resourceVersion makes it conditional (409 when stale).
  ApiResult<Object> Update(const GroupVersionResource& gvr, std::string_view ns,
                           const Object& object, const WriteOptions& options = {});
  // PUT to a subresource ("status", "scale") of the object named in `object`.
  ApiResult<Object> UpdateSubresource(const GroupVersionResource& gvr, std::string_view ns,
                                      std::string_view subresource, const Object& object,
                                      const WriteOptions& options = {});
  ApiResult<Object> UpdateStatus(const GroupVersionResource& gvr, std::string_view ns,
                                 const Object& object, const WriteOptions& options = {}) {
    return UpdateSubresource(gvr, ns, "status", object, options);
  }
  ApiResult<Object> Patch(const GroupVersionResource& gvr, std::string_view ns,
                          std::string_view name, PatchType type, const nlohmann::json& patch,
                          const PatchOptions& options = {}, std::string_view subresource = "");
  // Server-side apply of a whole object (name from its metadata).
  ApiResult<Object> Apply(const GroupVersionResource& gvr, std::string_view ns,
                          const Object& object, std::string field_manager, bool force = false);
  // The deleted object, or the server's Status when it returned one.
  ApiResult<Object> Delete(const GroupVersionResource& gvr, std::string_view ns,
                           std::string_view name, const DeleteOptions& options = {});
  // autoscaling/v1 Scale of a resource with a scale subresource.
  ApiResult<Object> GetScale(const GroupVersionResource& gvr, std::string_view ns,
                             std::string_view name) {
    return Get(gvr, ns, name, "scale");
  }
  ApiResult<Object> UpdateScale(const GroupVersionResource& gvr, std::string_view ns,
                                const Object& scale) {
    return UpdateSubresource(gvr, ns, "scale", scale);
  }
  // Starts a watch and returns at once. A refused request (403, 410 on some servers)
  // ends the stream with end_error(); an expired resourceVersion usually arrives as a
  // kError event whose error IsGone(). Watches are not retried: the caller re-watches.
  std::unique_ptr<WatchStream> Watch(const GroupVersionResource& gvr, std::string_view ns,
                                     const WatchOptions& options);

  // Any request (e.g. discovery); `target` is path plus query.
  ApiResult<HttpResponse> Raw(std::string method, std::string target, std::string body = "",
                              std::string content_type = "");

 private:
  ApiResult<HttpResponse> Send(HttpRequest request, bool safe_to_repeat);
  ApiResult<Object> SendForObject(HttpRequest request, bool safe_to_repeat);
  // User-Agent, Accept and Authorization, fresh for every attempt (tokens rotate).
  void AddCommonHeaders(HttpRequest* request);

  const Config config_;
  const std::shared_ptr<Transport> transport_;
  const Options options_;
  TokenBucket limiter_;
  TokenSource token_;
};

}  // namespace shardwise::kube
