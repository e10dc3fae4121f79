#include "operator/certs/pki.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

namespace shardwise::certs {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

std::string OpenSslError(std::string_view what) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  char buf[256] = {};
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  return std::string(what) + (e != 0 ? std::string(": ") + buf : std::string());
}

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

Owned<BIO> ReadBio(std::string_view pem) {
  return Owned<BIO>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

Result<Owned<X509>> ParseCert(std::string_view pem) {
  if (pem.empty()) return Status::InvalidArgument("certificate: empty");
  Owned<BIO> bio = ReadBio(pem);
  Owned<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Status::InvalidArgument(OpenSslError("certificate: not a PEM certificate"));
  return cert;
}

Result<Owned<EVP_PKEY>> ParseKey(std::string_view pem) {
  if (pem.empty()) return Status::InvalidArgument("private key: empty");
  Owned<BIO> bio = ReadBio(pem);
  Owned<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Status::InvalidArgument(OpenSslError("private key: not a PEM private key"));
  return key;
}

Result<std::string> CertPem(X509* cert) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(bio.get(), cert)) return Status::Internal(OpenSslError("PEM write"));
  return BioString(bio.get());
}

Result<std::string> KeyPem(EVP_PKEY* key) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr))
    return Status::Internal(OpenSslError("PEM key write"));
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

bool AddNameEntry(X509_NAME* name, const char* field, const std::string& value) {
  return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                    0) == 1;
}

// A certificate with a random serial, validity and subject; extensions and signature follow.
Result<Owned<X509>> NewCert(EVP_PKEY* subject_key, const std::string& cn,
                            const std::vector<std::string>& orgs, Clock::time_point not_before,
                            Clock::time_point not_after) {
  if (not_after <= not_before) return Status::InvalidArgument("certificate: empty validity");
  Owned<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return Status::Internal("RAND_bytes failed");
  serial[0] &= 0x7f;  // positive
  Owned<BIGNUM> bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())))
    return Status::Internal("serial number failed");
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), Clock::to_time_t(not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), Clock::to_time_t(not_after));
  X509_set_pubkey(cert.get(), subject_key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& o : orgs) {
    if (!AddNameEntry(name, "O", o)) return Status::InvalidArgument("certificate: bad O " + o);
  }
  if (!AddNameEntry(name, "CN", cn)) return Status::InvalidArgument("certificate: bad CN " + cn);
  return cert;
}

Clock::time_point FromAsn1(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return Clock::time_point{};
  return Clock::from_time_t(timegm(&tm));
}

// DNS names and IP literals only: a comma or colon would add SAN entries of its own.
bool ValidSanValue(const std::string& v, bool ip) {
  if (v.empty() || v.size() > 253) return false;
  for (char c : v) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || (!ip && c == '*') || (ip && c == ':');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<KeyPair> GenerateCa(const std::string& common_name, Clock::time_point not_before,
                           Clock::time_point not_after) {
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return Status::Internal(OpenSslError("EC key generation"));
  auto cert_or = NewCert(key.get(), common_name, {}, not_before, not_after);
  if (!cert_or.ok()) return cert_or.status();
  Owned<X509> cert = std::move(cert_or).value();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  if (!AddExt(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExt(cert.get(), cert.get(), NID_key_usage,
              "critical,keyCertSign,cRLSign,digitalSignature") ||
      !AddExt(cert.get(), cert.get(), NID_subject_key_identifier, "hash"))
    return Status::Internal(OpenSslError("CA extensions"));
  if (!X509_sign(cert.get(), key.get(), EVP_sha256()))
    return Status::Internal(OpenSslError("CA signing"));
  auto cert_pem = CertPem(cert.get());
  auto key_pem = KeyPem(key.get());
  if (!cert_pem.ok()) return cert_pem.status();
  if (!key_pem.ok()) return key_pem.status();
  return KeyPair{*cert_pem, *key_pem};
}

Result<KeyPair> IssueCertificate(const KeyPair& ca, const CertificateRequest& req) {
  auto ca_cert = ParseCert(ca.cert_pem);
  if (!ca_cert.ok()) return ca_cert.status().WithContext("CA");
  auto ca_key = ParseKey(ca.key_pem);
  if (!ca_key.ok()) return ca_key.status().WithContext("CA");
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return Status::Internal(OpenSslError("EC key generation"));
  auto cert_or =
      NewCert(key.get(), req.common_name, req.organizations, req.not_before, req.not_after);
  if (!cert_or.ok()) return cert_or.status();
  Owned<X509> cert = std::move(cert_or).value();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert->get()));
  std::string san;
  for (const auto& ip : req.ip_addresses) {
    if (!ValidSanValue(ip, true)) return Status::InvalidArgument("bad IP address SAN: " + ip);
  }
  for (const auto& dns : req.dns_names) {
    if (!ValidSanValue(dns, false)) return Status::InvalidArgument("bad DNS SAN: " + dns);
  }
  for (const auto& ip : req.ip_addresses) san += (san.empty() ? "IP:" : ",IP:") + ip;
  for (const auto& dns : req.dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + dns;
  bool server = req.usage == Usage::kServer;
  if (!AddExt(cert.get(), ca_cert->get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExt(cert.get(), ca_cert->get(), NID_key_usage,
              "critical,digitalSignature,keyEncipherment") ||
      !AddExt(cert.get(), ca_cert->get(), NID_ext_key_usage,
              server ? "serverAuth" : "clientAuth") ||
      !AddExt(cert.get(), ca_cert->get(), NID_authority_key_identifier, "keyid:always") ||
      (!san.empty() && !AddExt(cert.get(), ca_cert->get(), NID_subject_alt_name, san)))
    return Status::InvalidArgument(OpenSslError("certificate extensions (SANs " + san + ")"));
  if (!X509_sign(cert.get(), ca_key->get(), EVP_sha256()))
    return Status::Internal(OpenSslError("certificate signing"));
  auto cert_pem = CertPem(cert.get());
  auto key_pem = KeyPem(key.get());
  if (!cert_pem.ok()) return cert_pem.status();
  if (!key_pem.ok()) return key_pem.status();
  return KeyPair{*cert_pem, *key_pem};
}

Result<CertificateInfo> InspectCertificate(std::string_view pem) {
  auto cert = ParseCert(pem);
  if (!cert.ok()) return cert.status();
  CertificateInfo info;
  X509_NAME* name = X509_get_subject_name(cert->get());
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(e);
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                      static_cast<size_t>(ASN1_STRING_length(data)));
    if (nid == NID_commonName) info.common_name = value;
    if (nid == NID_organizationName) info.organizations.push_back(value);
  }
  Owned<GENERAL_NAMES> sans(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert->get(), NID_subject_alt_name, nullptr, nullptr)));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
      if (gn->type != GEN_DNS) continue;
      const ASN1_STRING* s = gn->d.dNSName;
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                  static_cast<size_t>(ASN1_STRING_length(s)));
    }
  }
  info.not_before = FromAsn1(X509_get0_notBefore(cert->get()));
  info.not_after = FromAsn1(X509_get0_notAfter(cert->get()));
  info.is_ca = X509_check_ca(cert->get()) > 0;
  return info;
}

Status VerifyCertificate(std::string_view cert_pem, std::string_view ca_bundle_pem,
                         Clock::time_point at, Usage usage) {
  auto cert = ParseCert(cert_pem);
  if (!cert.ok()) return cert.status();
  Owned<X509_STORE> store(X509_STORE_new());
  Owned<BIO> bio = ReadBio(ca_bundle_pem);
  int cas = 0;
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store.get(), ca);
    X509_free(ca);
    ++cas;
  }
  ERR_clear_error();  // the loop ends on "no start line"
  if (cas == 0) return Status::InvalidArgument("CA bundle: no PEM certificate");
  Owned<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr))
    return Status::Internal(OpenSslError("X509_STORE_CTX_init"));
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, Clock::to_time_t(at));
  X509_VERIFY_PARAM_set_purpose(
      param, usage == Usage::kServer ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    return Status::FailedPrecondition(std::string("certificate not verified: ") +
                                      X509_verify_cert_error_string(err));
  }
  return Status::OK();
}

Status CheckKeyMatchesCertificate(std::string_view cert_pem, std::string_view key_pem) {
  auto cert = ParseCert(cert_pem);
  if (!cert.ok()) return cert.status();
  auto key = ParseKey(key_pem);
  if (!key.ok()) return key.status();
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("private key does not match the certificate");
  }
  return Status::OK();
}

}  // namespace shardwise::certs
