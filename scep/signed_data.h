// CMS SignedData, the outer layer of every pkiMessage: parsing (DER or BER), verifying and signing.
// Knows nothing of SCEP's own attributes; pki_message.h and cert_rep.h build on it.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "scep/der.h"
#include "scep/ossl_ptr.h"
#include "scep/result.h"

namespace scep {

struct SignedData {
  UniquePtr<CMS_ContentInfo> cms;
  CMS_SignerInfo* signer_info = nullptr;  // borrowed from cms: the first (SCEP has exactly one) signer
  X509* signer_cert = nullptr;            // borrowed from cms: found by issuerAndSerialNumber or subjectKeyIdentifier
  int digest_nid = 0;
  std::optional<Digest> digest;           // nullopt: a digest we do not accept (verify answers badAlg)
  Bytes content;                          // the encapsulated content (empty when absent)
};

// Structure only: Malformed when the bytes are not a CMS SignedData with one signer whose certificate is inside.
[[nodiscard]] Result<SignedData> ParseSignedData(ByteView der);

// Signature over the signed attributes, messageDigest and contentType. BadAlg for an unsupported digest,
// BadMessageCheck when anything does not verify. The signer certificate's chain is not checked here.
[[nodiscard]] Result<void> VerifySignedData(SignedData& signed_data);

// The value of a signed attribute as raw string bytes (PrintableString, UTF8String, OCTET STRING, ...).
// nullopt if absent or not a string. Never throws, never allocates OpenSSL objects the caller must free.
[[nodiscard]] std::optional<Bytes> SignedAttributeBytes(const CMS_SignerInfo* si, const ASN1_OBJECT* oid);

struct SignedAttribute {
  const ASN1_OBJECT* oid;  // borrowed
  int asn1_type;           // V_ASN1_PRINTABLESTRING, V_ASN1_OCTET_STRING, V_ASN1_UTF8STRING
  Bytes value;
};

struct SigningKey {
  X509* cert = nullptr;     // borrowed
  EVP_PKEY* key = nullptr;  // borrowed
};

// Signs content (embedded, not detached) with the given SCEP attributes added to contentType, messageDigest and
// signingTime. RSA keys sign with PKCS#1 v1.5 and name the algorithm rsaEncryption (strongSwan insists on it).
// The signer certificate and extra_certs are included in the certificate set.
[[nodiscard]] Result<Bytes> BuildSignedData(ByteView content, const SigningKey& signer, Digest digest,
                                            std::span<const SignedAttribute> attributes,
                                            std::span<X509* const> extra_certs = {});

}  // namespace scep
