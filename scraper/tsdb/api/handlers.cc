#include "scraper/tsdb/api/handlers.h"

#include <snappy.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/http/server.h"
#include "common/metrics/registry.h"
#include "common/prompb/remote.pb.h"
#include "common/utf8.h"
#include "scraper/tsdb/api/selector.h"

namespace shardwise::tsdb::api {
namespace {

constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();

// Never throws: input echoed in messages, and stored label values, may not be UTF-8.
std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

http::Response JsonError(int status, std::string_view type, const std::string& message) {
  nlohmann::json j = {{"status", "error"}, {"errorType", type}, {"error", message}};
  return http::Response::Json(status, Dump(j));
}

http::Response BadData(const std::string& message) { return JsonError(400, "bad_data", message); }

void CountLimit(std::string_view api, std::string_view limit) {
  static auto& f = metrics::Registry::Default().AddCounterFamily(
      "shardwise_query_limit_exceeded_total",
      "Query API requests refused (422) for exceeding a bound, by API and bound "
      "(queries|series|samples|bytes).",
      {"api", "limit"});
  f.With({std::string(api), std::string(limit)}).Inc();
}

http::Response OverLimit(std::string_view api, std::string_view limit, const std::string& why) {
  CountLimit(api, limit);
  return JsonError(422, "execution", why);
}

http::Response JsonSuccess(std::string_view api, nlohmann::json data, const QueryLimits& limits) {
  nlohmann::json j = {{"status", "success"}, {"data", std::move(data)}};
  std::string body = Dump(j);
  if (limits.max_bytes != 0 && body.size() > limits.max_bytes) {
    return OverLimit(api, "bytes",
                     "the response would exceed " + std::to_string(limits.max_bytes) + " bytes");
  }
  return http::Response::Json(200, std::move(body));
}

// Query parameters, plus form fields for POST (Prometheus accepts both).
std::vector<std::string> Params(const http::Request& r, std::string_view name) {
  std::vector<std::string> out = http::QueryParams(r.query, name);
  if (r.method == "POST" &&
      r.Header("Content-Type").starts_with("application/x-www-form-urlencoded")) {
    auto form = http::QueryParams(r.body, name);
    out.insert(out.end(), form.begin(), form.end());
  }
  return out;
}

// Every parameter value must be UTF-8 (Prometheus rejects others the same way).
Status CheckUtf8(const http::Request& r) {
  std::string_view raw = r.query;
  for (int pass = 0; pass < 2; ++pass) {
    while (!raw.empty()) {
      size_t amp = raw.find('&');
      std::string part = http::PercentDecode(raw.substr(0, amp), true);
      raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
      if (!IsValidUtf8(part)) {
        return Status::InvalidArgument("invalid parameter: not valid UTF-8");
      }
    }
    if (r.method != "POST" ||
        !r.Header("Content-Type").starts_with("application/x-www-form-urlencoded"))
      break;
    raw = r.body;
  }
  return Status::OK();
}

Status ParseRange(const http::Request& r, int64_t* start, int64_t* end) {
  *start = kMinTime;
  *end = kMaxTime;
  auto s = Params(r, "start");
  auto e = Params(r, "end");
  if (!s.empty() && !s[0].empty()) {
    auto t = ParseTime(s[0]);
    if (!t.ok())
      return Status::InvalidArgument("invalid parameter \"start\": " + t.status().message());
    *start = *t;
  }
  if (!e.empty() && !e[0].empty()) {
    auto t = ParseTime(e[0]);
    if (!t.ok())
      return Status::InvalidArgument("invalid parameter \"end\": " + t.status().message());
    *end = *t;
  }
  if (*end < *start) return Status::InvalidArgument("end timestamp must not be before start time");
  return Status::OK();
}

Status ParseSelectors(const http::Request& r, bool require_non_empty, const QueryLimits& limits,
                      std::vector<std::vector<Matcher>>* out) {
  auto texts = Params(r, "match[]");
  if (limits.max_queries != 0 && texts.size() > limits.max_queries) {
    return Status::ResourceExhausted("more than " + std::to_string(limits.max_queries) +
                                     " match[] selectors");
  }
  for (const auto& text : texts) {
    auto m = ParseSelector(text);
    if (!m.ok()) return m.status();
    if (require_non_empty &&
        std::all_of(m->begin(), m->end(), [](const Matcher& x) { return x.Matches(""); })) {
      return Status::InvalidArgument("match[] must contain at least one non-empty matcher");
    }
    out->push_back(std::move(*m));
  }
  return Status::OK();
}

Result<Matcher> FromProto(const prometheus::LabelMatcher& m) {
  Matcher::Type type;
  switch (m.type()) {
    case prometheus::LabelMatcher::EQ:
      type = Matcher::Type::kEqual;
      break;
    case prometheus::LabelMatcher::NEQ:
      type = Matcher::Type::kNotEqual;
      break;
    case prometheus::LabelMatcher::RE:
      type = Matcher::Type::kRegexMatch;
      break;
    case prometheus::LabelMatcher::NRE:
      type = Matcher::Type::kRegexNoMatch;
      break;
    default:
      return Status::InvalidArgument("unknown matcher type " + std::to_string(m.type()));
  }
  return Matcher::Make(type, m.name(), m.value());
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's algorithm; avoids timegm's dependence on the TZ environment.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

Result<int64_t> ParseTime(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("cannot parse \"" + std::string(text) +
                                   "\" to a valid timestamp");
  };
  if (text.empty()) return bad();
  // Unix seconds, possibly fractional: split on '.' to keep millisecond precision.
  bool numeric = std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+';
  });
  if (numeric) {
    bool neg = text[0] == '-';
    std::string_view s = text;
    if (s[0] == '-' || s[0] == '+') s.remove_prefix(1);
    size_t dot = s.find('.');
    std::string_view whole = s.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
    if (whole.empty() && frac.empty()) return bad();
    if (whole.size() > 12 || frac.find_first_of(".+-") != std::string_view::npos ||
        whole.find_first_of(".+-") != std::string_view::npos) {
      return bad();
    }
    int64_t secs = 0;
    for (char c : whole) secs = secs * 10 + (c - '0');
    int64_t ms = 0;
    for (size_t i = 0; i < 3; ++i) ms = ms * 10 + (i < frac.size() ? frac[i] - '0' : 0);
    // Round half up on the fourth digit, as float parsing followed by rounding would.
    if (frac.size() > 3 && frac[3] >= '5') ++ms;
    int64_t total = secs * 1000 + ms;
    return neg ? -total : total;
  }
  // RFC 3339: 2006-01-02T15:04:05[.999999999](Z|+07:00)
  int y, mo, d, h, mi, sec;
  int n = 0;
  std::string str(text);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
                  &n) != 6 ||
      n <= 0) {
    return bad();
  }
  std::string_view rest = std::string_view(str).substr(static_cast<size_t>(n));
  int64_t ms = 0;
  if (!rest.empty() && rest[0] == '.') {
    rest.remove_prefix(1);
    size_t digits = 0;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
      if (digits < 3) ms = ms * 10 + (rest[digits] - '0');
      ++digits;
    }
    if (digits == 0) return bad();
    for (size_t i = digits; i < 3; ++i) ms *= 10;
    rest.remove_prefix(digits);
  }
  int64_t offset_s = 0;
  if (rest == "Z" || rest == "z") {
    offset_s = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = (rest[1] - '0') * 10 + (rest[2] - '0');
    int om = (rest[4] - '0') * 10 + (rest[5] - '0');
    offset_s = (oh * 3600 + om * 60) * (rest[0] == '-' ? -1 : 1);
  } else {
    return bad();
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return bad();
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * 1000 + ms;
}

http::Response RemoteRead(const DB& db, const http::Request& request, const QueryLimits& limits) {
  // snappy allocates the length its header claims before decoding, so a few bytes could
  // ask for gigabytes; a ReadRequest is a handful of queries and never comes near this.
  constexpr size_t kMaxReadRequestBytes = size_t{32} << 20;
  size_t raw_size = 0;
  if (!snappy::GetUncompressedLength(request.body.data(), request.body.size(), &raw_size)) {
    return http::Response::Text(400, "remote read: request body is not snappy-compressed\n");
  }
  if (raw_size > kMaxReadRequestBytes) {
    return http::Response::Text(400, "remote read: request too large (" + std::to_string(raw_size) +
                                         " bytes uncompressed, limit " +
                                         std::to_string(kMaxReadRequestBytes) + ")\n");
  }
  std::string raw;
  if (!snappy::Uncompress(request.body.data(), request.body.size(), &raw)) {
    return http::Response::Text(400, "remote read: request body is not snappy-compressed\n");
  }
  prometheus::ReadRequest req;
  if (!req.ParseFromString(raw)) {
    return http::Response::Text(400, "remote read: request is not a valid ReadRequest\n");
  }
  if (req.accepted_response_types_size() > 0) {
    bool samples = false;
    for (int t : req.accepted_response_types()) samples |= t == prometheus::ReadRequest::SAMPLES;
    if (!samples) {
      return http::Response::Text(
          400, "remote read: none of the accepted response types is supported (only SAMPLES)\n");
    }
  }
  auto over = [](std::string_view limit, const std::string& why) {
    CountLimit("read", limit);
    return http::Response::Text(422, "remote read: " + why + "\n");
  };
  if (limits.max_queries != 0 && static_cast<size_t>(req.queries_size()) > limits.max_queries) {
    return over("queries", std::to_string(req.queries_size()) + " queries, more than the limit " +
                               std::to_string(limits.max_queries));
  }
  prometheus::ReadResponse resp;
  size_t series = 0, samples = 0;
  for (const auto& q : req.queries()) {
    std::vector<Matcher> matchers;
    for (const auto& pm : q.matchers()) {
      auto m = FromProto(pm);
      if (!m.ok()) return http::Response::Text(400, "remote read: " + m.status().message() + "\n");
      matchers.push_back(std::move(*m));
    }
    // What is left of each budget (used never passes the limit: we stop when it would).
    auto remaining = [](size_t limit, size_t used) {
      return limit == 0 ? std::numeric_limits<size_t>::max() : limit - used;
    };
    auto got = db.QueryBounded(matchers, q.start_timestamp_ms(), q.end_timestamp_ms(),
                               remaining(limits.max_series, series),
                               remaining(limits.max_samples, samples));
    if (!got.ok()) {
      const std::string& what = got.status().message();  // "series" or "samples"
      size_t limit = what == "series" ? limits.max_series : limits.max_samples;
      return over(what, "the request selects more than " + std::to_string(limit) + " " + what +
                            " (summed over its queries)");
    }
    auto* result = resp.add_results();
    for (auto& s : *got) {
      ++series;
      samples += s.samples.size();
      auto* ts = result->add_timeseries();
      for (const auto& l : s.labels) {
        auto* pl = ts->add_labels();
        pl->set_name(l.name);
        pl->set_value(l.value);
      }
      ts->mutable_samples()->Reserve(static_cast<int>(s.samples.size()));
      for (const auto& sample : s.samples) {
        auto* ps = ts->add_samples();
        ps->set_timestamp(sample.t);
        ps->set_value(sample.v);
      }
    }
    if (limits.max_bytes != 0 && resp.ByteSizeLong() > limits.max_bytes) {
      return over("bytes",
                  "the response would exceed " + std::to_string(limits.max_bytes) + " bytes");
    }
  }
  std::string encoded;
  resp.SerializeToString(&encoded);
  http::Response out;
  out.status = 200;
  snappy::Compress(encoded.data(), encoded.size(), &out.body);
  out.With("Content-Type", "application/x-protobuf").With("Content-Encoding", "snappy");
  return out;
}

// The parameters every JSON API takes: UTF-8 check, time range and match[] selectors. A
// response when they are bad.
std::optional<http::Response> ParseCommon(std::string_view api, const http::Request& request,
                                          bool require_selector, const QueryLimits& limits,
                                          int64_t* start, int64_t* end,
                                          std::vector<std::vector<Matcher>>* selectors) {
  if (Status st = CheckUtf8(request); !st.ok()) return BadData(st.message());
  if (Status st = ParseRange(request, start, end); !st.ok()) return BadData(st.message());
  if (require_selector && Params(request, "match[]").empty()) {
    return BadData("no match[] parameter provided");
  }
  Status st = ParseSelectors(request, require_selector, limits, selectors);
  if (st.code() == Status::Code::kResourceExhausted) {
    return OverLimit(api, "queries", st.message());
  }
  if (!st.ok()) return BadData(st.message());
  return std::nullopt;
}

std::optional<http::Response> CheckCount(std::string_view api, size_t n,
                                         const QueryLimits& limits) {
  if (limits.max_series != 0 && n > limits.max_series) {
    return OverLimit(
        api, "series",
        std::to_string(n) + " results, more than the limit " + std::to_string(limits.max_series));
  }
  return std::nullopt;
}

http::Response SeriesApi(const DB& db, const http::Request& request, const QueryLimits& limits) {
  int64_t start, end;
  std::vector<std::vector<Matcher>> selectors;
  if (auto bad = ParseCommon("series", request, true, limits, &start, &end, &selectors))
    return *bad;
  auto series = db.Series(selectors, start, end);
  if (auto over = CheckCount("series", series.size(), limits)) return *over;
  nlohmann::json data = nlohmann::json::array();
  for (const auto& labels : series) {
    nlohmann::json obj = nlohmann::json::object();
    for (const auto& l : labels) obj[l.name] = l.value;
    data.push_back(std::move(obj));
  }
  return JsonSuccess("series", std::move(data), limits);
}

http::Response LabelNamesApi(const DB& db, const http::Request& request,
                             const QueryLimits& limits) {
  int64_t start, end;
  std::vector<std::vector<Matcher>> selectors;
  if (auto bad = ParseCommon("labels", request, false, limits, &start, &end, &selectors))
    return *bad;
  auto names = db.LabelNames(selectors, start, end);
  if (auto over = CheckCount("labels", names.size(), limits)) return *over;
  return JsonSuccess("labels", std::move(names), limits);
}

http::Response LabelValuesApi(const DB& db, std::string_view name, const http::Request& request,
                              const QueryLimits& limits) {
  if (!IsValidLabelName(name)) return BadData("invalid label name: \"" + std::string(name) + "\"");
  int64_t start, end;
  std::vector<std::vector<Matcher>> selectors;
  if (auto bad = ParseCommon("label_values", request, false, limits, &start, &end, &selectors))
    return *bad;
  auto values = db.LabelValues(name, selectors, start, end);
  if (auto over = CheckCount("label_values", values.size(), limits)) return *over;
  return JsonSuccess("label_values", std::move(values), limits);
}

void RegisterHttpHandlers(http::Server& server, const DB& db, QueryLimits limits) {
  const DB* d = &db;
  server.HandleExact("/api/v1/read",
                     http::Methods({"POST"}, http::Simple([d, limits](const http::Request& r) {
                                     return RemoteRead(*d, r, limits);
                                   })));
  server.HandleExact(
      "/api/v1/series",
      http::Methods({"GET", "POST"}, http::Simple([d, limits](const http::Request& r) {
                      return SeriesApi(*d, r, limits);
                    })));
  server.HandleExact(
      "/api/v1/labels",
      http::Methods({"GET", "POST"}, http::Simple([d, limits](const http::Request& r) {
                      return LabelNamesApi(*d, r, limits);
                    })));
  server.Handle("/api/v1/label/",
                http::Methods({"GET"}, http::Simple([d, limits](const http::Request& r) {
                                constexpr std::string_view kPrefix = "/api/v1/label/";
                                constexpr std::string_view kSuffix = "/values";
                                std::string_view path = r.path;
                                if (!path.ends_with(kSuffix) ||
                                    path.size() <= kPrefix.size() + kSuffix.size()) {
                                  return JsonError(404, "not_found", "unknown path " + r.path);
                                }
                                std::string_view name = path.substr(
                                    kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
                                return LabelValuesApi(*d, name, r, limits);
                              })));
}

}  // namespace shardwise::tsdb::api
