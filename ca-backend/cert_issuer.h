// The interface every CA backend implements, and the plain data it exchanges with the gateway.
//
// Backends: the embedded CA now; an upstream SCEP CA, CFSSL and an external command later. The gateway holds a
// CertIssuer and never knows which one it has; policy (challenge checks, rate limits) wraps it, not flags inside it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "scep/ossl_ptr.h"
#include "scep/result.h"

namespace ca {

// What the CA puts in an issued certificate besides subject, subjectAltName and public key.
struct CertTemplate {
  int validity_days = 365;
  // Names as in RFC 5280 / OpenSSL config: digitalSignature, nonRepudiation, keyEncipherment, ...
  std::vector<std::string> key_usage{"digitalSignature", "keyEncipherment"};
  // Short names (serverAuth, clientAuth, ipsecIKE, ...) or dotted OIDs.
  std::vector<std::string> extended_key_usage{"clientAuth"};
  std::vector<std::string> crl_distribution_points;  // URLs
  std::vector<std::string> ca_issuers_urls;          // AIA caIssuers URLs
  // Set by policy. Each pair replaces every RDN of that type in the CSR's subject (keeping the position of the
  // first one) or, when the subject has none, is appended: {"O", "Example"}. Types as in distinguished_name.h.
  std::vector<std::pair<std::string, std::string>> force_subject;
  // Set by policy: the subjectAltName to issue instead of the CSR's ("DNS:a.example", "IP:10.0.0.1",
  // "email:a@b", "URI:https://x"); an empty list issues none. nullopt = copy the CSR's extension as it is.
  std::optional<std::vector<std::string>> subject_alt_names;
};

struct RevokedCert {
  std::string serial_hex;      // as printed by scep::SerialHex
  std::int64_t revoked_at = 0;  // unix seconds
  int reason = 0;               // RFC 5280 CRLReason code; 0 (unspecified) adds no reasonCode extension
};

// Who speaks SCEP for this CA: the key that decrypts requests, the key that signs CertReps, and what GetCACert
// publishes. Separate roles, as the decrypting identity need not be the signing one.
struct ScepIdentity {
  scep::UniquePtr<X509> decrypt_cert;
  scep::UniquePtr<EVP_PKEY> decrypt_key;
  scep::UniquePtr<X509> sign_cert;
  scep::UniquePtr<EVP_PKEY> sign_key;
  std::vector<scep::UniquePtr<X509>> published;  // [CA] in CA-only mode; [CA, RA] when an RA is used
};

class CertIssuer {
 public:
  virtual ~CertIssuer() = default;

  virtual const X509* ca_cert() const = 0;

  // Thread-safe. The CSR's signature has already been verified by the caller; subject, public key and the
  // subjectAltName extension come from it, everything else from the template.
  [[nodiscard]] virtual scep::Result<scep::UniquePtr<X509>> Issue(const X509_REQ* csr, const CertTemplate& tmpl) = 0;

  // Thread-safe. A v2 CRL listing `revoked`, valid for `next_update` from now.
  [[nodiscard]] virtual scep::Result<scep::UniquePtr<X509_CRL>> MakeCrl(std::span<const RevokedCert> revoked,
                                                                        std::chrono::seconds next_update) = 0;

  virtual const ScepIdentity& scep_identity() const = 0;
};

}  // namespace ca
