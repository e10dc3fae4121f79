// ApiError: a Kubernetes API failure, rendered as a metav1.Status body.
// Every handler in the simulator reports failures through this type so that
// kubectl sees exactly the codes, reasons and messages a real apiserver sends
// (see /work/shared/kube-api.md §9).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <variant>

namespace shardwise::kubesim {

using json = nlohmann::json;

class ApiError {
 public:
  ApiError() = default;  // OK
  ApiError(int code, std::string reason, std::string message, json details = nullptr)
      : code_(code),
        reason_(std::move(reason)),
        message_(std::move(message)),
        details_(std::move(details)) {}

  bool ok() const { return code_ == 0; }
  int code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }
  const json& details() const { return details_; }

  // The metav1.Status body.
  json ToStatus() const;

  // `resource` is "<plural>" or "<plural>.<group>", as kubectl prints it.
  static ApiError NotFound(const std::string& group, const std::string& plural,
                           const std::string& name);
  static ApiError PathNotFound();
  static ApiError AlreadyExists(const std::string& group, const std::string& plural,
                                const std::string& name);
  static ApiError Conflict(const std::string& group, const std::string& plural,
                           const std::string& name);
  static ApiError BadRequest(std::string message);
  static ApiError Forbidden(std::string message);
  static ApiError MethodNotAllowed();
  static ApiError UnsupportedMediaType(std::string message);
  static ApiError Expired(std::string message);
  static ApiError Unauthorized();
  static ApiError Internal(std::string message);
  // 422 with one cause per bad field; `causes` entries are {reason, message, field}.
  static ApiError Invalid(const std::string& group, const std::string& kind,
                          const std::string& name, const json& causes);

 private:
  int code_ = 0;
  std::string reason_;
  std::string message_;
  json details_;
};

// "<plural>" for the core group, "<plural>.<group>" otherwise.
std::string QualifiedResource(const std::string& group, const std::string& plural);

// A value or an ApiError.
template <typename T>
class ApiResult {
 public:
  ApiResult(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  ApiResult(ApiError error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return std::holds_alternative<T>(v_); }
  const ApiError& error() const { return std::get<ApiError>(v_); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }

 private:
  std::variant<T, ApiError> v_;
};

}  // namespace shardwise::kubesim
