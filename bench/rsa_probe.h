// What one RSA private-key operation costs on this machine right now. Every enrollment needs three on the gateway
// (decrypt the envelope's key, sign the certificate, sign the CertRep), so this figure is the floor under the
// server's CPU per enrollment; printing it beside the result makes figures from different (or busier) VMs
// comparable.
#pragma once

#include <optional>

#include <openssl/evp.h>

namespace bench {

// Microseconds per PKCS#1 v1.5 SHA-256 signature with `key` (an RSA private key), on the calling thread, averaged
// over `rounds` after a short warm-up. nullopt if a signature fails.
[[nodiscard]] std::optional<double> RsaPrivateOpMicros(EVP_PKEY* key, int rounds);

}  // namespace bench
