#include "scep/pki_message.h"

#include "scep/scep_oids.h"

namespace scep {
namespace {

std::optional<std::string> StringAttribute(const CMS_SignerInfo* si, const ASN1_OBJECT* oid) {
  auto bytes = SignedAttributeBytes(si, oid);
  if (!bytes) return std::nullopt;
  return AsString(*bytes);
}

// Reads the CertRep-only attributes; a request carries none of them.
Result<void> ReadCertRepAttributes(const CMS_SignerInfo* si, PkiMessage& msg) {
  if (auto nonce = SignedAttributeBytes(si, oids::RecipientNonce())) msg.recipient_nonce = std::move(*nonce);
  if (msg.message_type != MessageType::CertRep) return {};
  auto status = StringAttribute(si, oids::PkiStatus());
  msg.pki_status = status ? ParsePkiStatus(*status) : std::nullopt;
  if (!msg.pki_status) return MakeError(ErrorCode::Malformed, "CertRep without a valid pkiStatus");
  if (auto fail = StringAttribute(si, oids::FailInfo())) msg.fail_info = ParseFailInfo(*fail);
  if (auto text = StringAttribute(si, oids::FailInfoText())) msg.fail_info_text = std::move(*text);
  return {};
}

}  // namespace

Result<PkiMessage> ParsePkiMessage(ByteView der) {
  auto signed_data = ParseSignedData(der);
  if (!signed_data) return signed_data.error();
  PkiMessage msg;
  msg.signed_data = std::move(*signed_data);
  const CMS_SignerInfo* si = msg.signed_data.signer_info;

  auto type = StringAttribute(si, oids::MessageType());
  if (!type) return MakeError(ErrorCode::Malformed, "messageType attribute missing");
  auto parsed_type = ParseMessageType(*type);
  if (!parsed_type) return MakeError(ErrorCode::Malformed, "unknown messageType '" + type->substr(0, 16) + "'");
  msg.message_type = *parsed_type;

  auto txid = StringAttribute(si, oids::TransactionId());
  if (!txid || txid->empty()) return MakeError(ErrorCode::Malformed, "transactionID attribute missing");
  msg.transaction_id = std::move(*txid);

  if (auto nonce = SignedAttributeBytes(si, oids::SenderNonce())) msg.sender_nonce = std::move(*nonce);
  if (auto rep = ReadCertRepAttributes(si, msg); !rep) return rep.error();
  return msg;
}

Result<void> VerifyPkiMessage(PkiMessage& message) { return VerifySignedData(message.signed_data); }

}  // namespace scep
