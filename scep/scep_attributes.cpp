#include "scep/scep_attributes.h"

#include <openssl/rand.h>

#include "scep/scep_oids.h"

namespace scep {
namespace {

Bytes Decimal(int value) {
  const std::string s = std::to_string(value);
  return Bytes(s.begin(), s.end());
}

}  // namespace

std::vector<SignedAttribute> MakeScepAttributes(const ScepAttributeValues& v) {
  std::vector<SignedAttribute> attrs;
  attrs.push_back({oids::MessageType(), V_ASN1_PRINTABLESTRING, Decimal(static_cast<int>(v.message_type))});
  attrs.push_back({oids::TransactionId(), V_ASN1_PRINTABLESTRING, Bytes(v.transaction_id.begin(), v.transaction_id.end())});
  if (!v.sender_nonce.empty()) attrs.push_back({oids::SenderNonce(), V_ASN1_OCTET_STRING, v.sender_nonce});
  if (!v.recipient_nonce.empty()) attrs.push_back({oids::RecipientNonce(), V_ASN1_OCTET_STRING, v.recipient_nonce});
  if (v.pki_status) {
    attrs.push_back({oids::PkiStatus(), V_ASN1_PRINTABLESTRING, Decimal(static_cast<int>(*v.pki_status))});
  }
  if (v.fail_info) {
    attrs.push_back({oids::FailInfo(), V_ASN1_PRINTABLESTRING, Decimal(static_cast<int>(*v.fail_info))});
  }
  if (!v.fail_info_text.empty()) {
    attrs.push_back({oids::FailInfoText(), V_ASN1_UTF8STRING, Bytes(v.fail_info_text.begin(), v.fail_info_text.end())});
  }
  return attrs;
}

Result<Bytes> MakeNonce() {
  Bytes nonce(16);
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    return OpensslError(ErrorCode::Internal, "no random bytes for a nonce");
  }
  return nonce;
}

}  // namespace scep
