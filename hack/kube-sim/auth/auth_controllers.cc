#include "hack/kube-sim/auth/auth_controllers.h"

#include <set>

#include "common/base64.h"
#include "common/log/log.h"

namespace shardwise::kubesim {
namespace {

constexpr char kTokenType[] = "kubernetes.io/service-account-token";
constexpr char kSaNameAnnotation[] = "kubernetes.io/service-account.name";
constexpr char kSaUidAnnotation[] = "kubernetes.io/service-account.uid";

std::string Meta(const json& o, const char* k) {
  const json& md = o.value("metadata", json::object());
  return md.is_object() ? md.value(k, "") : "";
}

WriteContext Ctx(const char* manager) {
  WriteContext ctx;
  ctx.field_manager = manager;
  return ctx;
}

class ServiceAccountController : public Controller {
 public:
  ServiceAccountController(Cluster& cluster, std::string ca_pem)
      : cluster_(cluster), ca_pem_(std::move(ca_pem)) {}

  void OnEvent(const WatchEvent& e) override {
    if (e.collection == "/namespaces" && e.type != "DELETED") dirty_.insert(Meta(e.object, "name"));
    if (e.type == "DELETED" &&
        ((e.collection == "/serviceaccounts" && Meta(e.object, "name") == "default") ||
         (e.collection == "/configmaps" && Meta(e.object, "name") == "kube-root-ca.crt")))
      dirty_.insert(Meta(e.object, "namespace"));
  }

  void Resync() override {
    if (!scanned_) {
      scanned_ = true;
      cluster_.store().Transact([&](ObjectStore::Txn& txn) {
        for (const json* ns : txn.List("/namespaces", "")) dirty_.insert(Meta(*ns, "name"));
        return 0;
      });
    }
    std::set<std::string> todo;
    todo.swap(dirty_);
    TypePtr ns_type = cluster_.FindType("", "v1", "namespaces");
    TypePtr sa_type = cluster_.FindType("", "v1", "serviceaccounts");
    TypePtr cm_type = cluster_.FindType("", "v1", "configmaps");
    for (const auto& ns : todo) {
      auto nso = cluster_.Get(*ns_type, "", ns);
      if (!nso.ok() || nso.value()["metadata"].contains("deletionTimestamp")) continue;
      if (!cluster_.Get(*sa_type, ns, "default").ok()) {
        WriteContext ctx = Ctx("kube-controller-manager");
        cluster_.Create(*sa_type, ns,
                        {{"apiVersion", "v1"},
                         {"kind", "ServiceAccount"},
                         {"metadata", {{"name", "default"}, {"namespace", ns}}}},
                        ctx);
      }
      if (!cluster_.Get(*cm_type, ns, "kube-root-ca.crt").ok() && !ca_pem_.empty()) {
        WriteContext ctx = Ctx("kube-controller-manager");
        cluster_.Create(
            *cm_type, ns,
            {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata",
              {{"name", "kube-root-ca.crt"},
               {"namespace", ns},
               {"annotations",
                {{"kubernetes.io/description",
                  "Contains a CA bundle that can be used to verify the kube-apiserver when "
                  "using internal endpoints such as the internal service IP or "
                  "kubernetes.default.svc. No other usage is guaranteed across distributions "
                  "of Kubernetes clusters."}}}}},
             {"data", {{"ca.crt", ca_pem_}}}},
            ctx);
      }
    }
  }

 private:
  Cluster& cluster_;
  const std::string ca_pem_;
  bool scanned_ = false;
  std::set<std::string> dirty_;
};

class TokenController : public Controller {
 public:
  TokenController(Cluster& cluster, ServiceAccountTokens& tokens, std::string ca_pem)
      : cluster_(cluster), tokens_(tokens), ca_pem_(std::move(ca_pem)) {}

  void OnEvent(const WatchEvent& e) override {
    if (e.collection == "/secrets" && e.type != "DELETED" &&
        e.object.value("type", json()) == kTokenType)
      secrets_.insert({Meta(e.object, "namespace"), Meta(e.object, "name")});
    if (e.collection == "/serviceaccounts") {
      // A new ServiceAccount may be what a waiting Secret names; a deleted one takes its
      // token Secrets with it.
      pending_all_ = true;
    }
  }

  void Resync() override {
    if (!scanned_ || pending_all_) {
      scanned_ = true;
      pending_all_ = false;
      cluster_.store().Transact([&](ObjectStore::Txn& txn) {
        for (const json* s : txn.List("/secrets", ""))
          if (s->value("type", json()) == kTokenType)
            secrets_.insert({Meta(*s, "namespace"), Meta(*s, "name")});
        return 0;
      });
    }
    std::set<std::pair<std::string, std::string>> todo;
    todo.swap(secrets_);
    for (const auto& [ns, name] : todo) Sync(ns, name);
  }

 private:
  void Sync(const std::string& ns, const std::string& name) {
    TypePtr secret_type = cluster_.FindType("", "v1", "secrets");
    TypePtr sa_type = cluster_.FindType("", "v1", "serviceaccounts");
    auto secret = cluster_.Get(*secret_type, ns, name);
    if (!secret.ok()) return;
    json s = secret.value();
    if (s["metadata"].contains("deletionTimestamp")) return;
    json annotations = s["metadata"].value("annotations", json::object());
    if (!annotations.is_object()) return;
    std::string sa_name = annotations.value(kSaNameAnnotation, "");
    if (sa_name.empty()) return;
    auto sa = cluster_.Get(*sa_type, ns, sa_name);
    std::string wanted_uid = annotations.value(kSaUidAnnotation, "");
    if (!sa.ok() || (!wanted_uid.empty() && Meta(sa.value(), "uid") != wanted_uid)) {
      // Filled once for a ServiceAccount that is gone: the token dies with it.
      if (!wanted_uid.empty()) cluster_.Delete(*secret_type, ns, name, DeleteOptions{});
      return;
    }
    json data = s.value("data", json::object());
    if (!data.is_object()) data = json::object();
    if (data.contains("token") && !wanted_uid.empty()) return;
    std::string uid = Meta(sa.value(), "uid");
    s["metadata"]["annotations"] = annotations;
    s["metadata"]["annotations"][kSaUidAnnotation] = uid;
    data["token"] = Base64Encode(tokens_.IssueLegacy(ns, sa_name, uid, name));
    data["ca.crt"] = Base64Encode(ca_pem_);
    data["namespace"] = Base64Encode(ns);
    s["data"] = data;
    WriteContext ctx = Ctx("kube-controller-manager");
    auto r = cluster_.Update(*secret_type, ns, name, s, ctx);
    if (!r.ok()) secrets_.insert({ns, name});  // a concurrent write: retry next resync
  }

  Cluster& cluster_;
  ServiceAccountTokens& tokens_;
  const std::string ca_pem_;
  bool scanned_ = false;
  bool pending_all_ = false;
  std::set<std::pair<std::string, std::string>> secrets_;
};

class ClusterRoleAggregationController : public Controller {
 public:
  explicit ClusterRoleAggregationController(Cluster& cluster) : cluster_(cluster) {}

  void OnEvent(const WatchEvent& e) override {
    if (e.collection == "rbac.authorization.k8s.io/clusterroles") dirty_ = true;
  }

  void Resync() override {
    if (!dirty_ && scanned_) return;
    dirty_ = false;
    scanned_ = true;
    std::vector<json> roles;
    cluster_.store().Transact([&](ObjectStore::Txn& txn) {
      for (const json* r : txn.List("rbac.authorization.k8s.io/clusterroles", ""))
        roles.push_back(*r);
      return 0;
    });
    TypePtr t = cluster_.FindType("rbac.authorization.k8s.io", "v1", "clusterroles");
    for (const auto& role : roles) {
      const json& rule = role.value("aggregationRule", json());
      if (!rule.is_object()) continue;
      json selectors = rule.value("clusterRoleSelectors", json::array());
      json rules = json::array();
      for (const auto& other : roles) {
        if (Meta(other, "name") == Meta(role, "name")) continue;
        bool match = false;
        for (const auto& sel : selectors) match = match || LabelSelectorMatches(sel, other);
        if (!match) continue;
        for (const auto& r : other.value("rules", json::array()))
          if (std::find(rules.begin(), rules.end(), r) == rules.end()) rules.push_back(r);
      }
      if (role.value("rules", json::array()) == rules) continue;
      json updated = role;
      updated["rules"] = rules;
      WriteContext ctx = Ctx("clusterrole-aggregation-controller");
      auto r = cluster_.Update(*t, "", Meta(role, "name"), updated, ctx);
      if (!r.ok()) dirty_ = true;
      // The write comes back as an event and marks the set dirty again, which handles
      // chains (view → edit → admin) one level per pass.
    }
  }

 private:
  Cluster& cluster_;
  bool dirty_ = false;
  bool scanned_ = false;
};

}  // namespace

bool LabelSelectorMatches(const json& selector, const json& object) {
  if (!selector.is_object()) return false;
  json labels = object.value("metadata", json::object()).value("labels", json::object());
  if (!labels.is_object()) labels = json::object();
  auto label = [&](const std::string& k) -> const json* {
    auto it = labels.find(k);
    return it == labels.end() ? nullptr : &*it;
  };
  const json& ml = selector.value("matchLabels", json::object());
  if (ml.is_object())
    for (const auto& [k, v] : ml.items()) {
      const json* l = label(k);
      if (!l || *l != v) return false;
    }
  const json& me = selector.value("matchExpressions", json::array());
  if (me.is_array())
    for (const auto& e : me) {
      if (!e.is_object()) return false;
      std::string op = e.value("operator", "");
      const json* l = label(e.value("key", ""));
      const json& values = e.value("values", json::array());
      bool in =
          l && values.is_array() && std::find(values.begin(), values.end(), *l) != values.end();
      if (op == "In" && !in) return false;
      if (op == "NotIn" && in) return false;
      if (op == "Exists" && !l) return false;
      if (op == "DoesNotExist" && l) return false;
      if (op != "In" && op != "NotIn" && op != "Exists" && op != "DoesNotExist") return false;
    }
  return true;
}

std::unique_ptr<Controller> NewServiceAccountController(Cluster& cluster, std::string ca_pem) {
  return std::make_unique<ServiceAccountController>(cluster, std::move(ca_pem));
}
std::unique_ptr<Controller> NewTokenController(Cluster& cluster, ServiceAccountTokens& tokens,
                                               std::string ca_pem) {
  return std::make_unique<TokenController>(cluster, tokens, std::move(ca_pem));
}
std::unique_ptr<Controller> NewClusterRoleAggregationController(Cluster& cluster) {
  return std::make_unique<ClusterRoleAggregationController>(cluster);
}

}  // namespace shardwise::kubesim
