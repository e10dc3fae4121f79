#include "common/plan/plan.h"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <limits>
#include <type_traits>

#include "common/duration.h"
#include "common/http/message.h"

namespace shardwise::plan {

using nlohmann::json;

std::string_view HandoffName(Handoff h) {
  switch (h) {
    case Handoff::kNone:
      return "none";
    case Handoff::kOutgoing:
      return "outgoing";
    case Handoff::kIncoming:
      return "incoming";
  }
  return "none";
}

namespace {

Result<Handoff> ParseHandoff(const std::string& s, const std::string& path) {
  if (s == "none" || s.empty()) return Handoff::kNone;
  if (s == "outgoing") return Handoff::kOutgoing;
  if (s == "incoming") return Handoff::kIncoming;
  return Status::InvalidArgument(path + ".handoff: unknown value \"" + s + "\"");
}

json LabelsToJson(const Labels& l) {
  json j = json::object();
  for (const auto& lab : l) j[lab.name] = lab.value;
  return j;
}

Result<Labels> LabelsFromJson(const json& j, std::string_view what) {
  if (j.is_null()) return Labels();
  if (!j.is_object()) return Status::InvalidArgument(std::string(what) + " must be an object");
  std::vector<Label> v;
  for (const auto& [k, val] : j.items()) {
    if (!val.is_string()) {
      return Status::InvalidArgument(std::string(what) + "." + k + " must be a string");
    }
    v.push_back({k, val.get<std::string>()});
  }
  return Labels::FromUnsorted(std::move(v));
}

// Whether `v` is a JSON number that T holds exactly. nlohmann's own conversion casts floats
// to integers (undefined behaviour when out of range) and wraps negative numbers into
// unsigned types, so integer fields take only integers within T's range.
template <typename T>
bool FitsNumber(const json& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v.is_boolean();
  } else if constexpr (std::is_floating_point_v<T>) {
    return v.is_number();
  } else if (v.is_number_unsigned()) {
    return v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max());
  } else if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    return std::is_signed_v<T> && i >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
           i <= static_cast<int64_t>(std::numeric_limits<T>::max());
  }
  return false;
}

// Typed field access with a path in the error.
template <typename T>
Status Get(const json& j, const char* key, T* out, std::string_view path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::OK();
  if constexpr (std::is_arithmetic_v<T>) {
    if (!FitsNumber<T>(*it)) {
      return Status::InvalidArgument(std::string(path) + "." + key + " has the wrong type");
    }
  }
  try {
    *out = it->get<T>();
  } catch (const json::exception&) {
    return Status::InvalidArgument(std::string(path) + "." + key + " has the wrong type");
  }
  return Status::OK();
}

// The document's "kind", or "" when absent or not a string (json::value would throw).
std::string_view Kind(const json& j) {
  auto it = j.find("kind");
  if (it == j.end() || !it->is_string()) return "";
  return it->get_ref<const std::string&>();
}

Status GetDuration(const json& j, const char* key, std::chrono::milliseconds* out,
                   std::string_view path) {
  std::string s;
  SHARDWISE_RETURN_IF_ERROR(Get(j, key, &s, path));
  if (s.empty()) return Status::OK();
  auto d = ParseDuration(s);
  if (!d.ok()) return d.status().WithContext(std::string(path) + "." + key);
  *out = *d;
  return Status::OK();
}

}  // namespace

std::string TargetIdHex(uint64_t id) { return fmt::format("{:016x}", id); }

Result<uint64_t> ParseTargetId(std::string_view hex) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
  if (hex.empty() || ec != std::errc() || p != hex.data() + hex.size()) {
    return Status::InvalidArgument("bad target id \"" + std::string(hex) + "\"");
  }
  return v;
}

std::string Target::Url() const {
  std::string url = scheme + "://" + address + path;
  char sep = path.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, values] : params) {
    for (const auto& v : values) {
      url += sep;
      sep = '&';
      url += http::PercentEncode(k) + "=" + http::PercentEncode(v);
    }
  }
  return url;
}

json ToJson(const ScrapePlan& p) {
  json targets = json::array();
  for (const auto& t : p.targets) {
    json jt = {{"id", TargetIdHex(t.id)},
               {"job", t.job},
               {"labels", LabelsToJson(t.labels)},
               {"scheme", t.scheme},
               {"address", t.address},
               {"path", t.path},
               {"interval", FormatDuration(t.interval)},
               {"timeout", FormatDuration(t.timeout)},
               {"honorLabels", t.honor_labels},
               {"honorTimestamps", t.honor_timestamps},
               {"handoff", HandoffName(t.handoff)}};
    if (!t.params.empty()) jt["params"] = t.params;
    if (t.cutover_unix_ms) jt["cutoverUnixMs"] = t.cutover_unix_ms;
    if (t.sample_limit) jt["sampleLimit"] = t.sample_limit;
    if (t.label_limit) jt["labelLimit"] = t.label_limit;
    if (t.label_name_length_limit) jt["labelNameLengthLimit"] = t.label_name_length_limit;
    if (t.label_value_length_limit) jt["labelValueLengthLimit"] = t.label_value_length_limit;
    if (t.body_size_limit) jt["bodySizeLimit"] = t.body_size_limit;
    if (!t.metric_relabelings.empty()) jt["metricRelabelings"] = t.metric_relabelings;
    if (t.tls) {
      jt["tls"] = {{"ca", t.tls->ca_pem},
                   {"cert", t.tls->cert_pem},
                   {"key", t.tls->key_pem},
                   {"serverName", t.tls->server_name},
                   {"insecureSkipVerify", t.tls->insecure_skip_verify}};
    }
    if (t.auth) {
      jt["auth"] = {{"bearerToken", t.auth->bearer_token},
                    {"basicAuth",
                     {{"username", t.auth->basic_username}, {"password", t.auth->basic_password}}}};
    }
    targets.push_back(std::move(jt));
  }
  json out = {{"apiVersion", "shardwise.io/v1alpha1"},
              {"kind", "ScrapePlan"},
              {"pool", {{"namespace", p.pool_namespace}, {"name", p.pool}}},
              {"shard", p.shard},
              {"replica", p.replica},
              {"generation", p.generation},
              {"externalLabels", LabelsToJson(p.external_labels)},
              {"targets", std::move(targets)}};
  if (p.remote_write) out["remoteWrite"] = *p.remote_write;
  if (!p.released.empty()) {
    json released = json::array();
    for (uint64_t id : p.released) released.push_back(TargetIdHex(id));
    out["released"] = std::move(released);
  }
  return out;
}

Result<ScrapePlan> PlanFromJson(const json& j) {
  if (!j.is_object() || Kind(j) != "ScrapePlan") {
    return Status::InvalidArgument("not a ScrapePlan document");
  }
  ScrapePlan p;
  if (auto it = j.find("pool"); it != j.end() && it->is_object()) {
    SHARDWISE_RETURN_IF_ERROR(Get(*it, "namespace", &p.pool_namespace, "pool"));
    SHARDWISE_RETURN_IF_ERROR(Get(*it, "name", &p.pool, "pool"));
  }
  SHARDWISE_RETURN_IF_ERROR(Get(j, "shard", &p.shard, "plan"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "replica", &p.replica, "plan"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "generation", &p.generation, "plan"));
  auto ext = LabelsFromJson(j.value("externalLabels", json()), "externalLabels");
  if (!ext.ok()) return ext.status();
  p.external_labels = *ext;
  if (auto rw = j.find("remoteWrite"); rw != j.end() && !rw->is_null()) {
    if (!rw->is_array()) return Status::InvalidArgument("remoteWrite must be an array");
    p.remote_write = *rw;
  }
  const json& targets = j.value("targets", json::array());
  if (!targets.is_array()) return Status::InvalidArgument("targets must be an array");
  for (size_t i = 0; i < targets.size(); ++i) {
    const json& jt = targets[i];
    std::string path = fmt::format("targets[{}]", i);
    if (!jt.is_object()) return Status::InvalidArgument(path + " must be an object");
    Target t;
    std::string id;
    SHARDWISE_RETURN_IF_ERROR(Get(jt, "id", &id, path));
    auto parsed = ParseTargetId(id);
    if (!parsed.ok()) return parsed.status().WithContext(path);
    t.id = *parsed;
    SHARDWISE_RETURN_IF_ERROR(Get(jt, "job", &t.job, path));
    auto labels = LabelsFromJson(jt.value("labels", json()), path + ".labels");
    if (!labels.ok()) return labels.status();
    t.labels = *labels;
    SHARDWISE_RETURN_IF_ERROR(Get(jt, "scheme", &t.scheme, path));
    SHARDWISE_RETURN_IF_ERROR(Get(jt, "address", &t.address, path));
    SHARDWISE_RETURN_IF_ERROR(Get(jt, "path", &t.path, path));
    SHARDWISE_RETURN_IF_ERROR(Get(jt, "params", &t.params, path));
    SHARDWISE_RETURN_IF_ERROR(GetDuration(jt, "interval", &t.interval, path));
    SHARDWISE_RETURN_IF_ERROR(GetDuration(jt, "timeout", &t.timeout, path));
    SHARDWISE_RETURN_IF_ERROR(Get(jt, "honorLabels", &t.honor_labels, path));
    SHARDWISE_RETURN_IF_ERROR(Get(jt, "honorTimestamps", &t.honor_timestamps, path));
    SHARDWISE_RETURN_IF_ERROR(Get(jt, "sampleLimit", &t.sample_limit, path));
    SHARDWISE_RETURN_IF_ERROR(Get(jt, "labelLimit", &t.label_limit, path));
    SHARDWISE_RETURN_IF_ERROR(Get(jt, "labelNameLengthLimit", &t.label_name_length_limit, path));
    SHARDWISE_RETURN_IF_ERROR(Get(jt, "labelValueLengthLimit", &t.label_value_length_limit, path));
    SHARDWISE_RETURN_IF_ERROR(Get(jt, "bodySizeLimit", &t.body_size_limit, path));
    if (auto it = jt.find("metricRelabelings"); it != jt.end() && it->is_array()) {
      t.metric_relabelings = *it;
    }
    if (auto it = jt.find("tls"); it != jt.end() && it->is_object()) {
      TlsConfig tls;
      SHARDWISE_RETURN_IF_ERROR(Get(*it, "ca", &tls.ca_pem, path + ".tls"));
      SHARDWISE_RETURN_IF_ERROR(Get(*it, "cert", &tls.cert_pem, path + ".tls"));
      SHARDWISE_RETURN_IF_ERROR(Get(*it, "key", &tls.key_pem, path + ".tls"));
      SHARDWISE_RETURN_IF_ERROR(Get(*it, "serverName", &tls.server_name, path + ".tls"));
      SHARDWISE_RETURN_IF_ERROR(
          Get(*it, "insecureSkipVerify", &tls.insecure_skip_verify, path + ".tls"));
      t.tls = tls;
    }
    if (auto it = jt.find("auth"); it != jt.end() && it->is_object()) {
      AuthConfig auth;
      SHARDWISE_RETURN_IF_ERROR(Get(*it, "bearerToken", &auth.bearer_token, path + ".auth"));
      if (auto b = it->find("basicAuth"); b != it->end() && b->is_object()) {
        SHARDWISE_RETURN_IF_ERROR(
            Get(*b, "username", &auth.basic_username, path + ".auth.basicAuth"));
        SHARDWISE_RETURN_IF_ERROR(
            Get(*b, "password", &auth.basic_password, path + ".auth.basicAuth"));
      }
      t.auth = auth;
    }
    std::string handoff = "none";
    SHARDWISE_RETURN_IF_ERROR(Get(jt, "handoff", &handoff, path));
    auto mark = ParseHandoff(handoff, path);
    if (!mark.ok()) return mark.status();
    t.handoff = *mark;
    SHARDWISE_RETURN_IF_ERROR(Get(jt, "cutoverUnixMs", &t.cutover_unix_ms, path));
    if (t.address.empty()) return Status::InvalidArgument(path + ".address is required");
    p.targets.push_back(std::move(t));
  }
  if (auto it = j.find("released"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return Status::InvalidArgument("released must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& id = (*it)[i];
      const std::string path = fmt::format("released[{}]", i);
      if (!id.is_string()) return Status::InvalidArgument(path + " must be a string");
      auto parsed = ParseTargetId(id.get_ref<const std::string&>());
      if (!parsed.ok()) return parsed.status().WithContext(path);
      p.released.push_back(*parsed);
    }
    std::sort(p.released.begin(), p.released.end());
    p.released.erase(std::unique(p.released.begin(), p.released.end()), p.released.end());
  }
  return p;
}

json ToJson(const LoadReport& r) {
  json per = json::array();
  for (const auto& t : r.per_target) {
    json jt = {{"id", TargetIdHex(t.id)},
               {"series", t.series},
               {"lastSuccessUnixMs", t.last_success_unix_ms}};
    if (!t.last_error.empty()) jt["lastError"] = t.last_error;
    if (t.handoff != Handoff::kNone) jt["handoff"] = HandoffName(t.handoff);
    if (t.cutover_unix_ms) jt["cutoverUnixMs"] = t.cutover_unix_ms;
    per.push_back(std::move(jt));
  }
  json out = {{"apiVersion", "shardwise.io/v1alpha1"},
              {"kind", "LoadReport"},
              {"pod", r.pod},
              {"shard", r.shard},
              {"replica", r.replica},
              {"planGeneration", r.plan_generation},
              {"targets", r.targets},
              {"activeSeries", r.active_series},
              {"samplesPerSecond", r.samples_per_second},
              {"scrapeErrors", r.scrape_errors},
              {"remoteWriteLagSeconds", r.remote_write_lag_seconds},
              {"saturation", r.saturation},
              {"skippedTicks", r.skipped_ticks},
              {"memoryBytes", r.memory_bytes},
              {"memoryLimitBytes", r.memory_limit_bytes},
              {"perTarget", std::move(per)}};
  if (!r.plan_error.empty()) {
    out["planError"] = r.plan_error;
    out["failedPlanGeneration"] = r.failed_plan_generation;
  }
  return out;
}

Result<LoadReport> ReportFromJson(const json& j) {
  if (!j.is_object() || Kind(j) != "LoadReport") {
    return Status::InvalidArgument("not a LoadReport document");
  }
  LoadReport r;
  SHARDWISE_RETURN_IF_ERROR(Get(j, "pod", &r.pod, "report"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "shard", &r.shard, "report"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "replica", &r.replica, "report"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "planGeneration", &r.plan_generation, "report"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "targets", &r.targets, "report"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "activeSeries", &r.active_series, "report"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "samplesPerSecond", &r.samples_per_second, "report"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "scrapeErrors", &r.scrape_errors, "report"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "remoteWriteLagSeconds", &r.remote_write_lag_seconds, "report"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "saturation", &r.saturation, "report"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "planError", &r.plan_error, "report"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "failedPlanGeneration", &r.failed_plan_generation, "report"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "skippedTicks", &r.skipped_ticks, "report"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "memoryBytes", &r.memory_bytes, "report"));
  SHARDWISE_RETURN_IF_ERROR(Get(j, "memoryLimitBytes", &r.memory_limit_bytes, "report"));
  if (r.pod.empty()) return Status::InvalidArgument("report.pod is required");
  const json& per = j.value("perTarget", json::array());
  if (!per.is_array()) return Status::InvalidArgument("report.perTarget must be an array");
  for (size_t i = 0; i < per.size(); ++i) {
    std::string path = fmt::format("report.perTarget[{}]", i);
    TargetLoad t;
    std::string id;
    SHARDWISE_RETURN_IF_ERROR(Get(per[i], "id", &id, path));
    auto parsed = ParseTargetId(id);
    if (!parsed.ok()) return parsed.status().WithContext(path);
    t.id = *parsed;
    SHARDWISE_RETURN_IF_ERROR(Get(per[i], "series", &t.series, path));
    SHARDWISE_RETURN_IF_ERROR(Get(per[i], "lastSuccessUnixMs", &t.last_success_unix_ms, path));
    SHARDWISE_RETURN_IF_ERROR(Get(per[i], "lastError", &t.last_error, path));
    std::string handoff;
    SHARDWISE_RETURN_IF_ERROR(Get(per[i], "handoff", &handoff, path));
    auto mark = ParseHandoff(handoff, path);
    if (!mark.ok()) return mark.status();
    t.handoff = *mark;
    SHARDWISE_RETURN_IF_ERROR(Get(per[i], "cutoverUnixMs", &t.cutover_unix_ms, path));
    r.per_target.push_back(std::move(t));
  }
  return r;
}

json ToHttpSd(const ScrapePlan& p) {
  json groups = json::array();
  for (const auto& t : p.targets) {
    json labels = LabelsToJson(t.labels);
    labels["__scheme__"] = t.scheme;
    labels["__metrics_path__"] = t.path;
    labels["__scrape_interval__"] = FormatDuration(t.interval);
    labels["__scrape_timeout__"] = FormatDuration(t.timeout);
    for (const auto& [k, values] : t.params) {
      if (!values.empty()) labels["__param_" + k] = values.front();
    }
    groups.push_back({{"targets", json::array({t.address})}, {"labels", std::move(labels)}});
  }
  return groups;
}

}  // namespace shardwise::plan
