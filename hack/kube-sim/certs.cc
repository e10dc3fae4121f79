#include "hack/kube-sim/certs.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <ctime>
#include <memory>

namespace shardwise::kubesim {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> CertPem(X509* cert) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(bio.get(), cert)) return Status::Internal("PEM_write_bio_X509 failed");
  return BioString(bio.get());
}

Result<std::string> KeyPem(EVP_PKEY* key) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr))
    return Status::Internal("PEM_write_bio_PrivateKey failed");
  return BioString(bio.get());
}

bool AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

Owned<X509> NewCert(EVP_PKEY* subject_key, const std::string& cn, long serial) {
  Owned<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 365);
  X509_set_pubkey(cert.get(), subject_key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

Result<Owned<EVP_PKEY>> ReadKey(const std::string& pem) {
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (!key) return Status::InvalidArgument("bad private key PEM");
  return Owned<EVP_PKEY>(key);
}

Result<Owned<X509>> ReadCert(const std::string& pem) {
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (!cert) return Status::InvalidArgument("bad certificate PEM");
  return Owned<X509>(cert);
}

Result<CertKey> Pems(X509* cert, EVP_PKEY* key) {
  auto cert_pem = CertPem(cert);
  auto key_pem = KeyPem(key);
  if (!cert_pem.ok()) return cert_pem.status();
  if (!key_pem.ok()) return key_pem.status();
  return CertKey{cert_pem.value(), key_pem.value()};
}

long NextSerial() {
  static std::atomic<long> serial{static_cast<long>(time(nullptr)) * 1000};
  return ++serial;
}

}  // namespace

Result<CertKey> GenerateCa(const std::string& cn) {
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return Status::Internal("EC key generation failed");
  Owned<X509> ca = NewCert(key.get(), cn, NextSerial());
  X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
  if (!AddExt(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExt(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") ||
      !AddExt(ca.get(), ca.get(), NID_subject_key_identifier, "hash"))
    return Status::Internal("CA extensions failed");
  if (!X509_sign(ca.get(), key.get(), EVP_sha256())) return Status::Internal("CA signing failed");
  return Pems(ca.get(), key.get());
}

Result<CertKey> IssueCert(const CertKey& ca_pems, const CertSpec& spec) {
  auto ca = ReadCert(ca_pems.cert_pem);
  auto ca_key = ReadKey(ca_pems.key_pem);
  if (!ca.ok()) return ca.status();
  if (!ca_key.ok()) return ca_key.status();
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return Status::Internal("EC key generation failed");
  Owned<X509> cert = NewCert(key.get(), spec.cn, NextSerial());
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& o : spec.orgs)
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.value().get()));
  std::string san;
  for (const auto& ip : spec.ip_sans) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  for (const auto& dns : spec.dns_sans) san += (san.empty() ? "" : ",") + std::string("DNS:") + dns;
  if (!AddExt(cert.get(), ca.value().get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExt(cert.get(), ca.value().get(), NID_key_usage,
              "critical,digitalSignature,keyEncipherment") ||
      !AddExt(cert.get(), ca.value().get(), NID_ext_key_usage,
              spec.client ? "clientAuth" : "serverAuth") ||
      (!san.empty() && !AddExt(cert.get(), ca.value().get(), NID_subject_alt_name, san)))
    return Status::Internal("certificate extensions failed");
  if (!X509_sign(cert.get(), ca_key.value().get(), EVP_sha256()))
    return Status::Internal("certificate signing failed");
  return Pems(cert.get(), key.get());
}

}  // namespace shardwise::kubesim
