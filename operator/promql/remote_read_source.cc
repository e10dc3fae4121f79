#include "operator/promql/remote_read_source.h"

#include <snappy.h>

#include "common/prompb/remote.pb.h"
#include "common/prompb/types.pb.h"

namespace shardwise::promql {

Result<std::vector<Series>> RemoteReadSource::Select(const std::vector<Matcher>& matchers,
                                                     int64_t mint, int64_t maxt) {
  prometheus::ReadRequest req;
  auto* q = req.add_queries();
  q->set_start_timestamp_ms(mint);
  q->set_end_timestamp_ms(maxt);
  for (const auto& m : matchers) {
    auto* lm = q->add_matchers();
    lm->set_name(m.name);
    lm->set_value(m.value);
    switch (m.type) {
      case MatchType::kEqual:
        lm->set_type(prometheus::LabelMatcher::EQ);
        break;
      case MatchType::kNotEqual:
        lm->set_type(prometheus::LabelMatcher::NEQ);
        break;
      case MatchType::kRegexMatch:
        lm->set_type(prometheus::LabelMatcher::RE);
        break;
      case MatchType::kRegexNoMatch:
        lm->set_type(prometheus::LabelMatcher::NRE);
        break;
    }
  }
  std::string raw = req.SerializeAsString(), body;
  snappy::Compress(raw.data(), raw.size(), &body);
  http::ClientRequest hr;
  hr.method = "POST";
  hr.url = url_;
  hr.body = std::move(body);
  hr.timeout = timeout_;
  hr.max_body_bytes = max_body_;
  hr.headers = {{"Content-Type", "application/x-protobuf"},
                {"Content-Encoding", "snappy"},
                {"X-Prometheus-Remote-Read-Version", "0.1.0"}};
  auto resp = client_.DoSync(hr);
  if (!resp.ok()) return resp.status().WithContext("remote read " + url_);
  if (resp->status != 200) {
    std::string msg = "remote read " + url_ + ": HTTP " + std::to_string(resp->status) + ": " +
                      resp->body.substr(0, 256);
    if (resp->status == 422) return Status::ResourceExhausted(msg);
    return resp->status >= 500 ? Status::Unavailable(msg) : Status::InvalidArgument(msg);
  }
  std::string decoded;
  if (!snappy::Uncompress(resp->body.data(), resp->body.size(), &decoded)) {
    return Status::Corruption("remote read " + url_ + ": response is not snappy-compressed");
  }
  prometheus::ReadResponse rr;
  if (!rr.ParseFromString(decoded) || rr.results_size() != 1) {
    return Status::Corruption("remote read " + url_ + ": malformed ReadResponse");
  }
  std::vector<Series> out;
  for (const auto& ts : rr.results(0).timeseries()) {
    std::vector<Label> ls;
    for (const auto& l : ts.labels()) ls.push_back({l.name(), l.value()});
    Series s{Labels::FromUnsorted(std::move(ls)), {}};
    for (const auto& p : ts.samples()) s.points.push_back(Point{p.timestamp(), p.value()});
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace shardwise::promql
