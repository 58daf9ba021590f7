// GetCACaps: the capability keywords the server advertises (RFC 8894 section 3.5.2).
#pragma once

#include <string>

namespace scep {

struct CaCaps {
  bool post_pki_operation = true;
  bool renewal = true;
  bool sha1 = true;
  bool sha256 = true;
  bool sha512 = true;
  bool aes = true;
  bool des3 = true;
  bool scep_standard = true;
  bool get_next_ca_cert = false;  // only while a rollover CA exists
};

// One keyword per line, each ending in "\n". Case matters to clients.
[[nodiscard]] std::string CaCapsText(const CaCaps& caps);

inline constexpr const char* kCaCapsContentType = "text/plain";
inline constexpr const char* kCaCertContentType = "application/x-x509-ca-cert";        // one DER certificate
inline constexpr const char* kCaRaCertContentType = "application/x-x509-ca-ra-cert";   // certs-only PKCS#7
inline constexpr const char* kPkiMessageContentType = "application/x-pki-message";

}  // namespace scep
