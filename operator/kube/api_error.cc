#include "operator/kube/api_error.h"

#include <charconv>

#include <nlohmann/json.hpp>

namespace shardwise::kube {
namespace {

struct ReasonEntry {
  Reason reason;
  std::string_view name;
};

constexpr ReasonEntry kReasons[] = {
    {Reason::kUnknown, "Unknown"},
    {Reason::kBadRequest, "BadRequest"},
    {Reason::kUnauthorized, "Unauthorized"},
    {Reason::kForbidden, "Forbidden"},
    {Reason::kNotFound, "NotFound"},
    {Reason::kMethodNotAllowed, "MethodNotAllowed"},
    {Reason::kAlreadyExists, "AlreadyExists"},
    {Reason::kConflict, "Conflict"},
    {Reason::kGone, "Gone"},
    {Reason::kInvalid, "Invalid"},
    {Reason::kUnsupportedMediaType, "UnsupportedMediaType"},
    {Reason::kTooManyRequests, "TooManyRequests"},
    {Reason::kInternalError, "InternalError"},
    {Reason::kServiceUnavailable, "ServiceUnavailable"},
    {Reason::kTimeout, "Timeout"},
    {Reason::kConnection, "Connection"},
    {Reason::kDecode, "Decode"},
};

std::optional<Reason> ReasonFromName(std::string_view name) {
  if (name == "Expired") return Reason::kGone;  // same meaning to a client: relist
  if (name == "ServerTimeout") return Reason::kTimeout;
  for (const auto& entry : kReasons) {
    if (entry.name == name && entry.reason != Reason::kUnknown) return entry.reason;
  }
  return std::nullopt;
}

Reason ReasonFromCode(int code) {
  switch (code) {
    case 400:
      return Reason::kBadRequest;
    case 401:
      return Reason::kUnauthorized;
    case 403:
      return Reason::kForbidden;
    case 404:
      return Reason::kNotFound;
    case 405:
      return Reason::kMethodNotAllowed;
    case 409:
      return Reason::kConflict;
    case 410:
      return Reason::kGone;
    case 415:
      return Reason::kUnsupportedMediaType;
    case 422:
      return Reason::kInvalid;
    case 429:
      return Reason::kTooManyRequests;
    case 503:
      return Reason::kServiceUnavailable;
    case 504:
      return Reason::kTimeout;
    default:
      return code >= 500 ? Reason::kInternalError : Reason::kUnknown;
  }
}

std::optional<std::chrono::seconds> ParseSeconds(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  long value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || value < 0) {
    return std::nullopt;  // HTTP-dates are not used by the API server
  }
  return std::chrono::seconds(value);
}

}  // namespace

std::string_view ReasonName(Reason reason) {
  for (const auto& entry : kReasons) {
    if (entry.reason == reason) return entry.name;
  }
  return "Unknown";
}

ApiError ApiError::FromResponse(int http_status, std::string_view body,
                                std::string_view retry_after_header) {
  ApiError error(ReasonFromCode(http_status), http_status, "");
  auto status = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (status.is_object() && status.value("kind", "") == "Status") {
    if (auto reason = ReasonFromName(status.value("reason", ""))) error.reason_ = *reason;
    error.message_ = status.value("message", "");
    const auto details = status.find("details");
    if (details != status.end() && details->is_object()) {
      const auto causes = details->find("causes");
      if (causes != details->end() && causes->is_array()) {
        for (const auto& cause : *causes) {
          if (!cause.is_object()) continue;
          error.causes_.push_back(
              {cause.value("reason", ""), cause.value("message", ""), cause.value("field", "")});
        }
      }
      const auto retry = details->find("retryAfterSeconds");
      if (retry != details->end() && retry->is_number_integer() && retry->get<long>() > 0) {
        error.retry_after_ = std::chrono::seconds(retry->get<long>());
      }
    }
  }
  if (error.message_.empty()) {
    // Not a Status (a proxy, a load balancer): keep the start of the body for the log.
    constexpr size_t kMaxBody = 256;
    error.message_ = std::string(body.substr(0, kMaxBody));
    if (error.message_.empty()) error.message_ = "HTTP " + std::to_string(http_status);
  }
  if (auto header = ParseSeconds(retry_after_header)) error.retry_after_ = header;
  return error;
}

std::string ApiError::ToString() const {
  std::string out(ReasonName(reason_));
  if (code_ != 0) out += " (" + std::to_string(code_) + ")";
  out += ": " + message_;
  for (const auto& cause : causes_) {
    out += "; ";
    if (!cause.field.empty()) out += cause.field + ": ";
    out += cause.message.empty() ? cause.reason : cause.message;
  }
  return out;
}

Status ApiError::ToStatus() const {
  std::string text = ToString();
  switch (reason_) {
    case Reason::kNotFound:
      return Status::NotFound(std::move(text));
    case Reason::kAlreadyExists:
      return Status::AlreadyExists(std::move(text));
    case Reason::kConflict:
      return Status::Aborted(std::move(text));
    case Reason::kInvalid:
    case Reason::kBadRequest:
      return Status::InvalidArgument(std::move(text));
    case Reason::kTooManyRequests:
      return Status::ResourceExhausted(std::move(text));
    case Reason::kGone:
    case Reason::kForbidden:
    case Reason::kUnauthorized:
      return Status::FailedPrecondition(std::move(text));
    case Reason::kTimeout:
      return Status::DeadlineExceeded(std::move(text));
    case Reason::kConnection:
      return Status::Unavailable(std::move(text));
    default:
      if (code_ >= 500) return Status::Unavailable(std::move(text));
      return Status::Internal(std::move(text));
  }
}

}  // namespace shardwise::kube
