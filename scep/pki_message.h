// A pkiMessage (RFC 8894 section 3.2): SignedData carrying SCEP's signed attributes around a pkcsPKIEnvelope.
#pragma once

#include <optional>
#include <string>

#include "scep/signed_data.h"

namespace scep {

struct PkiMessage {
  SignedData signed_data;        // signer certificate, digest, content (the EnvelopedData DER, if any)
  MessageType message_type{};
  std::string transaction_id;
  Bytes sender_nonce;
  Bytes recipient_nonce;         // CertRep only
  std::optional<PkiStatus> pki_status;   // CertRep only
  std::optional<FailInfo> fail_info;     // CertRep FAILURE only
  std::string fail_info_text;            // optional, CertRep FAILURE only

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
