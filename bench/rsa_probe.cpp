#include "bench/rsa_probe.h"

#include <array>
#include <chrono>

#include <openssl/rsa.h>

#include "scep/ossl_ptr.h"

namespace bench {

std::optional<double> RsaPrivateOpMicros(EVP_PKEY* key, int rounds) {
  scep::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new(key, nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
    return std::nullopt;
  }
  const std::array<unsigned char, 32> digest{};
  std::array<unsigned char, 1024> signature{};
  auto sign = [&] {
    std::size_t length = signature.size();
    return EVP_PKEY_sign(ctx.get(), signature.data(), &length, digest.data(), digest.size()) == 1;
  };
  // The first operations set up Montgomery contexts and blinding; the gateway's steady state has them.
  for (int i = 0; i < 10; ++i) {
    if (!sign()) return std::nullopt;
  }
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) {
    if (!sign()) return std::nullopt;
  }
  const std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
  return elapsed.count() / rounds;
}

}  // namespace bench
