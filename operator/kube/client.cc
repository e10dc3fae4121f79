#include "operator/kube/client.h"

#include "common/base64.h"

#include <algorithm>
#include <cctype>
#include <thread>

#include "common/metrics/registry.h"
#include "operator/kube/http_transport.h"

namespace shardwise::kube {
namespace {

// Builds "path?k=v&k=v" with percent-encoded values; empty values are skipped.
class Target {
 public:
  explicit Target(std::string path) : target_(std::move(path)) {}
  Target& Add(std::string_view key, std::string_view value) {
    if (value.empty()) return *this;
    target_ += first_ ? '?' : '&';
    first_ = false;
    target_ += key;
    target_ += '=';
    target_ += http::PercentEncode(value);
    return *this;
  }
  // Named apart from Add: a string literal would otherwise pick a bool overload.
  Target& AddPositive(std::string_view key, int64_t value) {
    return value > 0 ? Add(key, std::to_string(value)) : *this;
  }
  Target& AddFlag(std::string_view key, bool value) {
    return value ? Add(key, std::string_view("true")) : *this;
  }
  std::string str() const { return target_; }

 private:
  std::string target_;
  bool first_ = true;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

struct ClientMetrics {
  metrics::CounterFamily& requests = metrics::Registry::Default().AddCounterFamily(
      "shardwise_kube_requests_total",
      "Kubernetes API requests by verb and HTTP status (\"error\" when there was no answer).",
      {"verb", "code"});
  metrics::HistogramFamily& latency = metrics::Registry::Default().AddHistogramFamily(
      "shardwise_kube_request_duration_seconds", "Kubernetes API request latency by verb.",
      {"verb"}, metrics::LatencyBuckets());
  metrics::Counter& retries = metrics::Registry::Default().AddCounter(
      "shardwise_kube_request_retries_total",
      "Kubernetes API requests repeated after 429, 5xx or a connection failure.");
};

ClientMetrics& Metrics() {
  static ClientMetrics* metrics = new ClientMetrics();  // never destroyed: used at exit
  return *metrics;
}

bool IsSuccess(int status) { return status >= 200 && status < 300; }

ApiResult<Object> ParseObject(const HttpResponse& response) {
  auto object = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) {
    return ApiError::Decode("response is not a JSON object: " + response.body.substr(0, 200));
  }
  return object;
}

std::string NameOrEmpty(const Object& object) { return NameOf(object); }

void AddWriteParams(Target& target, const WriteOptions& options) {
  target.Add("fieldManager", options.field_manager);
  target.Add("fieldValidation", options.field_validation);
  if (options.dry_run) target.Add("dryRun", "All");
}

}  // namespace

std::string_view PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

Client::Client(Config config, std::shared_ptr<Transport> transport)
    : Client(std::move(config), std::move(transport), Options()) {}

Client::Client(Config config, std::shared_ptr<Transport> transport, Options options)
    : config_(std::move(config)),
      transport_(std::move(transport)),
      options_(std::move(options)),
      limiter_(config_.qps, config_.burst, options_.clock),
      token_(config_.bearer_token, config_.bearer_token_file) {}

Result<std::unique_ptr<Client>> Client::Connect(Config config) {
  return Connect(std::move(config), Options());
}

Result<std::unique_ptr<Client>> Client::Connect(Config config, Options options) {
  auto transport = HttpTransport::Create(config);
  if (!transport.ok()) return transport.status();
  return std::make_unique<Client>(std::move(config), std::move(transport).value(),
                                  std::move(options));
}

std::string Client::DefaultNamespace() const {
  return config_.default_namespace.empty() ? "default" : config_.default_namespace;
}

void Client::AddCommonHeaders(HttpRequest* request) {
  auto& headers = request->headers;
  std::erase_if(headers, [](const auto& header) {
    return EqualsIgnoreCase(header.first, "Authorization") ||
           EqualsIgnoreCase(header.first, "User-Agent");
  });
  headers.emplace_back("User-Agent", config_.user_agent);
  if (http::FindHeader(headers, "accept").empty())
    headers.emplace_back("Accept", "application/json");
  if (std::string token = token_.Token(); !token.empty()) {
    headers.emplace_back("Authorization", "Bearer " + token);
  } else if (!config_.username.empty()) {
    headers.emplace_back("Authorization",
                         "Basic " + Base64Encode(config_.username + ":" + config_.password));
  }
}

ApiResult<HttpResponse> Client::Send(HttpRequest request, bool safe_to_repeat) {
  if (request.timeout.count() == 0) request.timeout = options_.request_timeout;
  Backoff backoff(options_.initial_backoff, options_.max_backoff, 2.0, 0.2);
  for (int attempt = 0;; ++attempt) {
    AddCommonHeaders(&request);
    limiter_.Wait();
    const auto started = std::chrono::steady_clock::now();
    auto response = transport_->Do(request);
    Metrics()
        .latency.With({request.method})
        .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    Metrics()
        .requests.With({request.method, response.ok() ? std::to_string(response->status) : "error"})
        .Inc();
    ApiError error;
    if (response.ok()) {
      if (IsSuccess(response->status)) return std::move(response).value();
      error =
          ApiError::FromResponse(response->status, response->body, response->Header("Retry-After"));
    } else {
      error = ApiError::Connection(response.status().message());
    }
    // 429, and 5xx with Retry-After, mean the server did not act: any verb may repeat.
    const bool server_asked =
        error.IsTooManyRequests() || (error.IsServerError() && error.retry_after().has_value());
    const bool retry =
        attempt < options_.max_retries && (server_asked || (safe_to_repeat && error.IsRetriable()));
    if (!retry) return error;
    std::chrono::milliseconds delay = backoff.Next();
    if (auto after = error.retry_after()) {
      delay = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::min(*after, options_.max_retry_after));
    }
    Metrics().retries.Inc();
    std::this_thread::sleep_for(delay);
  }
}

ApiResult<Object> Client::SendForObject(HttpRequest request, bool safe_to_repeat) {
  auto response = Send(std::move(request), safe_to_repeat);
  if (!response.ok()) return response.error();
  return ParseObject(*response);
}

ApiResult<Object> Client::Get(const GroupVersionResource& gvr, std::string_view ns,
                              std::string_view name, std::string_view subresource) {
  HttpRequest request;
  request.target = gvr.Path(ns, name, subresource);
  return SendForObject(std::move(request), true);
}

ApiResult<ObjectList> Client::List(const GroupVersionResource& gvr, std::string_view ns,
                                   const ListOptions& options) {
  HttpRequest request;
  request.target = Target(gvr.Path(ns))
                       .Add("labelSelector", options.label_selector)
                       .Add("fieldSelector", options.field_selector)
                       .AddPositive("limit", options.limit)
                       .Add("continue", options.continue_token)
                       .Add("resourceVersion", options.resource_version)
                       .Add("resourceVersionMatch", options.resource_version_match)
                       .str();
  auto response = SendForObject(std::move(request), true);
  if (!response.ok()) return response.error();
  Object& list = *response;
  ObjectList out;
  if (auto metadata = list.find("metadata"); metadata != list.end() && metadata->is_object()) {
    out.resource_version = metadata->value("resourceVersion", "");
    out.continue_token = metadata->value("continue", "");
  }
  // Built-in lists omit apiVersion/kind on items; restore them from the list's.
  std::string kind = list.value("kind", "");
  if (kind.size() > 4 && kind.ends_with("List")) kind.resize(kind.size() - 4);
  const std::string api_version = list.value("apiVersion", gvr.GroupVersion());
  if (auto items = list.find("items"); items != list.end() && items->is_array()) {
    out.items.reserve(items->size());
    for (auto& item : *items) {
      if (!item.is_object()) continue;
      if (!item.contains("apiVersion")) item["apiVersion"] = api_version;
      if (!item.contains("kind") && !kind.empty()) item["kind"] = kind;
      out.items.push_back(std::move(item));
    }
  } else if (list.contains("items") && !list["items"].is_null()) {
    return ApiError::Decode("list response has no items array");
  }
  return out;
}

ApiResult<ObjectList> Client::ListAll(const GroupVersionResource& gvr, std::string_view ns,
                                      ListOptions options) {
  ObjectList all;
  for (;;) {
    auto page = List(gvr, ns, options);
    if (!page.ok()) return page.error();
    for (auto& item : page->items) all.items.push_back(std::move(item));
    all.resource_version = page->resource_version;
    if (page->continue_token.empty()) return all;
    options.continue_token = page->continue_token;
    // Later pages come from the first page's snapshot; a resourceVersion is not allowed.
    options.resource_version.clear();
    options.resource_version_match.clear();
  }
}

ApiResult<Object> Client::Create(const GroupVersionResource& gvr, std::string_view ns,
                                 const Object& object, const WriteOptions& options) {
  HttpRequest request;
  request.method = "POST";
  Target target(gvr.Path(ns));
  AddWriteParams(target, options);
  request.target = target.str();
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = object.dump();
  return SendForObject(std::move(request), false);
}

ApiResult<Object> Client::Update(const GroupVersionResource& gvr, std::string_view ns,
                                 const Object& object, const WriteOptions& options) {
  return UpdateSubresource(gvr, ns, "", object, options);
}

ApiResult<Object> Client::UpdateSubresource(const GroupVersionResource& gvr, std::string_view ns,
                                            std::string_view subresource, const Object& object,
                                            const WriteOptions& options) {
  const std::string name = NameOrEmpty(object);
  if (name.empty()) return ApiError(Reason::kInvalid, 0, "update: object has no metadata.name");
  HttpRequest request;
  request.method = "PUT";
  Target target(gvr.Path(ns, name, subresource));
  AddWriteParams(target, options);
  request.target = target.str();
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = object.dump();
  // A PUT carrying a resourceVersion cannot apply twice; one without may overwrite a
  // concurrent change on a repeat, which it would have done anyway.
  return SendForObject(std::move(request), true);
}

ApiResult<Object> Client::Patch(const GroupVersionResource& gvr, std::string_view ns,
                                std::string_view name, PatchType type, const nlohmann::json& patch,
                                const PatchOptions& options, std::string_view subresource) {
  if (type == PatchType::kApply && options.field_manager.empty()) {
    return ApiError(Reason::kInvalid, 0, "server-side apply needs a field manager");
  }
  HttpRequest request;
  request.method = "PATCH";
  Target target(gvr.Path(ns, name, subresource));
  target.Add("fieldManager", options.field_manager);
  if (type == PatchType::kApply) target.AddFlag("force", options.force);
  if (options.dry_run) target.Add("dryRun", "All");
  request.target = target.str();
  request.headers.emplace_back("Content-Type", std::string(PatchContentType(type)));
  request.body = patch.dump();
  // An apply is declarative and safe to repeat; other patches may not be (JSON patch "add").
  return SendForObject(std::move(request), type == PatchType::kApply);
}

ApiResult<Object> Client::Apply(const GroupVersionResource& gvr, std::string_view ns,
                                const Object& object, std::string field_manager, bool force) {
  PatchOptions options;
  options.field_manager = std::move(field_manager);
  options.force = force;
  return Patch(gvr, ns, NameOrEmpty(object), PatchType::kApply, object, options);
}

ApiResult<Object> Client::Delete(const GroupVersionResource& gvr, std::string_view ns,
                                 std::string_view name, const DeleteOptions& options) {
  nlohmann::json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  if (!options.precondition_uid.empty()) body["preconditions"]["uid"] = options.precondition_uid;
  if (!options.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = options.precondition_resource_version;
  }
  if (options.dry_run) body["dryRun"] = {"All"};
  HttpRequest request;
  request.method = "DELETE";
  request.target = gvr.Path(ns, name);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = body.dump();
  return SendForObject(std::move(request), true);
}

std::unique_ptr<WatchStream> Client::Watch(const GroupVersionResource& gvr, std::string_view ns,
                                           const WatchOptions& options) {
  HttpRequest request;
  request.target = Target(gvr.Path(ns))
                       .AddFlag("watch", true)
                       .Add("resourceVersion", options.resource_version)
                       .AddFlag("allowWatchBookmarks", options.allow_bookmarks)
                       .AddPositive("timeoutSeconds", options.timeout_seconds)
                       .Add("labelSelector", options.label_selector)
                       .Add("fieldSelector", options.field_selector)
                       .str();
  // The transport's deadline must outlast the server's own end of the stream.
  request.timeout =
      std::chrono::seconds(options.timeout_seconds > 0 ? options.timeout_seconds + 30 : 3600);
  AddCommonHeaders(&request);
  limiter_.Wait();
  auto state = WatchStream::NewState();
  auto stream = std::make_unique<WatchStream>(state);
  auto handle = transport_->Stream(
      request, [state](std::string_view chunk) { return WatchStream::OnData(state, chunk); },
      [state](Result<HttpResponse> response) {
        if (!response.ok()) {
          WatchStream::OnDone(state, ApiError::Connection(response.status().message()));
        } else if (!IsSuccess(response->status)) {
          WatchStream::OnDone(state, ApiError::FromResponse(response->status, response->body,
                                                            response->Header("Retry-After")));
        } else {
          WatchStream::OnDone(state, std::nullopt);
        }
      });
  WatchStream::SetHandle(state, std::move(handle));
  return stream;
}

ApiResult<HttpResponse> Client::Raw(std::string method, std::string target, std::string body,
                                    std::string content_type) {
  HttpRequest request;
  const bool safe = method == "GET" || method == "PUT" || method == "DELETE";
  request.method = std::move(method);
  request.target = std::move(target);
  request.body = std::move(body);
  if (!content_type.empty()) request.headers.emplace_back("Content-Type", std::move(content_type));
  return Send(std::move(request), safe);
}

}  // namespace shardwise::kube
