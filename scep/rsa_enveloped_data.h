// A fast path for CMS_decrypt of the common pkcsPKIEnvelope: DER EnvelopedData, key transport to our certificate by
// issuerAndSerialNumber with RSA PKCS#1 v1.5, a CBC content cipher we know.
//
// Why: d2i_CMS_ContentInfo and CMS_decrypt cost ~44 us per request besides the RSA operation (ASN.1 objects, provider
// fetches, BIO chains). This path reads the DER in place, unwraps the key with EVP_PKEY_decrypt and decrypts the
// content with the cached cipher. It takes only what both d2i_PKCS7 and d2i_CMS_ContentInfo would decode the same
// way; anything else (indefinite lengths, originatorInfo, subjectKeyIdentifier or non-RSA recipients, OAEP, unknown ciphers, an
// odd IV, trailing bytes, no recipient naming our certificate) yields nullopt and the caller takes the CMS path.
#pragma once

#include <optional>

#include "scep/der.h"
#include "scep/ossl_ptr.h"

namespace scep {

// The parts of the EnvelopedData the decryption needs; the views point into the caller's bytes.
struct RsaEnvelope {
  int cipher_nid = 0;  // contentEncryptionAlgorithm: one of CipherFromNid's
  ByteView iv;         // its parameters (length not checked yet: that depends on the cipher)
  ByteView encrypted_key;
  Bytes encrypted_content;  // a copy: a constructed encryptedContent comes in segments
};

// nullopt unless the fast path applies (see above). Leaves no OpenSSL errors.
[[nodiscard]] std::optional<RsaEnvelope> ReadRsaEnvelope(ByteView der, X509* recipient_cert);

// True when `cipher` fits the envelope: IV of the cipher's length, content a non-empty whole number of blocks.
[[nodiscard]] bool FitsCipher(const RsaEnvelope& envelope, const EVP_CIPHER* cipher);

// Decrypts as CMS_decrypt does when given the recipient certificate: an unwrapped key that fails its PKCS#1 check or
// has the wrong length is replaced by a random one, so that the only failure a sender can observe is the content's
// padding check (no Bleichenbacher oracle beyond what CMS_decrypt offers). nullopt when that check fails.
[[nodiscard]] std::optional<Bytes> DecryptRsaEnvelope(const RsaEnvelope& envelope, const EVP_CIPHER* cipher,
                                                      EVP_PKEY* recipient_key);

}  // namespace scep
