#include "scep/cert_rep.h"

#include "scep/pki_envelope.h"
#include "scep/scep_attributes.h"

namespace scep {
namespace {

// FAILURE and PENDING carry no pkcsPKIEnvelope: the SignedData's content is then empty.
Result<Bytes> BuildCertRep(const ReplyTo& to, const SigningKey& signer, PkiStatus status,
                           std::optional<FailInfo> fail_info, std::string_view text, ByteView content,
                           std::span<X509* const> extra_certs) {
  auto nonce = MakeNonce();
  if (!nonce) return nonce.error();
  ScepAttributeValues values;
  values.message_type = MessageType::CertRep;
  values.transaction_id = to.transaction_id;
  values.sender_nonce = std::move(*nonce);
  values.recipient_nonce = to.request_sender_nonce;
  values.pki_status = status;
  values.fail_info = fail_info;
  values.fail_info_text = std::string(text);
  const auto attributes = MakeScepAttributes(values);
  return BuildSignedData(content, signer, ReplyDigest(to.request_digest), attributes, extra_certs);
}

}  // namespace

ReplyTo ReplyToRequest(const PkiMessage& request) {
  ReplyTo to;
  to.transaction_id = request.transaction_id;
  to.request_sender_nonce = request.sender_nonce;
  to.request_digest = request.signed_data.digest;
  to.recipient = request.signer_cert();
  return to;
}

Digest ReplyDigest(std::optional<Digest> request_digest) {
  if (!request_digest || *request_digest == Digest::Md5) return Digest::Sha256;
  return *request_digest;
}

Result<Bytes> BuildCertRepSuccess(const ReplyTo& to, const SigningKey& signer, ByteView degenerate_certs,
                                  std::span<X509* const> extra_certs) {
  if (to.recipient == nullptr) return MakeError(ErrorCode::Internal, "SUCCESS needs the requester's certificate");
  auto envelope = EncryptPkiEnvelope(degenerate_certs, to.recipient, to.cipher);
  if (!envelope) return envelope.error();
  return BuildCertRep(to, signer, PkiStatus::Success, std::nullopt, {}, *envelope, extra_certs);
}

Result<Bytes> BuildCertRepFailure(const ReplyTo& to, const SigningKey& signer, FailInfo fail_info,
                                  std::string_view fail_info_text) {
  return BuildCertRep(to, signer, PkiStatus::Failure, fail_info, fail_info_text, {}, {});
}

Result<Bytes> BuildCertRepPending(const ReplyTo& to, const SigningKey& signer) {
  return BuildCertRep(to, signer, PkiStatus::Pending, std::nullopt, {}, {}, {});
}

}  // namespace scep
