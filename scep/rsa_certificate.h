// A fast path for the common X.509 certificate: an RSA key, encoded in DER.
//
// Why: OpenSSL 3.0's d2i_X509 decodes the public key through the provider decoders, which costs ~200-300 us per
// certificate (as much as one RSA private-key operation), and every pkiMessage carries the requester's signer
// certificate. This path reads the fields with the plain ASN.1 codecs, decodes the RSA key with d2i_PublicKey and
// assembles the same X509. It accepts a certificate only when the assembled object re-encodes to exactly the input
// bytes, so its tbsCertificate (what the issuer signed) is the input's; anything else (EC, RSA-PSS keys, unique IDs,
// BER, unusual encodings) returns nullptr and the caller falls back to d2i_X509, so the result never differs.
#pragma once

#include "scep/der.h"
#include "scep/ossl_ptr.h"

namespace scep {

// nullptr when the fast path does not apply; the caller then decodes with d2i_X509. Leaves no OpenSSL errors.
[[nodiscard]] UniquePtr<X509> DecodeRsaCertificate(ByteView der);

}  // namespace scep
