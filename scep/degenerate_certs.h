// Certs-only ("degenerate") PKCS#7 SignedData: no signers, just certificates and/or a CRL. GetCACert answers one
// for CA + RA certificates or a chain; a CertRep SUCCESS encrypts one holding the issued certificate or a CRL.
#pragma once

#include <span>
#include <vector>

#include "scep/der.h"
#include "scep/ossl_ptr.h"
#include "scep/result.h"

namespace scep {

[[nodiscard]] Result<Bytes> BuildDegenerateCerts(std::span<X509* const> certs, X509_CRL* crl = nullptr);

struct DegenerateContents {
  std::vector<UniquePtr<X509>> certs;
  std::vector<UniquePtr<X509_CRL>> crls;
};
// Malformed when the bytes are not a PKCS#7 SignedData.
[[nodiscard]] Result<DegenerateContents> ParseDegenerateCerts(ByteView der);

}  // namespace scep
