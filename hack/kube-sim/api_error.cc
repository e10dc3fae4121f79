#include "hack/kube-sim/api_error.h"

namespace shardwise::kubesim {

std::string QualifiedResource(const std::string& group, const std::string& plural) {
  return group.empty() ? plural : plural + "." + group;
}

json ApiError::ToStatus() const {
  json s = {{"kind", "Status"},    {"apiVersion", "v1"},  {"metadata", json::object()},
            {"status", "Failure"}, {"message", message_}, {"reason", reason_},
            {"code", code_}};
  if (!details_.is_null()) s["details"] = details_;
  return s;
}

static json NameDetails(const std::string& group, const std::string& plural,
                        const std::string& name) {
  json d = {{"name", name}, {"kind", plural}};
  if (!group.empty()) d["group"] = group;
  return d;
}

ApiError ApiError::NotFound(const std::string& group, const std::string& plural,
                            const std::string& name) {
  return {404, "NotFound", QualifiedResource(group, plural) + " \"" + name + "\" not found",
          NameDetails(group, plural, name)};
}

ApiError ApiError::PathNotFound() {
  return {404, "NotFound", "the server could not find the requested resource", json::object()};
}

ApiError ApiError::AlreadyExists(const std::string& group, const std::string& plural,
                                 const std::string& name) {
  return {409, "AlreadyExists",
          QualifiedResource(group, plural) + " \"" + name + "\" already exists",
          NameDetails(group, plural, name)};
}

ApiError ApiError::Conflict(const std::string& group, const std::string& plural,
                            const std::string& name) {
  return {409, "Conflict",
          "Operation cannot be fulfilled on " + QualifiedResource(group, plural) + " \"" + name +
              "\": the object has been modified; please apply your changes to the latest "
              "version and try again",
          NameDetails(group, plural, name)};
}

ApiError ApiError::BadRequest(std::string message) {
  return {400, "BadRequest", std::move(message)};
}

ApiError ApiError::Forbidden(std::string message) { return {403, "Forbidden", std::move(message)}; }

ApiError ApiError::MethodNotAllowed() {
  return {405, "MethodNotAllowed",
          "the server does not allow this method on the requested resource"};
}

ApiError ApiError::UnsupportedMediaType(std::string message) {
  return {415, "UnsupportedMediaType", std::move(message)};
}

ApiError ApiError::Expired(std::string message) { return {410, "Expired", std::move(message)}; }

ApiError ApiError::Unauthorized() { return {401, "Unauthorized", "Unauthorized"}; }

ApiError ApiError::Internal(std::string message) {
  return {500, "InternalError", std::move(message)};
}

ApiError ApiError::Invalid(const std::string& group, const std::string& kind,
                           const std::string& name, const json& causes) {
  std::string qualified_kind = group.empty() ? kind : kind + "." + group;
  std::string joined;
  for (const auto& c : causes) {
    if (!joined.empty()) joined += ", ";
    joined += c.value("field", "") + ": " + c.value("message", "");
  }
  if (causes.size() > 1) joined = "[" + joined + "]";
  json d = {{"name", name}, {"kind", kind}, {"causes", causes}};
  if (!group.empty()) d["group"] = group;
  return {422, "Invalid", qualified_kind + " \"" + name + "\" is invalid: " + joined, d};
}

}  // namespace shardwise::kubesim
