// ApiError: a failed Kubernetes API call, typed. Every error body the API server sends is a
// metav1.Status ({"kind":"Status","reason":"NotFound","code":404,"message":...,
// "details":{"causes":[...]}}); ApiError keeps its reason, code, message and causes so that
// callers branch on IsNotFound()/IsConflict()/IsGone() instead of parsing text. Transport
// failures (no connection, timeout) are ApiErrors too, with reason kConnection and code 0.
//
// ApiResult<T> is a T or an ApiError. status() converts to the project-wide Status (with a
// code mapping) for callers that only propagate.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"

namespace shardwise::kube {

enum class Reason {
  kUnknown,  // a non-2xx answer without a recognised reason
  kBadRequest,
  kUnauthorized,
  kForbidden,
  kNotFound,
  kMethodNotAllowed,
  kAlreadyExists,
  kConflict,
  kGone,  // 410: "Gone", or "Expired" (too old resource version)
  kInvalid,
  kUnsupportedMediaType,
  kTooManyRequests,
  kInternalError,
  kServiceUnavailable,
  kTimeout,     // the server gave up (504 / reason Timeout)
  kConnection,  // no answer: connection refused or reset, client deadline, TLS failure
  kDecode,      // the answer was not what the API promises (bad JSON)
};

std::string_view ReasonName(Reason reason);

// One entry of details.causes, e.g. {reason: FieldValueRequired, field: spec.image}.
struct StatusCause {
  std::string reason;
  std::string message;
  std::string field;
  bool operator==(const StatusCause&) const = default;
};

class ApiError {
 public:
  ApiError() = default;
  ApiError(Reason reason, int code, std::string message)
      : reason_(reason), code_(code), message_(std::move(message)) {}

  // Builds the error for an HTTP answer with a non-2xx status from its body (a
  // metav1.Status when the server is Kubernetes, anything otherwise) and the
  // Retry-After header value ("" when absent).
  static ApiError FromResponse(int http_status, std::string_view body,
                               std::string_view retry_after_header);
  static ApiError Connection(std::string message) {
    return ApiError(Reason::kConnection, 0, std::move(message));
  }
  static ApiError Decode(std::string message) {
    return ApiError(Reason::kDecode, 0, std::move(message));
  }

  Reason reason() const { return reason_; }
  int code() const { return code_; }  // HTTP status; 0 when there was no answer
  const std::string& message() const { return message_; }
  const std::vector<StatusCause>& causes() const { return causes_; }
  // From Retry-After or details.retryAfterSeconds.
  std::optional<std::chrono::seconds> retry_after() const { return retry_after_; }

  bool IsNotFound() const { return reason_ == Reason::kNotFound; }
  bool IsAlreadyExists() const { return reason_ == Reason::kAlreadyExists; }
  bool IsConflict() const { return reason_ == Reason::kConflict; }
  bool IsInvalid() const { return reason_ == Reason::kInvalid; }
  bool IsGone() const { return reason_ == Reason::kGone; }
  bool IsForbidden() const { return reason_ == Reason::kForbidden; }
  bool IsUnauthorized() const { return reason_ == Reason::kUnauthorized; }
  bool IsTooManyRequests() const { return reason_ == Reason::kTooManyRequests; }
  bool IsServerError() const { return code_ >= 500; }
  bool IsConnection() const { return reason_ == Reason::kConnection; }
  // Worth retrying unchanged: 429, 5xx, or no answer at all.
  bool IsRetriable() const { return IsTooManyRequests() || IsServerError() || IsConnection(); }

  // "<Reason> (<code>): <message>[; <field>: <cause message>...]" with the Status code
  // NotFound→kNotFound, AlreadyExists→kAlreadyExists, Conflict→kAborted,
  // Invalid/BadRequest→kInvalidArgument, TooManyRequests→kResourceExhausted,
  // Gone/Forbidden/Unauthorized→kFailedPrecondition, Timeout→kDeadlineExceeded,
  // 5xx/Connection→kUnavailable, anything else→kInternal.
  Status ToStatus() const;
  std::string ToString() const;

  void set_causes(std::vector<StatusCause> causes) { causes_ = std::move(causes); }
  void set_retry_after(std::chrono::seconds s) { retry_after_ = s; }

 private:
  Reason reason_ = Reason::kUnknown;
  int code_ = 0;
  std::string message_;
  std::vector<StatusCause> causes_;
  std::optional<std::chrono::seconds> retry_after_;
};

// A T or an ApiError; never throws.
template <typename T>
class ApiResult {
 public:
  ApiResult(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  ApiResult(ApiError error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const ApiError& error() const { return std::get<ApiError>(v_); }
  Status status() const { return ok() ? Status::OK() : error().ToStatus(); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, ApiError> v_;
};

// For calls whose success carries nothing.
struct Done {};
using ApiStatus = ApiResult<Done>;

}  // namespace shardwise::kube
