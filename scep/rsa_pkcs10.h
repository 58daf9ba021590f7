// A fast path for the common PKCS#10 request: an RSA key, encoded in DER.
//
// Why: OpenSSL 3.0's d2i_X509_REQ decodes the public key through the provider decoders, which costs ~200-300 us
// per request (as much as one RSA private-key operation). This path reads the fields with the plain ASN.1 codecs,
// decodes the RSA key with d2i_PublicKey (no decoder chain) and assembles the same X509_REQ. It accepts a request
// only when the assembled object re-encodes to exactly the input bytes; anything else (EC, RSA-PSS, BER, unusual
// encodings) returns nullptr and the caller falls back to d2i_X509_REQ, so the result never differs.
#pragma once

#include "scep/der.h"
#include "scep/ossl_ptr.h"

namespace scep {

// nullptr when the fast path does not apply; the caller then decodes with d2i_X509_REQ. Leaves no OpenSSL errors.
[[nodiscard]] UniquePtr<X509_REQ> DecodeRsaPkcs10(ByteView der);

}  // namespace scep
