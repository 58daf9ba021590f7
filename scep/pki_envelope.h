// The pkcsPKIEnvelope: CMS EnvelopedData with RSA key transport (PKCS#1 v1.5 or OAEP) and a CBC content cipher.
#pragma once

#include "scep/der.h"
#include "scep/result.h"

namespace scep {

struct DecryptedEnvelope {
  Bytes content;
  ContentCipher cipher{};  // what the sender used: the reply uses the same
};

struct EnvelopePolicy {
  bool allow_single_des = false;  // needs EnableSingleDes() as well
};

// Decrypts with the recipient (CA or RA) certificate and key. Malformed when the bytes are not EnvelopedData,
// BadAlg for a cipher or key transport we do not accept, BadMessageCheck when decryption fails (wrong recipient,
// corrupted data).
[[nodiscard]] Result<DecryptedEnvelope> DecryptPkiEnvelope(ByteView envelope, X509* recipient_cert,
                                                           EVP_PKEY* recipient_key, const EnvelopePolicy& policy);

// Encrypts content to one recipient certificate (RSA PKCS#1 v1.5 key transport) with the given cipher.
[[nodiscard]] Result<Bytes> EncryptPkiEnvelope(ByteView content, X509* recipient_cert, ContentCipher cipher);

}  // namespace scep
