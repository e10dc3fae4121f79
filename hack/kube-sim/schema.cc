#include "hack/kube-sim/schema.h"

#include <re2/re2.h>

#include <cmath>

namespace shardwise::kubesim {
namespace {

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::string:
      return "string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::array:
      return "array";
    default:
      return "object";
  }
}

// How a value is shown after "Invalid value: ".
std::string Shown(const json& v) {
  if (v.is_string()) return v.dump();
  if (v.is_number() || v.is_boolean()) return v.dump();
  if (v.is_null()) return "\"null\"";
  return "\"" + TypeName(v) + "\"";
}

std::string Num(const json& v) {
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d == std::floor(d)) return std::to_string(static_cast<long long>(d));
  }
  return v.dump();
}

bool TypeMatches(const std::string& type, const json& v) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    if (v.is_number_integer() || v.is_number_unsigned()) return true;
    return v.is_number_float() && v.get<double>() == std::floor(v.get<double>());
  }
  return true;
}

class Walker {
 public:
  explicit Walker(SchemaOutcome& out) : out_(out) {}

  void PruneAndDefault(const json& schema, json& v, const std::string& path, bool root) {
    if (!schema.is_object()) return;
    if (v.is_object()) {
      const json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
      const json& addl = schema.value("additionalProperties", json());
      bool preserve = schema.value("x-kubernetes-preserve-unknown-fields", false);
      if (props && props->is_object()) {
        for (auto& [k, sub] : props->items()) {
          if (!v.contains(k) && sub.is_object() && sub.contains("default")) v[k] = sub["default"];
        }
      }
      std::vector<std::string> drop;
      for (auto& [k, child] : v.items()) {
        if (root && (k == "apiVersion" || k == "kind" || k == "metadata")) continue;
        if (props && props->contains(k)) {
          PruneAndDefault((*props)[k], child, Join(path, k), false);
        } else if (addl.is_object()) {
          PruneAndDefault(addl, child, Join(path, k), false);
        } else if (!preserve && !(addl.is_boolean() && addl.get<bool>())) {
          drop.push_back(k);
        }
      }
      for (const auto& k : drop) {
        out_.pruned.push_back(Join(path, k));
        v.erase(k);
      }
    } else if (v.is_array() && schema.contains("items")) {
      for (size_t i = 0; i < v.size(); ++i)
        PruneAndDefault(schema["items"], v[i], path + "[" + std::to_string(i) + "]", false);
    }
  }

  void Validate(const json& schema, const json& v, const std::string& path, bool root) {
    if (!schema.is_object()) return;
    if (v.is_null() && schema.value("nullable", false)) return;
    if (schema.value("x-kubernetes-int-or-string", false)) {
      if (!(v.is_string() || TypeMatches("integer", v)))
        Cause("FieldValueTypeInvalid", path,
              "Invalid value: " + Shown(v) + ": " + path +
                  " in body must be of type integer,string: \"" + TypeName(v) + "\"");
      return;
    }
    std::string type = schema.value("type", "");
    if (!type.empty() && !TypeMatches(type, v)) {
      Cause("FieldValueTypeInvalid", path,
            "Invalid value: \"" + TypeName(v) + "\": " + path + " in body must be of type " + type +
                ": \"" + TypeName(v) + "\"");
      return;
    }
    if (schema.contains("enum") && schema["enum"].is_array()) {
      bool found = false;
      std::string supported;
      for (const auto& e : schema["enum"]) {
        if (e == v) found = true;
        supported += (supported.empty() ? "" : ", ") + e.dump();
      }
      if (!found) {
        Cause("FieldValueNotSupported", path,
              "Unsupported value: " + v.dump() + ": supported values: " + supported);
      }
    }
    if (v.is_number()) {
      double d = v.get<double>();
      if (schema.contains("minimum")) {
        double m = schema["minimum"].get<double>();
        bool excl = schema.value("exclusiveMinimum", false);
        if (excl ? d <= m : d < m)
          Cause("FieldValueInvalid", path,
                "Invalid value: " + Num(v) + ": " + path + " in body should be greater than " +
                    (excl ? "" : "or equal to ") + Num(schema["minimum"]));
      }
      if (schema.contains("maximum")) {
        double m = schema["maximum"].get<double>();
        bool excl = schema.value("exclusiveMaximum", false);
        if (excl ? d >= m : d > m)
          Cause("FieldValueInvalid", path,
                "Invalid value: " + Num(v) + ": " + path + " in body should be less than " +
                    (excl ? "" : "or equal to ") + Num(schema["maximum"]));
      }
    }
    if (v.is_string()) {
      const std::string& s = v.get_ref<const std::string&>();
      size_t chars = 0;
      for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
      if (schema.contains("minLength") && chars < schema["minLength"].get<size_t>())
        Cause("FieldValueInvalid", path,
              "Invalid value: " + v.dump() + ": " + path + " in body should be at least " +
                  schema["minLength"].dump() + " chars long");
      if (schema.contains("maxLength") && chars > schema["maxLength"].get<size_t>())
        Cause("FieldValueTooLong", path,
              "Too long: may not be longer than " + schema["maxLength"].dump());
      if (schema.contains("pattern") && schema["pattern"].is_string()) {
        RE2 re(schema["pattern"].get<std::string>(), RE2::Quiet);
        if (re.ok() && !RE2::PartialMatch(s, re))
          Cause("FieldValueInvalid", path,
                "Invalid value: " + v.dump() + ": " + path + " in body should match '" +
                    schema["pattern"].get<std::string>() + "'");
      }
    }
    if (v.is_array()) {
      if (schema.contains("minItems") && v.size() < schema["minItems"].get<size_t>())
        Cause("FieldValueInvalid", path,
              "Invalid value: " + std::to_string(v.size()) + ": " + path +
                  " in body should have at least " + schema["minItems"].dump() + " items");
      if (schema.contains("maxItems") && v.size() > schema["maxItems"].get<size_t>())
        Cause("FieldValueTooMany", path,
              "Too many: " + std::to_string(v.size()) + ": must have at most " +
                  schema["maxItems"].dump() + " items");
      if (schema.contains("items"))
        for (size_t i = 0; i < v.size(); ++i)
          Validate(schema["items"], v[i], path + "[" + std::to_string(i) + "]", false);
    }
    if (v.is_object()) {
      if (schema.contains("required") && schema["required"].is_array()) {
        for (const auto& r : schema["required"]) {
          if (!r.is_string()) continue;
          std::string key = r.get<std::string>();
          if (root && key == "metadata") continue;
          if (!v.contains(key)) Cause("FieldValueRequired", Join(path, key), "Required value");
        }
      }
      const json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
      const json& addl = schema.value("additionalProperties", json());
      for (auto& [k, child] : v.items()) {
        if (root && (k == "apiVersion" || k == "kind" || k == "metadata")) continue;
        if (props && props->contains(k)) {
          Validate((*props)[k], child, Join(path, k), false);
        } else if (addl.is_object()) {
          Validate(addl, child, Join(path, k), false);
        }
      }
    }
  }

 private:
  void Cause(const char* reason, const std::string& field, std::string message) {
    out_.causes.push_back({{"reason", reason}, {"message", std::move(message)}, {"field", field}});
  }
  SchemaOutcome& out_;
};

}  // namespace

SchemaOutcome ApplySchema(const json& schema, json& object) {
  SchemaOutcome out;
  if (!schema.is_object()) return out;
  Walker w(out);
  w.PruneAndDefault(schema, object, "", true);
  w.Validate(schema, object, "", true);
  return out;
}

}  // namespace shardwise::kubesim
