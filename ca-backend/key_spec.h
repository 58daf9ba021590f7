// Which kind of key the CA (or a test) generates, and the signature digest that goes with a key.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "scep/ossl_ptr.h"
#include "scep/result.h"

namespace ca {

enum class KeySpec { Rsa2048, Rsa3072, Rsa4096, EcP256, EcP384 };

// "rsa:2048" "rsa:3072" "rsa:4096" "ec:p256" "ec:p384"; anything else is nullopt.
std::optional<KeySpec> ParseKeySpec(std::string_view text);
// The inverse of ParseKeySpec; never throws ("unknown(7)").
std::string to_string(KeySpec spec);

[[nodiscard]] scep::Result<scep::UniquePtr<EVP_PKEY>> GenerateKey(KeySpec spec);

// The digest a CA signs with for this key: SHA-256 for RSA and P-256, SHA-384 for P-384, SHA-512 for larger
// curves, nullptr for EdDSA keys (which hash internally). Returns a static OpenSSL object, never owned.
const EVP_MD* SignatureDigest(const EVP_PKEY* key);

// RSA keys can receive SCEP's key transport; EC and EdDSA keys cannot, so they need an RSA RA beside them.
bool CanDecrypt(const EVP_PKEY* key);

}  // namespace ca
