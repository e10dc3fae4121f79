#include "common/metrics/registry.h"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>

namespace shardwise::metrics {
namespace {

void AppendValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::floor(v) && std::fabs(v) < 1e15) {
    out += fmt::format("{}", static_cast<int64_t>(v));
  } else {
    out += fmt::format("{}", v);
  }
}

void AppendLabelValue(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void AppendHelp(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

std::vector<std::pair<std::string, std::string>> Zip(const std::vector<std::string>& names,
                                                     const std::vector<std::string>& values) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i)
    out.emplace_back(names[i], values[i]);
  return out;
}

void WriteHistogram(Writer& w, const std::string& name,
                    std::vector<std::pair<std::string, std::string>> labels, const Histogram& h) {
  const auto& bounds = h.bounds();
  for (size_t i = 0; i < bounds.size(); ++i) {
    auto l = labels;
    l.emplace_back("le", fmt::format("{}", bounds[i]));
    w.Sample(name + "_bucket", l, static_cast<double>(h.CumulativeCount(i)));
  }
  auto l = labels;
  l.emplace_back("le", "+Inf");
  w.Sample(name + "_bucket", l, static_cast<double>(h.Count()));
  w.Sample(name + "_sum", labels, h.Sum());
  w.Sample(name + "_count", labels, static_cast<double>(h.Count()));
}

const auto kStartTime = std::chrono::system_clock::now();

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size())) {
  for (size_t i = 0; i < bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double v) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (v <= bounds_[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

uint64_t Histogram::CumulativeCount(size_t i) const {
  uint64_t n = 0;
  for (size_t j = 0; j <= i && j < bounds_.size(); ++j)
    n += buckets_[j].load(std::memory_order_relaxed);
  return n;
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> b;
  for (int i = 0; i < count; ++i, start *= factor) b.push_back(start);
  return b;
}

void Writer::Family(std::string_view name, std::string_view help, std::string_view type) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  AppendHelp(out_, help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void Writer::Sample(std::string_view name,
                    const std::vector<std::pair<std::string, std::string>>& labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += k;
      out_ += "=\"";
      AppendLabelValue(out_, v);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  AppendValue(out_, value);
  out_ += '\n';
}

Registry& Registry::Default() {
  static Registry* r = new Registry;
  return *r;
}

Registry::Entry& Registry::GetOrAdd(const std::string& name, const std::string& help,
                                    const std::string& type) {
  std::lock_guard lock(mu_);
  auto& e = entries_[name];
  if (e.type.empty()) {
    e.help = help;
    e.type = type;
  }
  return e;
}

CounterFamily& Registry::AddCounterFamily(const std::string& name, const std::string& help,
                                          std::vector<std::string> label_names) {
  auto& e = GetOrAdd(name, help, "counter");
  std::lock_guard lock(mu_);
  if (!e.counters) {
    e.counters = std::make_unique<CounterFamily>(std::move(label_names),
                                                 [] { return std::make_unique<Counter>(); });
  }
  return *e.counters;
}

GaugeFamily& Registry::AddGaugeFamily(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names) {
  auto& e = GetOrAdd(name, help, "gauge");
  std::lock_guard lock(mu_);
  if (!e.gauges) {
    e.gauges = std::make_unique<GaugeFamily>(std::move(label_names),
                                             [] { return std::make_unique<Gauge>(); });
  }
  return *e.gauges;
}

HistogramFamily& Registry::AddHistogramFamily(const std::string& name, const std::string& help,
                                              std::vector<std::string> label_names,
                                              std::vector<double> buckets) {
  auto& e = GetOrAdd(name, help, "histogram");
  std::lock_guard lock(mu_);
  if (!e.histograms) {
    e.histograms = std::make_unique<HistogramFamily>(
        std::move(label_names), [buckets] { return std::make_unique<Histogram>(buckets); });
  }
  return *e.histograms;
}

Counter& Registry::AddCounter(const std::string& name, const std::string& help) {
  return AddCounterFamily(name, help, {}).With({});
}

Gauge& Registry::AddGauge(const std::string& name, const std::string& help) {
  return AddGaugeFamily(name, help, {}).With({});
}

Histogram& Registry::AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<double> buckets) {
  return AddHistogramFamily(name, help, {}, std::move(buckets)).With({});
}

void Registry::AddCollector(std::function<void(Writer&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::Expose() const {
  Writer w;
  std::vector<std::function<void(Writer&)>> collectors;
  {
    std::lock_guard lock(mu_);
    for (const auto& entry : entries_) {
      // Named references: clang 14 cannot capture structured bindings in lambdas.
      const std::string& name = entry.first;
      const Entry& e = entry.second;
      w.Family(name, e.help, e.type);
      if (e.counters) {
        e.counters->ForEach([&](const auto& values, const Counter& c) {
          w.Sample(name, Zip(e.counters->label_names(), values), c.Value());
        });
      }
      if (e.gauges) {
        e.gauges->ForEach([&](const auto& values, const Gauge& g) {
          w.Sample(name, Zip(e.gauges->label_names(), values), g.Value());
        });
      }
      if (e.histograms) {
        e.histograms->ForEach([&](const auto& values, const Histogram& h) {
          WriteHistogram(w, name, Zip(e.histograms->label_names(), values), h);
        });
      }
    }
    collectors = collectors_;
  }
  for (const auto& c : collectors) c(w);
  return std::move(w.out());
}

double ProcessCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double ProcessResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

void RegisterProcessMetrics() {
  static std::once_flag once;
  std::call_once(once, [] {
    Registry::Default().AddCollector([](Writer& w) {
      w.Family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
               "counter");
      w.Sample("process_cpu_seconds_total", {}, ProcessCpuSeconds());
      w.Family("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
      w.Sample("process_resident_memory_bytes", {}, ProcessResidentBytes());
      w.Family("process_start_time_seconds",
               "Start time of the process since unix epoch in seconds.", "gauge");
      w.Sample("process_start_time_seconds", {},
               std::chrono::duration<double>(kStartTime.time_since_epoch()).count());
      int fds = 0;
      if (DIR* d = opendir("/proc/self/fd")) {
        while (readdir(d) != nullptr) ++fds;
        closedir(d);
        fds -= 3;  // ".", ".." and the directory's own fd
      }
      w.Family("process_open_fds", "Number of open file descriptors.", "gauge");
      w.Sample("process_open_fds", {}, fds);
    });
  });
}

}  // namespace shardwise::metrics
