#include "scraper/scrape/target.h"

#include <xxhash.h>

#include <algorithm>

#include "common/duration.h"
#include "common/http/message.h"

namespace shardwise::scrape {
namespace {

constexpr std::string_view kParamPrefix = "__param_";
constexpr std::string_view kMetaPrefix = "__meta_";

// Adds the scheme's default port unless the address has one (also "[v6]" forms).
std::string WithDefaultPort(const std::string& address, const std::string& scheme) {
  size_t bracket = address.rfind(']');
  size_t colon = address.rfind(':');
  bool has_port = colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  if (has_port) return address;
  if (bracket == std::string::npos && colon != std::string::npos) return address;  // bare v6
  return address + (scheme == "https" ? ":443" : ":80");
}

}  // namespace

namespace {

// Each field is prefixed by its 8-byte little-endian length, so ("ab","c") != ("a","bc").
void AppendField(std::string& out, std::string_view field) {
  const uint64_t size = field.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(size >> (8 * i)));
  out.append(field);
}

}  // namespace

uint64_t TargetHash(std::string_view job, std::string_view address, std::string_view path,
                    const std::vector<std::pair<std::string, std::string>>& params) {
  std::string key;
  key.reserve(64 + job.size() + address.size() + path.size());
  AppendField(key, "target/v1");
  AppendField(key, job);
  AppendField(key, address);
  AppendField(key, path);
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(params.size());
  for (const auto& p : params) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return *a < *b; });
  for (const auto* p : sorted) {
    AppendField(key, p->first);
    AppendField(key, p->second);
  }
  return XXH3_64bits(key.data(), key.size());
}

std::string Target::Url() const {
  std::string url = scheme + "://" + address + metrics_path;
  char sep = metrics_path.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [name, value] : params) {
    url += sep;
    url += http::PercentEncode(name);
    url += '=';
    url += http::PercentEncode(value);
    sep = '&';
  }
  return url;
}

Result<std::optional<Target>> BuildTarget(const ScrapeConfig& config,
                                          const relabel::Relabeler& relabeler,
                                          const Labels& target_labels, const Labels& group_labels,
                                          Labels* discovered) {
  LabelsBuilder b(target_labels);
  for (const auto& l : group_labels) {
    if (b.Get(l.name).empty()) b.Set(l.name, l.value);
  }
  auto set_default = [&](std::string_view name, std::string_view value) {
    if (b.Get(name).empty()) b.Set(name, value);
  };
  set_default("job", config.job_name);
  set_default("__scrape_interval__", FormatDuration(config.scrape_interval));
  set_default("__scrape_timeout__", FormatDuration(config.scrape_timeout));
  set_default("__metrics_path__", config.metrics_path);
  set_default("__scheme__", config.scheme);
  for (const auto& [name, values] : config.params) {
    if (!values.empty()) b.Set(std::string(kParamPrefix) + name, values.front());
  }
  Labels pre = b.Build();
  if (discovered != nullptr) *discovered = pre;
  if (!relabeler.Process(b)) return std::optional<Target>();

  Target t;
  t.job = config.job_name;
  t.discovered_labels = std::move(pre);
  t.scheme = std::string(b.Get("__scheme__"));
  t.metrics_path = std::string(b.Get("__metrics_path__"));
  std::string address(b.Get("__address__"));
  if (address.empty()) return Status::InvalidArgument("no address");
  if (address.find('/') != std::string::npos) {
    return Status::InvalidArgument("\"" + address + "\" is not a valid hostname");
  }
  if (t.scheme != "http" && t.scheme != "https") {
    return Status::InvalidArgument("invalid scheme \"" + t.scheme + "\"");
  }
  t.address = WithDefaultPort(address, t.scheme);
  if (t.address != address) b.Set("__address__", t.address);

  Result<std::chrono::milliseconds> interval = ParseDuration(b.Get("__scrape_interval__"));
  if (!interval.ok()) return interval.status().WithContext("error parsing scrape interval");
  Result<std::chrono::milliseconds> timeout = ParseDuration(b.Get("__scrape_timeout__"));
  if (!timeout.ok()) return timeout.status().WithContext("error parsing scrape timeout");
  if (interval->count() == 0) return Status::InvalidArgument("scrape interval cannot be 0");
  if (timeout->count() == 0) return Status::InvalidArgument("scrape timeout cannot be 0");
  if (*timeout > *interval) {
    return Status::InvalidArgument("scrape timeout cannot be greater than scrape interval");
  }
  t.interval = *interval;
  t.timeout = *timeout;

  // Params: the configured ones, with the first value of each overridden by __param_*.
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [name, values] : config.params) {
    for (const auto& v : values) params.emplace_back(name, v);
  }
  std::vector<Label> public_labels;
  Labels final_labels = b.Build();
  for (const auto& l : final_labels) {
    std::string_view name = l.name;
    if (name.starts_with(kParamPrefix)) {
      std::string param(name.substr(kParamPrefix.size()));
      bool replaced = false;
      for (auto& [pn, pv] : params) {
        if (pn == param) {
          pv = l.value;
          replaced = true;
          break;
        }
      }
      if (!replaced) params.emplace_back(param, l.value);
    }
    if (name.starts_with(kMetaPrefix) || name.starts_with("__")) continue;
    public_labels.push_back(l);
  }
  t.params = std::move(params);
  t.labels = Labels::FromSorted(std::move(public_labels));
  if (t.labels.Get("instance").empty()) {
    LabelsBuilder lb(t.labels);
    lb.Set("instance", t.address);
    t.labels = lb.Build();
  }
  t.hash = TargetHash(t.job, t.address, t.metrics_path, t.params);
  return std::optional<Target>(std::move(t));
}

}  // namespace shardwise::scrape
