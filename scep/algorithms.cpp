#include "scep/algorithms.h"

#include <array>
#include <mutex>

#include <openssl/objects.h>
#include <openssl/provider.h>

#include "scep/ossl_ptr.h"

namespace scep {
namespace {

struct AlgorithmCache {
  std::mutex mutex;  // guards everything below
  std::array<UniquePtr<EVP_CIPHER>, 5> ciphers;
  std::array<UniquePtr<EVP_MD>, 6> digests;
  UniquePtr<OSSL_PROVIDER> legacy;
  UniquePtr<OSSL_PROVIDER> default_provider;
};

// Never destroyed on purpose: OpenSSL cleans itself up in an atexit handler, and freeing fetched algorithms or
// providers after that crashes. The process exit releases the memory.
AlgorithmCache& Cache() {
  static AlgorithmCache* cache = new AlgorithmCache;
  return *cache;
}

}  // namespace

std::optional<ContentCipher> CipherFromNid(int nid) {
  switch (nid) {
    case NID_des_cbc: return ContentCipher::DesCbc;
    case NID_des_ede3_cbc: return ContentCipher::DesEde3Cbc;
    case NID_aes_128_cbc: return ContentCipher::Aes128Cbc;
    case NID_aes_192_cbc: return ContentCipher::Aes192Cbc;
    case NID_aes_256_cbc: return ContentCipher::Aes256Cbc;
    default: return std::nullopt;
  }
}

std::optional<Digest> DigestFromNid(int nid) {
  switch (nid) {
    case NID_md5: return Digest::Md5;
    case NID_sha1: return Digest::Sha1;
    case NID_sha224: return Digest::Sha224;
    case NID_sha256: return Digest::Sha256;
    case NID_sha384: return Digest::Sha384;
    case NID_sha512: return Digest::Sha512;
    default: return std::nullopt;
  }
}

const EVP_CIPHER* FetchCipher(ContentCipher cipher) {
  auto& c = Cache();
  std::lock_guard lock(c.mutex);
  auto& slot = c.ciphers.at(static_cast<std::size_t>(cipher));
  if (!slot) slot.reset(EVP_CIPHER_fetch(nullptr, OpensslName(cipher), nullptr));
  return slot.get();
}

const EVP_MD* FetchDigest(Digest digest) {
  auto& c = Cache();
  std::lock_guard lock(c.mutex);
  auto& slot = c.digests.at(static_cast<std::size_t>(digest));
  if (!slot) slot.reset(EVP_MD_fetch(nullptr, OpensslName(digest), nullptr));
  return slot.get();
}

Result<void> EnableSingleDes() {
  auto& c = Cache();
  std::lock_guard lock(c.mutex);
  if (c.legacy) return {};
  // Loading any provider explicitly stops OpenSSL from loading "default" implicitly, so load both.
  c.default_provider.reset(OSSL_PROVIDER_load(nullptr, "default"));
  if (!c.default_provider) return OpensslError(ErrorCode::Internal, "cannot load OpenSSL's default provider");
  c.legacy.reset(OSSL_PROVIDER_load(nullptr, "legacy"));
  if (!c.legacy) return OpensslError(ErrorCode::Internal, "cannot load OpenSSL's legacy provider (needed for DES)");
  return {};
}

bool SingleDesEnabled() {
  auto& c = Cache();
  std::lock_guard lock(c.mutex);
  return c.legacy != nullptr;
}

}  // namespace scep
