// Building the CA's certificate revocation list (RFC 5280 section 5).
#pragma once

#include <chrono>
#include <span>

#include "ca-backend/cert_issuer.h"

namespace ca {

// A v2 CRL issued by `ca`: lastUpdate now, nextUpdate now + next_update, one entry per revoked certificate with a
// reasonCode extension unless the reason is 0 (unspecified), a crlNumber (the current unix time, which only ever
// grows between two CRLs of one CA), the given authorityKeyIdentifier, signed with `key`. A serial that is not
// hex or a reason RFC 5280 does not define (7 is unused, beyond 10) is BadRequest.
[[nodiscard]] scep::Result<scep::UniquePtr<X509_CRL>> BuildCrl(const X509* ca, EVP_PKEY* key,
                                                               X509_EXTENSION* authority_key_id,
                                                               std::span<const RevokedCert> revoked,
                                                               std::chrono::seconds next_update);

}  // namespace ca
