// PKIOperation: parse, verify, decrypt, dispatch by message type, answer with a signed CertRep.
#include <openssl/x509.h>

#include "gateway/pki_request_state.h"
#include "scep/degenerate_certs.h"
#include "scep/message_content.h"

namespace gateway {

PkiOutcome ScepService::PkiOperation(scep::ByteView der, const std::string& client_address) {
  PkiOutcome outcome;
  auto message = scep::ParsePkiMessage(der);
  if (!message) {  // not a pkiMessage at all: nothing to sign a reply for
    outcome.http_status = 400;
    outcome.status = "rejected";
    outcome.detail = message.error().detail;
    return outcome;
  }
  outcome.message_type = scep::to_string(message->message_type);
  outcome.transaction_id = message->transaction_id;
  Request r{std::move(*message), {}, {}, outcome, client_address};
  r.reply_to = scep::ReplyToRequest(r.message);

  auto reply = Answer(r);
  if (reply) {
    outcome.reply = std::move(*reply);
    return outcome;
  }
  const scep::Error& error = reply.error();
  outcome.detail = error.ToString();
  if (error.code == scep::ErrorCode::Internal) {  // our side failed: never the client's fault, never a FAILURE
    outcome.http_status = 500;
    outcome.status = "error";
    return outcome;
  }
  // Anything refused after the message parsed gets a signed FAILURE; a broken envelope counts as a failed check.
  const scep::FailInfo fail_info = error.fail_info().value_or(scep::FailInfo::BadMessageCheck);
  const bool enrollment = r.message.message_type == scep::MessageType::PkcsReq ||
                          r.message.message_type == scep::MessageType::RenewalReq;
  if (enrollment && !r.audited) Audit(r, "denied", error.detail, "gateway");
  auto failure = scep::BuildCertRepFailure(r.reply_to, signer(), fail_info, error.detail);
  if (!failure) {
    outcome.http_status = 500;
    outcome.status = "error";
    outcome.detail += "; cannot sign FAILURE: " + failure.error().ToString();
    return outcome;
  }
  outcome.reply = std::move(*failure);
  outcome.status = "FAILURE";
  outcome.fail_info = scep::to_string(fail_info);
  return outcome;
}

scep::Result<scep::Bytes> ScepService::Answer(Request& r) {
  if (auto verified = scep::VerifyPkiMessage(r.message); !verified) return verified.error();
  if (r.message.message_type == scep::MessageType::CertRep) {
    return scep::MakeError(scep::ErrorCode::BadRequest, "a CertRep is not a request");
  }
  const auto& id = issuer_.scep_identity();
  scep::EnvelopePolicy policy{.allow_single_des = options_.allow_single_des};
  auto inner = scep::DecryptPkiEnvelope(r.message.envelope(), id.decrypt_cert.get(), id.decrypt_key.get(), policy);
  if (!inner) return inner.error();
  r.inner = std::move(*inner);
  r.reply_to.cipher = r.inner.cipher;  // answer in the cipher the client chose

  switch (r.message.message_type) {
    case scep::MessageType::PkcsReq:
    case scep::MessageType::RenewalReq: return Enroll(r);
    case scep::MessageType::CertPoll: return Poll(r);
    case scep::MessageType::GetCert: return GetCert(r);
    case scep::MessageType::GetCrl: return GetCrl(r);
    case scep::MessageType::CertRep: break;
  }
  return scep::MakeError(scep::ErrorCode::BadRequest, "unsupported messageType");
}

scep::Result<scep::Bytes> ScepService::Success(Request& r, scep::ByteView cert_der) {
  auto cert = scep::CertFromDer(cert_der);
  if (!cert) return scep::MakeError(scep::ErrorCode::Internal, "stored certificate does not decode");
  return Success(r, cert->get());
}

scep::Result<scep::Bytes> ScepService::Success(Request& r, X509* cert) {
  r.outcome.serial = scep::SerialHex(cert);
  std::vector<X509*> certs{cert};
  if (options_.include_ca_cert_in_reply) certs.push_back(const_cast<X509*>(issuer_.ca_cert()));
  auto degenerate = scep::BuildDegenerateCerts(certs);
  if (!degenerate) return degenerate.error();
  auto reply = scep::BuildCertRepSuccess(r.reply_to, signer(), *degenerate);
  if (reply) r.outcome.status = "SUCCESS";
  return reply;
}

scep::Result<scep::Bytes> ScepService::Pending(Request& r) {
  auto reply = scep::BuildCertRepPending(r.reply_to, signer());
  if (reply) r.outcome.status = "PENDING";
  return reply;
}

scep::Result<scep::Bytes> ScepService::Poll(Request& r) {
  auto ias = scep::ParseIssuerAndSubject(r.inner.content);
  if (!ias) return ias.error();
  r.outcome.subject = scep::NameToString(ias->subject.get());
  std::lock_guard lock(TransactionLock(r.message.transaction_id));
  auto held = requests_.FindByTransaction(r.message.transaction_id);
  if (!held) return held.error();
  if (*held) return FollowRequest(r, **held);
  auto found = store_.FindByTransaction(r.message.transaction_id);
  if (!found) return found.error();
  if (!*found) return scep::MakeError(scep::ErrorCode::BadCertId, "no request with this transactionID");
  return Success(r, (*found)->der);
}

scep::Result<scep::Bytes> ScepService::GetCert(Request& r) {
  auto ias = scep::ParseIssuerAndSerial(r.inner.content);
  if (!ias) return ias.error();
  if (X509_NAME_cmp(ias->issuer.get(), X509_get_subject_name(issuer_.ca_cert())) != 0) {
    return scep::MakeError(scep::ErrorCode::BadCertId, "issuer is not this CA");
  }
  auto found = store_.FindBySerial(ias->serial_hex);
  if (!found) return found.error();
  if (!*found) return scep::MakeError(scep::ErrorCode::BadCertId, "no certificate with serial " + ias->serial_hex);
  return Success(r, (*found)->der);
}

scep::Result<scep::Bytes> ScepService::GetCrl(Request& r) {
  if (auto ias = scep::ParseIssuerAndSerial(r.inner.content); !ias) return ias.error();
  auto crl_der = CurrentCrl();
  if (!crl_der) return crl_der.error();
  auto crl = scep::CrlFromDer(*crl_der);
  if (!crl) return scep::MakeError(scep::ErrorCode::Internal, "CRL does not decode");
  auto degenerate = scep::BuildDegenerateCerts({}, crl->get());
  if (!degenerate) return degenerate.error();
  auto reply = scep::BuildCertRepSuccess(r.reply_to, signer(), *degenerate);
  if (reply) r.outcome.status = "SUCCESS";
  return reply;
}

}  // namespace gateway
