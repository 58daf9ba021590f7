// The CertRep's two CMS layers written directly as DER when the keys are RSA, without OpenSSL's CMS objects.
//
// Why: building them with CMS_sign/CMS_final and CMS_encrypt costs ~130 us per CertRep besides the RSA operations
// (ASN.1 object trees, provider fetches, re-encodings). These writers produce what that code produces (same
// structure, order and algorithm encodings, canonical DER) for the cases the gateway meets: an RSA signer or
// recipient, data content, string-valued SCEP attributes. For anything else they return nullopt and the caller uses
// the CMS code, so the accepted inputs and the errors never change.
#pragma once

#include <optional>
#include <span>

#include "scep/der.h"
#include "scep/signed_data.h"

namespace scep {

// ContentInfo { id-signedData, SignedData } over `content` (id-data), signed with PKCS#1 v1.5 over the signed
// attributes (contentType, signingTime, messageDigest and `attributes`). nullopt when the signer key is not RSA or
// does not match the certificate, when extra_certs hold a duplicate, when an attribute is not a plain string or
// repeats a CMS attribute, or when anything fails. Leaves no OpenSSL errors when it returns nullopt.
[[nodiscard]] std::optional<Bytes> WriteRsaSignedData(ByteView content, const SigningKey& signer, const EVP_MD* md,
                                                      std::span<const SignedAttribute> attributes,
                                                      std::span<X509* const> extra_certs);

// ContentInfo { id-envelopedData, EnvelopedData } of `content` for one recipient whose certificate holds an RSA key
// (key transport with PKCS#1 v1.5, fresh key and IV, CBC with PKCS#7 padding). nullopt when the recipient key is
// not RSA or anything fails. Leaves no OpenSSL errors when it returns nullopt.
[[nodiscard]] std::optional<Bytes> WriteRsaEnvelopedData(ByteView content, X509* recipient_cert,
                                                         const EVP_CIPHER* cipher);

}  // namespace scep
