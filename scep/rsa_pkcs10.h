// A fast path for the common PKCS#10 request: an RSA key, encoded in DER.
//
// Why: OpenSSL 3.0's d2i_X509_REQ decodes the public key through the provider decoders, which costs ~200-300 us
// per request (as much as one RSA private-key operation). This path reads the fields with the plain ASN.1 codecs,
// decodes the RSA key with d2i_PublicKey (no decoder chain) and assembles the same X509_REQ. It accepts a request
// only when the assembled object re-encodes to exactly the input bytes, or to them with the attributes in DER
// order (strongSwan lists them unsorted) when the signature is PKCS#1 v1.5 RSA; anything else (EC, RSA-PSS, BER,
// unusual encodings) returns nullptr and the caller falls back to d2i_X509_REQ.
//
// Because of the attribute order, the signature of a request from this path must be checked over the bytes as
// received (VerifyRsaPkcs10Signature), not with X509_REQ_verify, which would check our re-encoding.
#pragma once

#include <optional>

#include "scep/der.h"
#include "scep/ossl_ptr.h"

namespace scep {

// nullptr when the fast path does not apply; the caller then decodes with d2i_X509_REQ. Leaves no OpenSSL errors.
[[nodiscard]] UniquePtr<X509_REQ> DecodeRsaPkcs10(ByteView der);

// Checks the PKCS#1 v1.5 RSA signature (sha*WithRSAEncryption, md5WithRSAEncryption) of `req`, decoded from `der`,
// over its CertificationRequestInfo exactly as received in `der`, with the request's own public key. nullopt when
// the signature is of another kind, the key is not RSA or `der` is not one DER structure: then X509_REQ_verify
// decides (on an object from d2i_X509_REQ, or from DecodeRsaPkcs10 only when that encodes to `der` exactly).
// Leaves no OpenSSL errors.
[[nodiscard]] std::optional<bool> VerifyRsaPkcs10Signature(ByteView der, X509_REQ* req);

}  // namespace scep
