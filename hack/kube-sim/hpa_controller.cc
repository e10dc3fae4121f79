#include "hack/kube-sim/hpa_controller.h"

#include <algorithm>
#include <map>

#include "common/quantity.h"
#include "hack/kube-sim/hpa_replicas.h"
#include "hack/kube-sim/reconciler.h"
#include "hack/kube-sim/time_util.h"
#include "hack/kube-sim/workload.h"

namespace shardwise::kubesim {
namespace {

constexpr char kComponent[] = "horizontal-pod-autoscaler";

std::string QueryEscape(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Go's %+v of a *metav1.LabelSelector, as the real rescale reason prints it.
std::string GoSelector(const json& sel) {
  if (!sel.is_object()) return "<nil>";
  std::string out = "&LabelSelector{MatchLabels:map[string]string{";
  const json& ml = sel.value("matchLabels", json::object());
  if (ml.is_object())
    for (auto& [k, v] : ml.items())
      out += k + ": " + (v.is_string() ? v.get<std::string>() : v.dump()) + ",";
  return out + "},MatchExpressions:[]LabelSelectorRequirement{},}";
}

Result<int64_t> QuantityOf(const json& v) {
  if (v.is_number()) return static_cast<int64_t>(v.get<double>() * 1000);
  if (!v.is_string()) return Status::InvalidArgument("missing quantity");
  auto q = ParseQuantity(v.get<std::string>());
  if (!q.ok()) return q.status();
  return q->milli;
}

hpa::Rules ParseRules(const json& r, hpa::Rules dflt) {
  if (!r.is_object()) return dflt;
  hpa::Rules out = dflt;
  if (r.contains("stabilizationWindowSeconds") && r["stabilizationWindowSeconds"].is_number())
    out.stabilization_window_seconds = r["stabilizationWindowSeconds"].get<long>();
  if (r.contains("selectPolicy") && r["selectPolicy"].is_string())
    out.select_policy = r["selectPolicy"].get<std::string>();
  if (r.contains("policies") && r["policies"].is_array() && !r["policies"].empty()) {
    out.policies.clear();
    for (const auto& p : r["policies"])
      out.policies.push_back(
          hpa::Policy{p.value("type", ""), p.value("value", 0L), p.value("periodSeconds", 15L)});
  }
  return out;
}

// One metric's outcome.
struct MetricResult {
  bool ok = false;
  long replicas = 0;
  std::string name;    // "pods metric x", for the rescale reason
  json status;         // a currentMetrics entry
  std::string reason;  // FailedGet*Metric when !ok
  std::string error;
};

class HpaController : public ReconcileController {
 public:
  HpaController(Cluster& cluster, HpaOptions options)
      : ReconcileController(cluster, "autoscaling/horizontalpodautoscalers",
                            std::min(options.sync_period, std::chrono::milliseconds(1000))),
        options_(std::move(options)) {}

 protected:
  void Reconcile(const std::string& ns, const std::string& name) override {
    TypePtr hpa_type = cluster_.FindType("autoscaling", "v2", "horizontalpodautoscalers");
    const std::string key = ns + "/" + name;
    auto got = cluster_.Get(*hpa_type, ns, name);
    if (!got.ok()) {
      state_.erase(key);
      return;
    }
    json hpa = std::move(got).value();
    State& st = state_[key];
    auto now = std::chrono::steady_clock::now();
    long generation = hpa["metadata"].value("generation", 1L);
    if (st.synced && generation == st.generation && now - st.last_sync < options_.sync_period)
      return;
    st.synced = true;
    st.generation = generation;
    st.last_sync = now;
    if (!Sync(*hpa_type, hpa, st)) st.synced = false;  // retry at the next resync
  }

 private:
  struct State {
    bool synced = false;
    long generation = 0;
    std::chrono::steady_clock::time_point last_sync;
    hpa::History history;
  };

  double Now() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  void Warn(const json& hpa, const std::string& reason, const std::string& message) {
    RecordEvent(cluster_, hpa, "Warning", reason, message, kComponent);
  }

  // false if the status write conflicted.
  bool Sync(const ResourceType& hpa_type, const json& hpa, State& st) {
    const std::string ns = hpa["metadata"].value("namespace", "");
    const json& spec = hpa.value("spec", json::object());
    long min_replicas = spec.value("minReplicas", 1L);
    long max_replicas = spec.value("maxReplicas", 1L);
    const json& ref = spec.value("scaleTargetRef", json::object());
    const std::string ref_kind = ref.value("kind", "");
    const std::string ref_name = ref.value("name", "");
    json status = hpa.value("status", json::object());
    json& conds = status["conditions"];
    if (!conds.is_array()) conds = json::array();

    TypePtr target = ScaleType(ref.value("apiVersion", ""), ref_kind);
    ApiResult<json> scale = ApiError::NotFound("", ref_kind, ref_name);
    std::string scale_error;
    if (!target) {
      scale_error = "no matches for kind \"" + ref_kind + "\" in group \"" +
                    GroupOf(ref.value("apiVersion", "")) + "\"";
    } else {
      scale = cluster_.GetScale(*target, ns, ref_name);
      if (!scale.ok()) scale_error = scale.error().message();
    }
    if (!scale_error.empty()) {
      Warn(hpa, "FailedGetScale", scale_error);
      SetCondition(
          conds, "AbleToScale", "False", "FailedGetScale",
          "the HPA controller was unable to get the target's current scale: " + scale_error);
      return WriteStatus(hpa_type, hpa, status);
    }
    SetCondition(conds, "AbleToScale", "True", "SucceededGetScale",
                 "the HPA controller was able to get the target's current scale");
    const json& sc = scale.value();
    long current = sc["spec"].value("replicas", 0L);
    long status_replicas = sc.value("status", json::object()).value("replicas", 0L);
    std::string selector = sc.value("status", json::object()).value("selector", "");

    long desired = 0;
    std::string reason;
    bool rescale = true;
    json metric_statuses = json::array();
    if (current == 0 && min_replicas != 0) {
      desired = 0;
      rescale = false;
      SetCondition(conds, "ScalingActive", "False", "ScalingDisabled",
                   "scaling is disabled since the replica count of the target is zero");
    } else if (current > max_replicas) {
      reason = "Current number of replicas above Spec.MaxReplicas";
      desired = max_replicas;
    } else if (current < min_replicas) {
      reason = "Current number of replicas below Spec.MinReplicas";
      desired = min_replicas;
    } else {
      if (selector.empty()) {
        Warn(hpa, "SelectorRequired", "selector is required");
        SetCondition(conds, "ScalingActive", "False", "InvalidSelector",
                     "the HPA target's scale is missing a selector");
        status["currentReplicas"] = current;
        return WriteStatus(hpa_type, hpa, status);
      }
      auto sel = Selector::ParseLabels(selector);
      if (!sel.ok()) {
        Warn(hpa, "InvalidSelector",
             "couldn't convert selector into a corresponding internal "
             "selector object: " +
                 sel.error().message());
        SetCondition(conds, "ScalingActive", "False", "InvalidSelector",
                     "the HPA target's scale has an invalid selector: " + sel.error().message());
        status["currentReplicas"] = current;
        return WriteStatus(hpa_type, hpa, status);
      }
      std::vector<json> pods;
      for (auto& p : ListObjects(cluster_, "", "pods", ns))
        if (sel.value().Matches(p)) pods.push_back(std::move(p));

      const json& metrics = spec.value("metrics", json::array());
      long best = -1;
      std::string best_name;
      int invalid = 0;
      const MetricResult* first_invalid = nullptr;
      std::vector<MetricResult> results;
      for (const auto& m : metrics)
        results.push_back(Compute(m, ns, current, status_replicas, selector, pods));
      for (const auto& r : results) {
        metric_statuses.push_back(r.ok ? r.status : json{{"type", ""}});
        if (!r.ok) {
          ++invalid;
          if (!first_invalid) first_invalid = &r;
          Warn(hpa, r.reason, r.error);
          continue;
        }
        if (r.replicas > best) {
          best = r.replicas;
          best_name = r.name;
        }
      }
      if (metrics.empty() || invalid == static_cast<int>(results.size()) ||
          (invalid > 0 && best < current)) {
        if (first_invalid) {
          SetCondition(conds, "ScalingActive", "False", first_invalid->reason,
                       "the HPA was unable to compute the replica count: " + first_invalid->error);
          Warn(hpa, "FailedComputeMetricsReplicas",
               "invalid metrics (" + std::to_string(invalid) + " invalid out of " +
                   std::to_string(results.size()) + "), first error is: " + first_invalid->error);
        }
        status["currentReplicas"] = current;
        if (!metric_statuses.empty()) status["currentMetrics"] = metric_statuses;
        return WriteStatus(hpa_type, hpa, status);
      }
      SetCondition(conds, "ScalingActive", "True", "ValidMetricFound",
                   "the HPA was able to successfully calculate a replica count from " + best_name);
      desired = best;
      if (desired > current) reason = best_name + " above target";
      if (desired < current) reason = "All metrics below target";
      hpa::Normalized n;
      if (spec.contains("behavior") && spec["behavior"].is_object()) {
        hpa::Rules up =
            ParseRules(spec["behavior"].value("scaleUp", json()), hpa::DefaultScaleUp());
        hpa::Rules down_default = hpa::DefaultScaleDown();
        down_default.stabilization_window_seconds =
            std::chrono::duration_cast<std::chrono::seconds>(options_.downscale_stabilization)
                .count();
        hpa::Rules down = ParseRules(spec["behavior"].value("scaleDown", json()), down_default);
        n = hpa::NormalizeWithBehavior(current, desired, min_replicas, max_replicas, up, down,
                                       Now(), st.history);
      } else {
        n = hpa::NormalizeLegacy(
            current, desired, min_replicas, max_replicas, Now(),
            std::chrono::duration<double>(options_.downscale_stabilization).count(), st.history);
      }
      SetCondition(conds, "AbleToScale", "True", n.able_reason, n.able_message);
      SetCondition(conds, "ScalingLimited", n.limited ? "True" : "False", n.limited_reason,
                   n.limited_message);
      desired = n.replicas;
      rescale = desired != current;
    }

    if (rescale) {
      json next_scale = sc;
      next_scale["spec"]["replicas"] = desired;
      next_scale["metadata"].erase("resourceVersion");
      WriteContext ctx;
      ctx.field_manager = kControllerManager;
      auto r = cluster_.UpdateScale(*target, ns, ref_name, next_scale, ctx);
      if (!r.ok()) {
        Warn(hpa, "FailedRescale",
             "New size: " + std::to_string(desired) + "; reason: " + reason +
                 "; error: " + r.error().message());
        SetCondition(
            conds, "AbleToScale", "False", "FailedUpdateScale",
            "the HPA controller was unable to update the target scale: " + r.error().message());
        status["currentReplicas"] = current;
        return WriteStatus(hpa_type, hpa, status);
      }
      SetCondition(
          conds, "AbleToScale", "True", "SucceededRescale",
          "the HPA controller was able to update the target scale to " + std::to_string(desired));
      RecordEvent(cluster_, hpa, "Normal", "SuccessfulRescale",
                  "New size: " + std::to_string(desired) + "; reason: " + reason, kComponent);
      if (spec.contains("behavior") && spec["behavior"].is_object())
        hpa::RecordScale(
            st.history, current, desired, Now(),
            ParseRules(spec["behavior"].value("scaleUp", json()), hpa::DefaultScaleUp()),
            ParseRules(spec["behavior"].value("scaleDown", json()), hpa::DefaultScaleDown()));
      status["lastScaleTime"] = NowRfc3339();
    } else {
      desired = current;
    }
    status["currentReplicas"] = current;
    status["desiredReplicas"] = desired;
    if (metric_statuses.empty()) {
      status.erase("currentMetrics");
    } else {
      status["currentMetrics"] = metric_statuses;
    }
    return WriteStatus(hpa_type, hpa, status);
  }

  bool WriteStatus(const ResourceType& t, const json& hpa, json status) {
    // Conditions in the order the real controller writes them.
    json ordered = json::array();
    for (const char* type : {"AbleToScale", "ScalingActive", "ScalingLimited"})
      if (const json* c = FindCondition(status["conditions"], type)) ordered.push_back(*c);
    status["conditions"] = ordered;
    if (!status.contains("desiredReplicas"))
      status["desiredReplicas"] = hpa.value("status", json::object()).value("desiredReplicas", 0L);
    if (status == hpa.value("status", json::object())) return true;
    json next = hpa;
    next["status"] = status;
    WriteContext ctx;
    ctx.field_manager = kControllerManager;
    auto r = cluster_.Update(t, hpa["metadata"].value("namespace", ""),
                             hpa["metadata"].value("name", ""), next, ctx, "status");
    return r.ok();
  }

  static std::string GroupOf(const std::string& api_version) {
    size_t slash = api_version.find('/');
    return slash == std::string::npos ? "" : api_version.substr(0, slash);
  }

  TypePtr ScaleType(const std::string& api_version, const std::string& kind) {
    TypePtr fallback;
    for (const auto& t : cluster_.Types()) {
      if (t->kind != kind || !t->has_scale) continue;
      if (t->GroupVersion() == api_version) return t;
      if (t->group == GroupOf(api_version) && !fallback) fallback = t;
    }
    return fallback;
  }

  // "deployments.apps", "pods", "scrapepools.shardwise.io" for the custom metrics API.
  std::optional<std::string> QualifiedResource(const std::string& api_version,
                                               const std::string& kind) {
    std::string group = GroupOf(api_version);
    for (const auto& t : cluster_.Types())
      if (t->kind == kind && t->group == group)
        return group.empty() ? t->plural : t->plural + "." + group;
    return std::nullopt;
  }

  // GETs a MetricValueList (or ExternalMetricValueList) and returns its items.
  Result<json> FetchItems(const std::string& path, const std::string& api) {
    if (!options_.metrics)
      return Status::Unavailable("unable to fetch metrics from " + api +
                                 " API: no metrics API "
                                 "is configured");
    auto r = options_.metrics(path);
    if (!r.ok())
      return Status::Unavailable("unable to fetch metrics from " + api +
                                 " API: " + r.status().message());
    json body = json::parse(r->second, nullptr, false);
    if (r->first != 200) {
      std::string msg = body.is_object() && body.contains("message") && body["message"].is_string()
                            ? body["message"].get<std::string>()
                            : "the server responded with status " + std::to_string(r->first);
      return Status::Unavailable("unable to fetch metrics from " + api + " API: " + msg);
    }
    if (!body.is_object() || !body.contains("items") || !body["items"].is_array())
      return Status::Unavailable("unable to fetch metrics from " + api +
                                 " API: the response is not a metric value list");
    return body["items"];
  }

  static long ReadyRunning(const std::vector<json>& pods) {
    long n = 0;
    for (const auto& p : pods)
      if (p.value("status", json::object()).value("phase", "") == "Running" && PodReady(p)) ++n;
    return n;
  }

  MetricResult Compute(const json& m, const std::string& ns, long current, long status_replicas,
                       const std::string& selector, const std::vector<json>& pods) {
    MetricResult out;
    std::string type = m.value("type", "");
    auto fail = [&](const std::string& reason, const std::string& error) {
      out.ok = false;
      out.reason = reason;
      out.error = error;
      return out;
    };
    if (type == "Pods") {
      const json& src = m.value("pods", json::object());
      const json& metric = src.value("metric", json::object());
      const std::string name = metric.value("name", "");
      out.name = "pods metric " + name;
      auto target = QuantityOf(src.value("target", json::object()).value("averageValue", json()));
      if (!target.ok())
        return fail("FailedGetPodsMetric",
                    "invalid target averageValue: " + target.status().message());
      std::string path = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/" + ns + "/pods/*/" +
                         name + "?labelSelector=" + QueryEscape(selector);
      auto metric_sel = LabelSelectorText(metric.value("selector", json()));
      if (metric_sel && !metric_sel->empty())
        path += "&metricLabelSelector=" + QueryEscape(*metric_sel);
      auto items = FetchItems(path, "custom metrics");
      if (!items.ok())
        return fail("FailedGetPodsMetric",
                    "unable to get metric " + name + ": " + items.status().message());
      std::map<std::string, int64_t> values;
      for (const auto& it : items.value()) {
        auto v = QuantityOf(it.value("value", json()));
        if (v.ok())
          values[it.value("describedObject", json::object()).value("name", "")] = v.value();
      }
      std::vector<hpa::PodSample> samples;
      for (const auto& p : pods) {
        hpa::PodSample s;
        s.name = p["metadata"].value("name", "");
        std::string phase = p.value("status", json::object()).value("phase", "");
        s.ignored = PodTerminating(p) || phase == "Failed";
        s.pending = phase == "Pending" || phase.empty();
        auto it = values.find(s.name);
        if (it != values.end()) s.value = it->second;
        samples.push_back(std::move(s));
      }
      std::string error;
      auto prop = hpa::PodsMetricReplicas(current, target.value(), samples, &error);
      if (!prop) return fail("FailedGetPodsMetric", "unable to get metric " + name + ": " + error);
      out.ok = true;
      out.replicas = prop->replicas;
      out.status = {
          {"type", "Pods"},
          {"pods",
           {{"metric", metric}, {"current", {{"averageValue", FormatQuantity(prop->usage)}}}}}};
      return out;
    }
    if (type == "Object" || type == "External") {
      bool object = type == "Object";
      const json& src = m.value(object ? "object" : "external", json::object());
      const json& metric = src.value("metric", json::object());
      const std::string name = metric.value("name", "");
      const char* reason = object ? "FailedGetObjectMetric" : "FailedGetExternalMetric";
      const json& described = src.value("describedObject", json::object());
      out.name = object ? described.value("kind", "") + " metric " + name
                        : "external metric " + name + "(" +
                              GoSelector(metric.value("selector", json())) + ")";
      const json& tgt = src.value("target", json::object());
      bool average = tgt.value("type", "") == "AverageValue";
      auto target = QuantityOf(tgt.value(average ? "averageValue" : "value", json()));
      if (!target.ok())
        return fail(reason, "invalid target " + std::string(average ? "averageValue" : "value") +
                                ": " + target.status().message());
      auto metric_sel = LabelSelectorText(metric.value("selector", json()));
      int64_t usage = 0;
      if (object) {
        std::string kind = described.value("kind", "");
        std::string dname = described.value("name", "");
        std::string path = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/" + ns + "/";
        if (kind == "Namespace") {
          path += "metrics/" + name;
        } else {
          auto res = QualifiedResource(described.value("apiVersion", ""), kind);
          if (!res)
            return fail(reason, "unable to get metric " + name + ": " + kind + " on " + ns + " " +
                                    dname + "/no matches for kind \"" + kind + "\"");
          path += *res + "/" + dname + "/" + name;
        }
        if (metric_sel && !metric_sel->empty())
          path += "?metricLabelSelector=" + QueryEscape(*metric_sel);
        auto items = FetchItems(path, "custom metrics");
        if (items.ok() && items.value().size() != 1)
          items =
              Status::Unavailable("the server returned " + std::to_string(items.value().size()) +
                                  " results when 1 was expected");
        if (!items.ok())
          return fail(reason, "unable to get metric " + name + ": " + kind + " on " + ns + " " +
                                  dname + "/" + items.status().message());
        auto v = QuantityOf(items.value()[0].value("value", json()));
        if (!v.ok())
          return fail(reason, "unable to get metric " + name + ": " + v.status().message());
        usage = v.value();
      } else {
        std::string path = "/apis/external.metrics.k8s.io/v1beta1/namespaces/" + ns + "/" + name;
        if (metric_sel && !metric_sel->empty())
          path += "?labelSelector=" + QueryEscape(*metric_sel);
        auto items = FetchItems(path, "external metrics");
        if (items.ok() && items.value().empty())
          items = Status::Unavailable("no metrics returned from external metrics API");
        if (!items.ok())
          return fail(reason, "unable to get external metric " + ns + "/" + name + "/" +
                                  GoSelector(metric.value("selector", json())) + ": " +
                                  items.status().message());
        for (const auto& it : items.value()) {
          auto v = QuantityOf(it.value("value", json()));
          if (v.ok()) usage += v.value();
        }
      }
      hpa::Proposal prop;
      if (average) {
        prop = hpa::AverageValueMetricReplicas(status_replicas, usage, target.value());
      } else {
        double ratio =
            static_cast<double>(usage) / static_cast<double>(std::max<int64_t>(target.value(), 1));
        long ready = ReadyRunning(pods);
        if (current != 0 && std::abs(1.0 - ratio) > hpa::kTolerance && pods.empty())
          return fail(reason, "unable to get metric " + name +
                                  ": no pods returned by selector while calculating replica count");
        prop = hpa::ValueMetricReplicas(current, usage, target.value(), ready);
      }
      out.ok = true;
      out.replicas = prop.replicas;
      json cur = average ? json{{"averageValue", FormatQuantity(prop.usage)}}
                         : json{{"value", FormatQuantity(prop.usage)}};
      json body = {{"metric", metric}, {"current", cur}};
      if (object) body["describedObject"] = described;
      out.status = {{"type", type}, {object ? "object" : "external", body}};
      return out;
    }
    if (type == "Resource" || type == "ContainerResource") {
      const json& src =
          m.value(type == "Resource" ? "resource" : "containerResource", json::object());
      std::string res = src.value("name", "cpu");
      bool utilization = src.value("target", json::object()).value("type", "") == "Utilization";
      out.name =
          res + (utilization ? " resource utilization (percentage of request)" : " resource");
      return fail(
          type == "Resource" ? "FailedGetResourceMetric" : "FailedGetContainerResourceMetric",
          "failed to get " + res + (utilization ? " utilization" : " usage") +
              ": unable to get metrics for resource " + res +
              ": unable to fetch metrics from resource metrics API: the server could not "
              "find the requested resource (get pods.metrics.k8s.io)");
    }
    return fail("InvalidMetricSourceType", "unknown metric source type \"" + type + "\"");
  }

  HpaOptions options_;
  std::map<std::string, State> state_;
};

}  // namespace

std::unique_ptr<Controller> NewHpaController(Cluster& cluster, HpaOptions options) {
  return std::make_unique<HpaController>(cluster, std::move(options));
}

}  // namespace shardwise::kubesim
