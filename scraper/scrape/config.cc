#include "scraper/scrape/config.h"

#include <xxhash.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/relabel/parse.h"
#include "common/relabel/relabeler.h"
#include "scraper/scrape/size.h"

namespace shardwise::scrape {
namespace {

Status Err(const std::string& path, std::string_view msg) {
  return Status::InvalidArgument(path + ": " + std::string(msg));
}

Result<std::string> String(const YAML::Node& n, const std::string& path) {
  if (n.IsNull()) return std::string();
  if (!n.IsScalar()) return Err(path, "expected a string");
  return n.Scalar();
}

Result<bool> Bool(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) return Err(path, "expected true or false");
  const std::string& s = n.Scalar();
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return Err(path, "expected true or false, got \"" + s + "\"");
}

Result<uint64_t> Uint(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar() || n.Scalar().empty() ||
      !std::all_of(n.Scalar().begin(), n.Scalar().end(), ::isdigit)) {
    return Err(path, "expected a non-negative integer");
  }
  return std::stoull(n.Scalar());
}

Result<std::chrono::milliseconds> Duration(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) return Err(path, "expected a duration");
  Result<std::chrono::milliseconds> d = ParseDuration(n.Scalar());
  if (!d.ok()) return d.status().WithContext(path);
  return d;
}

Result<std::vector<std::string>> StringList(const YAML::Node& n, const std::string& path) {
  std::vector<std::string> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) return Err(path, "expected a list of strings");
  for (size_t i = 0; i < n.size(); ++i) {
    Result<std::string> s = String(n[i], path + "[" + std::to_string(i) + "]");
    if (!s.ok()) return s.status();
    out.push_back(std::move(s).value());
  }
  return out;
}

Result<Labels> LabelMap(const YAML::Node& n, const std::string& path) {
  if (n.IsNull()) return Labels();
  if (!n.IsMap()) return Err(path, "expected a map of label names to values");
  std::vector<Label> labels;
  for (const auto& kv : n) {
    std::string name = kv.first.Scalar();
    if (!IsValidLabelName(name)) return Err(path, "invalid label name \"" + name + "\"");
    Result<std::string> value = String(kv.second, path + "." + name);
    if (!value.ok()) return value.status();
    labels.push_back({std::move(name), std::move(value).value()});
  }
  return Labels::FromUnsorted(std::move(labels));
}

// Calls fn(key, value, path) for each field of a map, rejecting unknown ones.
// Keys for which `parsed_elsewhere` is true are accepted and skipped.
template <typename Fn>
Status ForEachField(const YAML::Node& n, const std::string& path,
                    std::initializer_list<std::string_view> known, Fn&& fn,
                    bool (*parsed_elsewhere)(std::string_view) = nullptr) {
  if (n.IsNull()) return Status::OK();
  if (!n.IsMap()) return Err(path, "expected a map");
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar();
    if (parsed_elsewhere != nullptr && parsed_elsewhere(key)) continue;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Err(path + "." + key, "unknown field");
    }
    SHARDWISE_RETURN_IF_ERROR(fn(key, kv.second, path + "." + key));
  }
  return Status::OK();
}

// Prometheus's top-level sections. The scraper reads global, scrape_configs and (in
// remotewrite/config.h) remote_write; the others belong to features it does not have and
// are accepted so that a Prometheus configuration file loads unchanged.
bool IsTopLevelKey(std::string_view key) {
  for (std::string_view known : {"global", "scrape_configs", "remote_write", "remote_read",
                                 "rule_files", "alerting", "storage", "tracing"}) {
    if (key == known) return true;
  }
  return false;
}

#define ASSIGN_OR_RETURN(lhs, expr)   \
  do {                                \
    auto _r = (expr);                 \
    if (!_r.ok()) return _r.status(); \
    lhs = std::move(_r).value();      \
  } while (0)

Result<GlobalConfig> ParseGlobal(const YAML::Node& n) {
  GlobalConfig g;
  bool timeout_set = false;
  Status st = ForEachField(
      n, "global",
      {"scrape_interval", "scrape_timeout", "external_labels", "evaluation_interval",
       "query_log_file"},
      [&](const std::string& key, const YAML::Node& v, const std::string& path) -> Status {
        if (key == "scrape_interval") ASSIGN_OR_RETURN(g.scrape_interval, Duration(v, path));
        if (key == "scrape_timeout") {
          ASSIGN_OR_RETURN(g.scrape_timeout, Duration(v, path));
          // As in Prometheus, a zero global timeout means "unset": the default applies.
          timeout_set = g.scrape_timeout.count() != 0;
          if (!timeout_set) g.scrape_timeout = GlobalConfig{}.scrape_timeout;
        }
        if (key == "external_labels") ASSIGN_OR_RETURN(g.external_labels, LabelMap(v, path));
        return Status::OK();
      });
  if (!st.ok()) return st;
  if (g.scrape_interval.count() <= 0) return Err("global.scrape_interval", "must be positive");
  if (!timeout_set && g.scrape_timeout > g.scrape_interval) g.scrape_timeout = g.scrape_interval;
  if (g.scrape_timeout > g.scrape_interval) {
    return Err("global.scrape_timeout", "greater than the scrape interval");
  }
  return g;
}

Result<std::vector<relabel::RelabelConfig>> Relabels(const YAML::Node& n, const std::string& path) {
  Result<std::vector<relabel::RelabelConfig>> configs(Status::Internal("unset"));
  try {
    SHARDWISE_RETURN_IF_ERROR(relabel::CheckYamlFields(n, path));
    configs = relabel::FromYaml(n);
  } catch (const YAML::Exception& e) {
    return Err(path, e.what());
  }
  if (!configs.ok()) return configs.status().WithContext(path);
  Result<relabel::Relabeler> compiled = relabel::Relabeler::Compile(configs.value());
  if (!compiled.ok()) return compiled.status().WithContext(path);
  return configs;
}

Result<ScrapeConfig> ParseScrapeConfig(const YAML::Node& n, const std::string& path,
                                       const GlobalConfig& global) {
  ScrapeConfig c;
  Status st = ForEachField(
      n, path,
      {"job_name", "scrape_interval", "scrape_timeout", "metrics_path", "scheme", "params",
       "honor_labels", "honor_timestamps", "sample_limit", "label_limit", "label_name_length_limit",
       "label_value_length_limit", "body_size_limit", "relabel_configs", "metric_relabel_configs",
       "static_configs", "file_sd_configs", "http_sd_configs"},
      [&](const std::string& key, const YAML::Node& v, const std::string& p) -> Status {
        if (key == "job_name") ASSIGN_OR_RETURN(c.job_name, String(v, p));
        if (key == "scrape_interval") ASSIGN_OR_RETURN(c.scrape_interval, Duration(v, p));
        if (key == "scrape_timeout") ASSIGN_OR_RETURN(c.scrape_timeout, Duration(v, p));
        if (key == "metrics_path") ASSIGN_OR_RETURN(c.metrics_path, String(v, p));
        if (key == "scheme") ASSIGN_OR_RETURN(c.scheme, String(v, p));
        if (key == "honor_labels") ASSIGN_OR_RETURN(c.honor_labels, Bool(v, p));
        if (key == "honor_timestamps") ASSIGN_OR_RETURN(c.honor_timestamps, Bool(v, p));
        if (key == "sample_limit") ASSIGN_OR_RETURN(c.sample_limit, Uint(v, p));
        if (key == "label_limit") ASSIGN_OR_RETURN(c.label_limit, Uint(v, p));
        if (key == "label_name_length_limit") {
          ASSIGN_OR_RETURN(c.label_name_length_limit, Uint(v, p));
        }
        if (key == "label_value_length_limit") {
          ASSIGN_OR_RETURN(c.label_value_length_limit, Uint(v, p));
        }
        if (key == "body_size_limit") {
          if (!v.IsScalar()) return Err(p, "expected a size");
          Result<uint64_t> size = ParseSize(v.Scalar());
          if (!size.ok()) return size.status().WithContext(p);
          c.body_size_limit = size.value();
        }
        if (key == "params") {
          if (!v.IsMap()) return Err(p, "expected a map of names to lists of values");
          std::map<std::string, std::vector<std::string>> params;
          for (const auto& kv : v) {
            const std::string name = kv.first.Scalar();
            ASSIGN_OR_RETURN(params[name], StringList(kv.second, p + "." + name));
          }
          c.params.assign(params.begin(), params.end());
        }
        if (key == "relabel_configs") ASSIGN_OR_RETURN(c.relabel_configs, Relabels(v, p));
        if (key == "metric_relabel_configs") {
          ASSIGN_OR_RETURN(c.metric_relabel_configs, Relabels(v, p));
        }
        if (key == "static_configs") {
          if (v.IsNull()) return Status::OK();
          if (!v.IsSequence()) return Err(p, "expected a list");
          for (size_t i = 0; i < v.size(); ++i) {
            std::string pi = p + "[" + std::to_string(i) + "]";
            Result<sd::TargetGroup> group = sd::TargetGroupFromYaml(v[i], pi);
            if (!group.ok()) return group.status();
            group->source = "static:" + std::to_string(i);
            c.static_configs.push_back(std::move(group).value());
          }
        }
        if (key == "file_sd_configs") {
          if (v.IsNull()) return Status::OK();
          if (!v.IsSequence()) return Err(p, "expected a list");
          for (size_t i = 0; i < v.size(); ++i) {
            sd::FileSdConfig fc;
            std::string pi = p + "[" + std::to_string(i) + "]";
            Status s = ForEachField(
                v[i], pi, {"files", "refresh_interval"},
                [&](const std::string& k, const YAML::Node& vv, const std::string& pp) -> Status {
                  if (k == "files") ASSIGN_OR_RETURN(fc.files, StringList(vv, pp));
                  if (k == "refresh_interval")
                    ASSIGN_OR_RETURN(fc.refresh_interval, Duration(vv, pp));
                  return Status::OK();
                });
            if (!s.ok()) return s;
            if (fc.files.empty()) return Err(pi + ".files", "at least one file is required");
            for (const auto& f : fc.files) {
              std::string_view base = std::string_view(f).substr(f.rfind('/') + 1);
              bool ext_ok =
                  base.ends_with(".json") || base.ends_with(".yml") || base.ends_with(".yaml");
              if (!ext_ok)
                return Err(pi + ".files", "path \"" + f + "\" is not .json, .yml or .yaml");
            }
            if (fc.refresh_interval.count() <= 0) {
              return Err(pi + ".refresh_interval", "must be positive");
            }
            c.file_sd_configs.push_back(std::move(fc));
          }
        }
        if (key == "http_sd_configs") {
          if (v.IsNull()) return Status::OK();
          if (!v.IsSequence()) return Err(p, "expected a list");
          for (size_t i = 0; i < v.size(); ++i) {
            sd::HttpSdConfig hc;
            std::string pi = p + "[" + std::to_string(i) + "]";
            Status s = ForEachField(
                v[i], pi, {"url", "refresh_interval"},
                [&](const std::string& k, const YAML::Node& vv, const std::string& pp) -> Status {
                  if (k == "url") ASSIGN_OR_RETURN(hc.url, String(vv, pp));
                  if (k == "refresh_interval")
                    ASSIGN_OR_RETURN(hc.refresh_interval, Duration(vv, pp));
                  return Status::OK();
                });
            if (!s.ok()) return s;
            if (!hc.url.starts_with("http://") && !hc.url.starts_with("https://")) {
              return Err(pi + ".url", "must be an http:// or https:// URL");
            }
            if (hc.refresh_interval.count() <= 0) {
              return Err(pi + ".refresh_interval", "must be positive");
            }
            c.http_sd_configs.push_back(std::move(hc));
          }
        }
        return Status::OK();
      },
      http::IsHttpClientConfigKey);
  if (!st.ok()) return st;
  Result<http::HttpClientConfig> client = http::ParseHttpClientConfig(n, path);
  if (!client.ok()) return client.status();
  static_cast<http::HttpClientConfig&>(c) = std::move(client).value();

  if (c.job_name.empty()) return Err(path + ".job_name", "is required");
  if (c.scheme != "http" && c.scheme != "https") {
    return Err(path + ".scheme", "must be http or https, got \"" + c.scheme + "\"");
  }
  if (c.metrics_path.empty() || c.metrics_path[0] != '/') {
    return Err(path + ".metrics_path", "must start with /");
  }
  if (c.scrape_interval.count() == 0) c.scrape_interval = global.scrape_interval;
  if (c.scrape_timeout.count() == 0) {
    c.scrape_timeout = std::min(global.scrape_timeout, c.scrape_interval);
  }
  if (c.scrape_timeout > c.scrape_interval) {
    return Err(path + ".scrape_timeout", "greater than the scrape interval (" +
                                             FormatDuration(c.scrape_timeout) + " > " +
                                             FormatDuration(c.scrape_interval) + ")");
  }
  // The fingerprint covers how targets are scraped, not which: changing the target sources
  // must not restart the loops of targets that stay.
  std::string fp =
      std::to_string(c.scrape_interval.count()) + "|" + std::to_string(c.scrape_timeout.count());
  for (const auto& kv : n) {
    const std::string& key = kv.first.Scalar();
    if (key == "static_configs" || key == "file_sd_configs" || key == "http_sd_configs") {
      continue;
    }
    fp += "\x1e" + key + "\x1f" + YAML::Dump(kv.second);
  }
  c.fingerprint = XXH3_64bits(fp.data(), fp.size());
  return c;
}

}  // namespace

Result<Config> ParseConfig(std::string_view yaml) {
  Config config;
  try {
    config.raw = YAML::Load(std::string(yaml));
    if (!config.raw.IsNull() && !config.raw.IsMap()) {
      return Status::InvalidArgument("config: expected a map at the top level");
    }
    if (config.raw.IsMap()) {
      for (const auto& kv : config.raw) {
        const std::string key = kv.first.Scalar();
        if (!IsTopLevelKey(key)) return Err(key, "unknown field");
      }
    }
    if (YAML::Node g = config.raw["global"]) {
      ASSIGN_OR_RETURN(config.global, ParseGlobal(g));
    }
    YAML::Node jobs = config.raw["scrape_configs"];
    if (jobs && !jobs.IsNull()) {
      if (!jobs.IsSequence()) return Err("scrape_configs", "expected a list");
      std::set<std::string> names;
      for (size_t i = 0; i < jobs.size(); ++i) {
        std::string path = "scrape_configs[" + std::to_string(i) + "]";
        Result<ScrapeConfig> job = ParseScrapeConfig(jobs[i], path, config.global);
        if (!job.ok()) return job.status();
        if (!names.insert(job->job_name).second) {
          return Err(path + ".job_name", "\"" + job->job_name + "\" is used by an earlier job");
        }
        config.scrape_configs.push_back(std::move(job).value());
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("config: ") + e.what());
  }
  return config;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open config file " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  Result<Config> config = ParseConfig(buffer.str());
  if (!config.ok()) return config.status().WithContext(path);
  return config;
}

}  // namespace shardwise::scrape
