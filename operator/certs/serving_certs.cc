#include "operator/certs/serving_certs.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/base64.h"
#include "common/log/log.h"

namespace shardwise::certs {
namespace {

using nlohmann::json;

const kube::GroupVersionResource kApiServices{"apiregistration.k8s.io", "v1", "apiservices"};

std::string SecretKey(const json& secret, const char* key) {
  const json& data = secret.value("data", json::object());
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) return "";
  auto decoded = Base64Decode(it->get<std::string>());
  return decoded.ok() ? *decoded : "";
}

// The certificate PEM blocks of `bundle`, in order.
std::vector<std::string> SplitPem(const std::string& bundle) {
  std::vector<std::string> out;
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  size_t pos = 0;
  while (true) {
    size_t b = bundle.find("-----BEGIN CERTIFICATE-----", pos);
    if (b == std::string::npos) break;
    size_t e = bundle.find(kEnd, b);
    if (e == std::string::npos) break;
    out.push_back(bundle.substr(b, e + kEnd.size() - b) + "\n");
    pos = e + kEnd.size();
  }
  return out;
}

// When a certificate is due: `fraction` of its lifetime before it expires (whole seconds).
Clock::time_point RenewAt(const CertificateInfo& info, double fraction) {
  auto lifetime =
      std::chrono::duration_cast<std::chrono::seconds>(info.not_after - info.not_before);
  return info.not_after -
         std::chrono::seconds(std::llround(static_cast<double>(lifetime.count()) * fraction));
}

bool NeedsRenewal(const CertificateInfo& info, Clock::time_point now, double fraction) {
  return now >= RenewAt(info, fraction);
}

Status WriteFileAtomically(const std::string& path, const std::string& content, bool secret) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Status::IOError("cannot write " + tmp);
    f << content;
    if (!f.flush()) return Status::IOError("cannot write " + tmp);
  }
  if (secret) ::chmod(tmp.c_str(), 0600);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::IOError("rename " + tmp + ": " + ec.message());
  return Status::OK();
}

}  // namespace

std::vector<std::string> ServiceDnsNames(const std::string& service, const std::string& ns) {
  return {service, service + "." + ns, service + "." + ns + ".svc",
          service + "." + ns + ".svc.cluster.local"};
}

json BuildCaConfigMap(const std::string& ns, const std::string& ca_pem, const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           {{"name", name},
            {"namespace", ns},
            {"labels", {{"app.kubernetes.io/managed-by", "shardwise-operator"}}}}},
          {"data", {{kCaConfigMapKey, ca_pem}}}};
}

ServingCertificates::ServingCertificates(kube::Client& client, Options options)
    : client_(client), options_(std::move(options)) {}

std::string ServingCertificates::ca_bundle() const {
  std::lock_guard lock(mu_);
  return ca_bundle_;
}

Clock::time_point ServingCertificates::renew_at() const {
  std::lock_guard lock(mu_);
  return renew_at_;
}

Result<ServingCertificates::Material> ServingCertificates::ManagedMaterial(
    const kube::Object* secret, bool* write) {
  const Clock::time_point now = options_.now();
  Material m;
  if (secret) {
    m.cert = SecretKey(*secret, "tls.crt");
    m.key = SecretKey(*secret, "tls.key");
    m.ca_bundle = SecretKey(*secret, "ca.crt");
    m.ca_key = SecretKey(*secret, "ca.key");
    auto cas = SplitPem(m.ca_bundle);
    if (!cas.empty()) m.ca_cert = cas.front();  // the current CA comes first
  }
  *write = false;

  // The CA: keep it while it is sound and not due; otherwise a new one, trusted beside the old.
  bool ca_ok = !m.ca_cert.empty() && CheckKeyMatchesCertificate(m.ca_cert, m.ca_key).ok();
  if (ca_ok) {
    auto info = InspectCertificate(m.ca_cert);
    ca_ok = info.ok() && info->is_ca && !NeedsRenewal(*info, now, options_.renew_fraction);
  }
  if (!ca_ok) {
    auto ca = GenerateCa("shardwise-operator-ca@" + std::to_string(Clock::to_time_t(now)),
                         now - std::chrono::hours(1), now + options_.ca_validity);
    if (!ca.ok()) return ca.status();
    std::string bundle = ca->cert_pem;
    if (!m.ca_cert.empty()) {
      auto old = InspectCertificate(m.ca_cert);
      if (old.ok() && old->not_after > now) bundle += m.ca_cert;
    }
    log::Info("issued a new operator CA", {{"secret", options_.secret_name}});
    m.ca_cert = ca->cert_pem;
    m.ca_key = ca->key_pem;
    m.ca_bundle = bundle;
    m.cert.clear();  // the leaf must come from the new CA
    *write = true;
  }

  // The leaf: valid, from the current CA, with every wanted name, and not due.
  bool leaf_ok = !m.cert.empty() && CheckKeyMatchesCertificate(m.cert, m.key).ok() &&
                 VerifyCertificate(m.cert, m.ca_cert, now, Usage::kServer).ok();
  if (leaf_ok) {
    auto info = InspectCertificate(m.cert);
    leaf_ok = info.ok() && !NeedsRenewal(*info, now, options_.renew_fraction);
    for (const auto& want : options_.dns_names) {
      if (leaf_ok && std::find(info->dns_names.begin(), info->dns_names.end(), want) ==
                         info->dns_names.end()) {
        leaf_ok = false;
      }
    }
  }
  if (!leaf_ok) {
    CertificateRequest req;
    req.common_name = options_.dns_names.empty() ? "shardwise-operator" : options_.dns_names[0];
    req.dns_names = options_.dns_names;
    req.ip_addresses = options_.ip_addresses;
    req.usage = Usage::kServer;
    req.not_before = now - std::chrono::hours(1);
    req.not_after = now + options_.leaf_validity;
    auto leaf = IssueCertificate({m.ca_cert, m.ca_key}, req);
    if (!leaf.ok()) return leaf.status();
    log::Info("issued a new serving certificate", {{"secret", options_.secret_name}});
    m.cert = leaf->cert_pem;
    m.key = leaf->key_pem;
    *write = true;
  }
  return m;
}

Status ServingCertificates::Reconcile(bool* changed) {
  if (changed) *changed = false;
  auto got = client_.Get(kube::resources::kSecrets, options_.ns, options_.secret_name);
  if (!got.ok() && !got.error().IsNotFound()) return got.status().WithContext("read Secret");
  const kube::Object* secret = got.ok() ? &*got : nullptr;

  Material m;
  if (options_.user_provided) {
    if (!secret) {
      return Status::NotFound("TLS Secret " + options_.ns + "/" + options_.secret_name +
                              " does not exist");
    }
    m.cert = SecretKey(*secret, "tls.crt");
    m.key = SecretKey(*secret, "tls.key");
    m.ca_bundle = SecretKey(*secret, "ca.crt");
    SHARDWISE_RETURN_IF_ERROR(CheckKeyMatchesCertificate(m.cert, m.key)
                                  .WithContext("TLS Secret " + options_.secret_name));
  } else {
    bool write = false;
    auto mat = ManagedMaterial(secret, &write);
    if (!mat.ok()) return mat.status();
    m = std::move(mat).value();
    if (write) {
      json obj = {{"apiVersion", "v1"},
                  {"kind", "Secret"},
                  {"type", "kubernetes.io/tls"},
                  {"metadata",
                   {{"name", options_.secret_name},
                    {"namespace", options_.ns},
                    {"labels", {{"app.kubernetes.io/managed-by", "shardwise-operator"}}}}},
                  {"data",
                   {{"tls.crt", Base64Encode(m.cert)},
                    {"tls.key", Base64Encode(m.key)},
                    {"ca.crt", Base64Encode(m.ca_bundle)},
                    {"ca.key", Base64Encode(m.ca_key)}}}};
      if (secret) {
        obj["metadata"]["resourceVersion"] = (*secret)["metadata"].value("resourceVersion", "");
        auto r = client_.Update(kube::resources::kSecrets, options_.ns, obj);
        if (!r.ok()) return r.status().WithContext("update Secret " + options_.secret_name);
      } else {
        auto r = client_.Create(kube::resources::kSecrets, options_.ns, obj);
        if (!r.ok()) return r.status().WithContext("create Secret " + options_.secret_name);
      }
    }
  }

  SHARDWISE_RETURN_IF_ERROR(WriteFiles(m, changed));
  auto info = InspectCertificate(m.cert);
  {
    std::lock_guard lock(mu_);
    ca_bundle_ = m.ca_bundle;
    if (info.ok()) renew_at_ = RenewAt(*info, options_.renew_fraction);
  }
  if (m.ca_bundle.empty()) {
    log::Warn("the TLS Secret has no ca.crt: nothing to publish to scrapers and APIServices",
              {{"secret", options_.secret_name}});
    return Status::OK();
  }
  return Publish(m.ca_bundle);
}

Status ServingCertificates::WriteFiles(const Material& m, bool* changed) {
  std::lock_guard lock(mu_);
  if (m.cert == written_cert_ && m.key == written_key_ && m.ca_bundle == written_ca_) {
    return Status::OK();
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.cert_dir, ec);
  if (ec) return Status::IOError("create " + options_.cert_dir + ": " + ec.message());
  SHARDWISE_RETURN_IF_ERROR(WriteFileAtomically(options_.cert_dir + "/tls.key", m.key, true));
  SHARDWISE_RETURN_IF_ERROR(WriteFileAtomically(options_.cert_dir + "/tls.crt", m.cert, false));
  SHARDWISE_RETURN_IF_ERROR(WriteFileAtomically(options_.cert_dir + "/ca.crt", m.ca_bundle, false));
  written_cert_ = m.cert;
  written_key_ = m.key;
  written_ca_ = m.ca_bundle;
  if (changed) *changed = true;
  return Status::OK();
}

Status ServingCertificates::Publish(const std::string& ca_bundle) {
  auto cm = client_.Apply(kube::resources::kConfigMaps, options_.ns,
                          BuildCaConfigMap(options_.ns, ca_bundle, options_.ca_config_map),
                          "shardwise-operator", true);
  if (!cm.ok()) return cm.status().WithContext("apply ConfigMap " + options_.ca_config_map);
  std::string encoded = Base64Encode(ca_bundle);
  for (const auto& name : options_.api_services) {
    auto cur = client_.Get(kApiServices, "", name);
    if (!cur.ok()) {
      if (cur.error().IsNotFound()) continue;  // not installed (HPA mode unused)
      return cur.status().WithContext("read APIService " + name);
    }
    if ((*cur).value("spec", json::object()).value("caBundle", "") == encoded) continue;
    auto r = client_.Patch(kApiServices, "", name, kube::PatchType::kMerge,
                           {{"spec", {{"caBundle", encoded}, {"insecureSkipTLSVerify", false}}}});
    if (!r.ok()) return r.status().WithContext("patch APIService " + name);
    log::Info("injected the CA bundle into an APIService", {{"apiservice", name}});
  }
  return Status::OK();
}

}  // namespace shardwise::certs
