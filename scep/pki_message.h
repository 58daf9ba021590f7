// A pkiMessage (RFC 8894 section 3.2): SignedData carrying SCEP's signed attributes around a pkcsPKIEnvelope.
#pragma once

#include <optional>
#include <string>

#include "scep/scep_attributes.h"
#include "scep/signed_data.h"

namespace scep {

// The SCEP attributes as read from the message (the same fields a builder writes), plus the SignedData they came in.
struct PkiMessage : ScepAttributeValues {
  SignedData signed_data;  // signer certificate, digest, content (the EnvelopedData DER, if any)

  [[nodiscard]] X509* signer_cert() const { return signed_data.signer_cert; }
  [[nodiscard]] const Bytes& envelope() const { return signed_data.content; }
};

// Parses the SignedData and reads the SCEP attributes. Malformed when this is not a pkiMessage at all (the caller
// answers HTTP 400): not SignedData, no signer certificate, missing or unknown messageType, missing transactionID.
// The signature is NOT checked here: call VerifyPkiMessage, whose failure deserves a signed FAILURE reply that
// needs the attributes read here.
[[nodiscard]] Result<PkiMessage> ParsePkiMessage(ByteView der);

// BadMessageCheck or BadAlg when the signature, messageDigest or contentType attribute do not hold.
[[nodiscard]] Result<void> VerifyPkiMessage(PkiMessage& message);

}  // namespace scep
