// PKCSReq and RenewalReq: who may enroll, what policy decides (issue, deny, hold for an administrator), idempotent
// retries, issuing and committing before replying.
#include <ctime>
#include <utility>

#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include "gateway/pki_request_state.h"

namespace gateway {
namespace {

// Identifies a request for retries: the same transactionID with the same request gets the same certificate.
std::string RequestFingerprint(scep::MessageType type, const scep::Bytes& csr_der) {
  scep::Bytes data{static_cast<std::uint8_t>(type)};
  data.insert(data.end(), csr_der.begin(), csr_der.end());
  return scep::ToHex(scep::Sha256(data));
}

bool IsSelfSigned(X509* cert) {
  return X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(cert)) == 0;
}

// A RenewalReq, or a PKCSReq signed by some CA's certificate: possibly a renewal (Authorize decides).
bool MayBeRenewal(const scep::PkiMessage& message) {
  return message.message_type == scep::MessageType::RenewalReq || !IsSelfSigned(message.signer_cert());
}

scep::Error Refuse(std::string why) { return scep::MakeError(scep::ErrorCode::BadRequest, std::move(why)); }

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

constexpr int kReasonSuperseded = 4;  // RFC 5280 CRLReason

scep::Bytes PublicKeyDer(const X509_REQ* req) {
  const X509_PUBKEY* spki = X509_REQ_get_X509_PUBKEY(const_cast<X509_REQ*>(req));
  const int size = spki == nullptr ? -1 : i2d_X509_PUBKEY(spki, nullptr);
  if (size <= 0) return {};
  scep::Bytes der(static_cast<std::size_t>(size));
  unsigned char* out = der.data();
  return i2d_X509_PUBKEY(spki, &out) == size ? der : scep::Bytes();
}

// certmonger rebuilds the CSR when asked to resubmit a pending request (a fresh random subjectKeyIdentifier inside),
// keeping its transactionID, which it derives from the key: the same key and subject are the same request.
bool SameKeyAndSubject(const scep::Bytes& held_csr, const scep::CertificationRequest& csr) {
  auto held = scep::ParsePkcsReq(held_csr);
  if (!held || held->subject != csr.subject) return false;
  const scep::Bytes key = PublicKeyDer(csr.req.get());
  return !key.empty() && key == PublicKeyDer(held->req.get());
}

void AddNames(std::vector<std::string>& out, const std::string& prefix, const std::vector<std::string>& names) {
  for (const std::string& name : names) out.push_back(prefix + name);
}

}  // namespace

scep::Result<scep::Bytes> ScepService::Enroll(Request& r) {
  auto csr = scep::ParsePkcsReq(r.inner.content);
  if (!csr) return csr.error();
  r.outcome.subject = csr->subject;
  const std::string fingerprint = RequestFingerprint(r.message.message_type, csr->der);
  std::lock_guard lock(TransactionLock(r.message.transaction_id));
  return EnrollLocked(r, *csr, fingerprint);
}

scep::Result<scep::Bytes> ScepService::EnrollLocked(Request& r, const scep::CertificationRequest& csr,
                                                    const std::string& fingerprint) {
  auto existing = store_.FindByTransaction(r.message.transaction_id);
  if (!existing) return existing.error();
  if (*existing && (*existing)->request_fingerprint == fingerprint) {
    return Success(r, (*existing)->der);  // a retry: the same certificate again
  }
  // A held request re-sent (micromdm's client polls that way instead of CertPoll) follows its decision.
  auto held = requests_.FindByTransaction(r.message.transaction_id);
  if (!held) return held.error();
  if (*held) {
    if ((*held)->request_fingerprint != fingerprint && !SameKeyAndSubject((*held)->csr, csr)) {
      return Refuse("transactionID already used for a different request");
    }
    return FollowRequest(r, **held);
  }
  // Refused before the challenge is looked at, so that a one-time password is not used up by a request that
  // cannot succeed anyway: only a renewal may reuse the transactionID of an issued certificate.
  if (*existing && !MayBeRenewal(r.message)) return Refuse("transactionID already used for a different request");
  auto renewal = Authorize(r, csr);
  if (!renewal) return renewal.error();
  if (*existing && !*renewal) return Refuse("transactionID already used for a different request");
  PolicyDecision decision = Decide(r, csr, *renewal);
  if (decision.decision == Decision::Deny) {
    spdlog::info("refused {} for '{}': {}", r.message.transaction_id, csr.subject, decision.reason);
    return Refuse(decision.reason);
  }
  if (decision.decision == Decision::Pend) return Hold(r, csr, fingerprint, decision.reason, "policy");
  auto reply = IssueAndStore(r, csr, fingerprint, decision.cert_template);
  if (reply && *renewal && options_.revoke_superseded) RevokeSuperseded(r, scep::SerialHex(r.message.signer_cert()));
  return reply;
}

// Local rules first, then the webhook; the stricter answer wins (deny over pend over issue). A renewal signed by an
// unrevoked certificate of ours does not wait for manual approval: the device was approved once already.
PolicyDecision ScepService::Decide(const Request& r, const scep::CertificationRequest& csr, bool renewal) {
  PolicyDecision decision = policy_.Evaluate(csr);
  if (decision.decision == Decision::Deny) return decision;
  if (renewal && decision.decision == Decision::Pend) decision.decision = Decision::Issue;
  if (webhook_ == nullptr) return decision;
  WebhookQuestion q;
  q.endpoint = options_.endpoint;
  q.transaction_id = r.message.transaction_id;
  q.message_type = scep::to_string(r.message.message_type);
  q.subject = csr.subject;
  AddNames(q.sans, "DNS:", csr.sans.dns);
  AddNames(q.sans, "IP:", csr.sans.ip);
  AddNames(q.sans, "email:", csr.sans.email);
  AddNames(q.sans, "URI:", csr.sans.uri);
  q.key_usage = KeyUsageNames(csr.key_usage.value_or(0));
  q.key_type = csr.key.type;
  q.key_bits = csr.key.bits;
  q.challenge = csr.challenge_password.value_or("");
  q.client_address = r.client_address;
  q.renewal = renewal;
  if (auto pem = scep::ReqToPem(csr.req.get())) q.csr_pem = *pem;
  const WebhookAnswer answer = webhook_->Ask(q);
  if (answer.unavailable) spdlog::warn("policy webhook: {}", answer.reason);
  if (answer.decision == Decision::Deny) {
    decision.decision = Decision::Deny;
    decision.reason = "webhook: " + (answer.reason.empty() ? std::string("denied") : answer.reason);
  } else if (answer.decision == Decision::Pend && decision.decision == Decision::Issue) {
    decision.decision = Decision::Pend;
    decision.reason = "webhook: " + (answer.reason.empty() ? std::string("held for approval") : answer.reason);
  }
  return decision;
}

// Stores the request for an administrator and answers PENDING; the client polls until a decision is taken.
scep::Result<scep::Bytes> ScepService::Hold(Request& r, const scep::CertificationRequest& csr,
                                            const std::string& fingerprint, const std::string& reason,
                                            const std::string& actor) {
  EnrollmentRequest held;
  held.endpoint = options_.endpoint;
  held.transaction_id = r.message.transaction_id;
  held.request_fingerprint = fingerprint;
  held.message_type = scep::to_string(r.message.message_type);
  held.subject = csr.subject;
  held.sans = csr.sans.ToString();
  held.client_address = r.client_address;
  held.csr = csr.der;
  held.reason = reason;
  held.created_at = Now();
  held.expires_at = held.created_at + options_.pending_expiry.count();
  auto id = requests_.Add(held);
  if (!id) return id.error();
  Audit(r, "pending", reason, actor, *id);
  return Pending(r);
}

scep::Result<scep::Bytes> ScepService::FollowRequest(Request& r, const EnrollmentRequest& held) {
  r.outcome.subject = held.subject;
  switch (held.status) {
    case RequestStatus::Pending: {
      if (held.expires_at > Now()) return Pending(r);
      auto expired = requests_.Transition(held.id, RequestStatus::Pending, RequestStatus::Denied, "expired",
                                          "expiry", Now());
      if (!expired) return expired.error();
      if (*expired) Audit(r, "denied", "pending request expired", "expiry", held.id);
      r.audited = true;
      return Refuse("request " + std::to_string(held.id) + " expired while pending");
    }
    case RequestStatus::Denied:
      r.audited = true;  // the deny itself was recorded when it was taken
      return Refuse("request " + std::to_string(held.id) + " denied" +
                    (held.reason.empty() ? "" : ": " + held.reason));
    case RequestStatus::Approved: {
      auto csr = scep::ParsePkcsReq(held.csr);
      if (!csr) {
        return scep::MakeError(scep::ErrorCode::Internal, "stored request does not parse: " + csr.error().detail);
      }
      // The administrator's approval stands in for the manual step; the template still comes from policy.
      PolicyDecision decision = policy_.Evaluate(*csr);
      auto reply = IssueAndStore(r, *csr, held.request_fingerprint, decision.cert_template);
      if (!reply) return reply;
      if (auto marked = requests_.MarkIssued(held.id, r.outcome.serial, Now()); !marked) {
        spdlog::error("request {}: issued {} but could not mark it: {}", held.id, r.outcome.serial,
                      marked.error().ToString());
      }
      return reply;
    }
    case RequestStatus::Issued: {
      auto cert = store_.FindBySerial(held.serial);
      if (!cert) return cert.error();
      if (!*cert) return scep::MakeError(scep::ErrorCode::Internal, "issued certificate " + held.serial + " missing");
      return Success(r, (*cert)->der);
    }
  }
  return scep::MakeError(scep::ErrorCode::Internal, "request in an unknown state");
}

// True for a renewal authorised by a certificate of ours, false for a first enrollment authorised by the
// challenge; an error when neither holds.
scep::Result<bool> ScepService::Authorize(const Request& r, const scep::CertificationRequest& csr) {
  X509* signer_cert = r.message.signer_cert();
  const bool renewal_type = r.message.message_type == scep::MessageType::RenewalReq;
  if (renewal_type || !IsSelfSigned(signer_cert)) {
    auto renewal = CheckRenewal(signer_cert, csr);
    if (renewal) return true;
    // A PKCSReq signed by someone else's certificate may still enroll with the challenge.
    if (renewal_type) return renewal.error();
  }
  if (auto ok = challenge_.Verify(csr); !ok) return ok.error();
  return false;
}

scep::Result<void> ScepService::CheckRenewal(X509* signer_cert, const scep::CertificationRequest& csr) {
  const X509* ca = issuer_.ca_cert();
  if (X509_NAME_cmp(X509_get_issuer_name(signer_cert), X509_get_subject_name(ca)) != 0 ||
      X509_verify(signer_cert, X509_get0_pubkey(ca)) != 1) {
    return Refuse("renewal: the signer certificate was not issued by this CA");
  }
  if (X509_cmp_current_time(X509_get0_notAfter(signer_cert)) <= 0) {
    return Refuse("renewal: the signer certificate has expired");
  }
  if (options_.renewal_window_days > 0) {
    const std::int64_t left = scep::ToUnixTime(X509_get0_notAfter(signer_cert)) - Now();
    if (left > std::int64_t{options_.renewal_window_days} * 86400) {
      return Refuse("renewal: allowed only within " + std::to_string(options_.renewal_window_days) +
                    " days of the certificate's expiry (renewal.window_days)");
    }
  }
  auto stored = store_.FindBySerial(scep::SerialHex(signer_cert));
  if (!stored) return stored.error();
  if (!*stored) return Refuse("renewal: the signer certificate is unknown to this gateway");
  if ((*stored)->status == CertStatus::Revoked) return Refuse("renewal: the signer certificate is revoked");
  if (X509_NAME_cmp(X509_get_subject_name(signer_cert), X509_REQ_get_subject_name(csr.req.get())) != 0) {
    return Refuse("renewal: the subject differs from the certificate being renewed");
  }
  return {};
}

scep::Result<scep::Bytes> ScepService::IssueAndStore(Request& r, const scep::CertificationRequest& csr,
                                                     const std::string& fingerprint, const ca::CertTemplate& tmpl) {
  auto cert = issuer_.Issue(csr.req.get(), tmpl);
  if (!cert) return cert.error();
  auto der = scep::CertToDer(cert->get());
  if (!der) return der.error();
  IssuedCert row;
  row.serial = scep::SerialHex(cert->get());
  row.issuer = scep::NameToString(X509_get_issuer_name(cert->get()));
  row.subject = scep::NameToString(X509_get_subject_name(cert->get()));  // policy may have changed it
  row.sans = csr.sans.ToString();
  row.not_before = scep::ToUnixTime(X509_get0_notBefore(cert->get()));
  row.not_after = scep::ToUnixTime(X509_get0_notAfter(cert->get()));
  row.issued_at = Now();
  row.transaction_id = r.message.transaction_id;
  row.request_fingerprint = fingerprint;
  row.message_type = scep::to_string(r.message.message_type);
  row.der = *der;
  // Durable before the reply exists: a certificate the client holds is never one we forgot. Its audit line is
  // appended in the same group commit, right after the row's.
  const std::string audit_line = AuditEventToJson(MakeAuditEvent(r, "issued", "", "policy", 0, row)) + "\n";
  if (auto stored = store_.PutAndAudit(row, audit_line); !stored) return stored.error();
  r.outcome.serial = row.serial;
  r.outcome.subject = row.subject;
  r.audited = true;
  return Success(r, cert->get());
}

void ScepService::RevokeSuperseded(Request& r, const std::string& serial) {
  auto revoked = store_.Revoke(serial, kReasonSuperseded, Now());
  if (!revoked) {
    spdlog::error("renewal {}: could not revoke the superseded certificate {}: {}", r.message.transaction_id, serial,
                  revoked.error().ToString());
    return;
  }
  const std::string new_serial = std::exchange(r.outcome.serial, serial);
  Audit(r, "revoked", "superseded by " + new_serial, "renewal");
  r.outcome.serial = new_serial;
}

AuditEvent ScepService::MakeAuditEvent(const Request& r, std::string event, std::string reason, std::string actor,
                                       std::int64_t request_id, const IssuedCert& cert) const {
  AuditEvent e;
  e.event = std::move(event);
  e.endpoint = options_.endpoint;
  e.transaction_id = r.message.transaction_id;
  e.request_id = request_id;
  e.serial = cert.serial;
  e.subject = cert.subject;
  e.reason = std::move(reason);
  e.actor = std::move(actor);
  e.client_address = r.client_address;
  return e;
}

void ScepService::Audit(Request& r, std::string event, std::string reason, std::string actor,
                        std::int64_t request_id) {
  IssuedCert named;  // the event names what the outcome names so far
  named.serial = r.outcome.serial;
  named.subject = r.outcome.subject;
  const AuditEvent e = MakeAuditEvent(r, std::move(event), std::move(reason), std::move(actor), request_id, named);
  // The decision stands even when the audit file cannot be written; the error log says so loudly.
  if (auto ok = audit_.Record(e); !ok) {
    spdlog::error("audit: cannot record '{}' for {}: {}", e.event, e.transaction_id, ok.error().ToString());
  }
  r.audited = true;
}

}  // namespace gateway
