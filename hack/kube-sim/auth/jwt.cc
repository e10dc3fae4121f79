#include "hack/kube-sim/auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "common/base64.h"

namespace shardwise::kubesim {

struct JwtKey::Impl {
  EVP_PKEY* key = nullptr;
  ~Impl() { EVP_PKEY_free(key); }
};

JwtKey::JwtKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JwtKey::~JwtKey() = default;

Result<std::shared_ptr<JwtKey>> JwtKey::Generate() {
  auto impl = std::make_unique<Impl>();
  impl->key = EVP_RSA_gen(2048);
  if (!impl->key) return Status::Internal("RSA key generation failed");
  BIO* bio = BIO_new(BIO_s_mem());
  if (!PEM_write_bio_PUBKEY(bio, impl->key)) {
    BIO_free(bio);
    return Status::Internal("PEM_write_bio_PUBKEY failed");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  std::shared_ptr<JwtKey> key(new JwtKey(std::move(impl)));
  key->public_pem_ = pem;
  // A key id derived from the public key, as kube-apiserver does (hash of the DER key).
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(pem.data()), pem.size(), digest);
  key->kid_ = Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
  return key;
}

std::string JwtKey::Sign(const json& claims) const {
  json header = {{"alg", "RS256"}, {"kid", kid_}};
  std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string sig;
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, impl_->key) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) == 1) {
    sig.resize(len);
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1)
      sig.resize(len);
    else
      sig.clear();
  }
  EVP_MD_CTX_free(ctx);
  return input + "." + Base64UrlEncode(sig);
}

Result<json> JwtKey::Verify(std::string_view token) const {
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return Status::InvalidArgument("not a JWT");
  auto header = Base64UrlDecode(token.substr(0, d1));
  auto claims = Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1));
  auto sig = Base64UrlDecode(token.substr(d2 + 1));
  if (!header.ok() || !claims.ok() || !sig.ok()) return Status::InvalidArgument("not a JWT");
  json h = json::parse(header.value(), nullptr, false);
  if (!h.is_object() || h.value("alg", json()) != "RS256")
    return Status::InvalidArgument("unsupported JWT header");
  std::string_view input = token.substr(0, d2);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, impl_->key) == 1 &&
            EVP_DigestVerify(
                ctx, reinterpret_cast<const unsigned char*>(sig.value().data()), sig.value().size(),
                reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return Status::InvalidArgument("invalid signature");
  json c = json::parse(claims.value(), nullptr, false);
  if (!c.is_object()) return Status::InvalidArgument("claims are not a JSON object");
  return c;
}

}  // namespace shardwise::kubesim
