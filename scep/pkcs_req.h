// The PKCS#10 certification request inside PKCSReq (19) and RenewalReq (17).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scep/der.h"
#include "scep/ossl_ptr.h"
#include "scep/result.h"

namespace scep {

struct SubjectAltNames {
  std::vector<std::string> dns, ip, email, uri;
  [[nodiscard]] bool empty() const { return dns.empty() && ip.empty() && email.empty() && uri.empty(); }
  [[nodiscard]] std::string ToString() const;  // "DNS:a.example,IP:10.0.0.1"
};

struct PublicKeyInfo {
  std::string type;   // "RSA", "EC", "ED25519", ...
  int bits = 0;
  std::string curve;  // EC group name ("prime256v1"), empty otherwise
};

struct CertificationRequest {
  UniquePtr<X509_REQ> req;
  Bytes der;
  std::string subject;                            // RFC 2253 one line
  std::optional<std::string> challenge_password;  // UTF-8, whatever string type carried it
  SubjectAltNames sans;
  std::optional<std::uint32_t> key_usage;         // requested keyUsage bits (X509v3_KU_*), if any
  // Requested extendedKeyUsage: OpenSSL's short names ("clientAuth", "serverAuth") or dotted OIDs for the rest.
  std::vector<std::string> extended_key_usage;
  PublicKeyInfo key;
};

// BadRequest when the bytes are not a PKCS#10 request, BadMessageCheck when its self-signature does not verify.
[[nodiscard]] Result<CertificationRequest> ParsePkcsReq(ByteView der);

}  // namespace scep
