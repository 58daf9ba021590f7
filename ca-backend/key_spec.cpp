#include "ca-backend/key_spec.h"

#include <array>
#include <utility>

namespace ca {
namespace {

constexpr std::array<std::pair<KeySpec, std::string_view>, 5> kNames{{
    {KeySpec::Rsa2048, "rsa:2048"},
    {KeySpec::Rsa3072, "rsa:3072"},
    {KeySpec::Rsa4096, "rsa:4096"},
    {KeySpec::EcP256, "ec:p256"},
    {KeySpec::EcP384, "ec:p384"},
}};

}  // namespace

std::optional<KeySpec> ParseKeySpec(std::string_view text) {
  for (const auto& [spec, name] : kNames) {
    if (name == text) return spec;
  }
  return std::nullopt;
}

std::string to_string(KeySpec spec) {
  for (const auto& [s, name] : kNames) {
    if (s == spec) return std::string(name);
  }
  return "unknown(" + std::to_string(static_cast<int>(spec)) + ")";
}

scep::Result<scep::UniquePtr<EVP_PKEY>> GenerateKey(KeySpec spec) {
  EVP_PKEY* key = nullptr;
  switch (spec) {
    case KeySpec::Rsa2048: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}); break;
    case KeySpec::Rsa3072: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{3072}); break;
    case KeySpec::Rsa4096: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{4096}); break;
    case KeySpec::EcP256: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case KeySpec::EcP384: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); break;
  }
  if (key == nullptr) return scep::OpensslError(scep::ErrorCode::Internal, "cannot generate " + to_string(spec) + " key");
  return scep::UniquePtr<EVP_PKEY>(key);
}

const EVP_MD* SignatureDigest(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) return nullptr;
  if (EVP_PKEY_is_a(key, "EC")) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits > 384) return EVP_sha512();
    if (bits > 256) return EVP_sha384();
  }
  return EVP_sha256();
}

bool CanDecrypt(const EVP_PKEY* key) { return EVP_PKEY_is_a(key, "RSA"); }

}  // namespace ca
