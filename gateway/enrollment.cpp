// PKCSReq and RenewalReq: who may enroll, idempotent retries, issuing and committing before replying.
#include <ctime>

#include <openssl/x509.h>

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

scep::Error Refuse(std::string why) { return scep::MakeError(scep::ErrorCode::BadRequest, std::move(why)); }

}  // namespace

scep::Result<scep::Bytes> ScepService::Enroll(Request& r) {
  auto csr = scep::ParsePkcsReq(r.inner.content);
  if (!csr) return csr.error();
  r.outcome.subject = csr->subject;
  const std::string fingerprint = RequestFingerprint(r.message.message_type, csr->der);

  std::lock_guard lock(TransactionLock(r.message.transaction_id));
  auto existing = store_.FindByTransaction(r.message.transaction_id);
  if (!existing) return existing.error();
  if (*existing && (*existing)->request_fingerprint == fingerprint) {
    return Success(r, (*existing)->der);  // a retry: the same certificate again
  }
  auto renewal = Authorize(r, *csr);
  if (!renewal) return renewal.error();
  if (*existing && !*renewal) return Refuse("transactionID already used for a different request");
  return IssueAndStore(r, *csr, fingerprint);
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
                                                     const std::string& fingerprint) {
  auto cert = issuer_.Issue(csr.req.get(), options_.cert_template);
  if (!cert) return cert.error();
  auto der = scep::CertToDer(cert->get());
  if (!der) return der.error();
  IssuedCert row;
  row.serial = scep::SerialHex(cert->get());
  row.issuer = scep::NameToString(X509_get_issuer_name(cert->get()));
  row.subject = csr.subject;
  row.sans = csr.sans.ToString();
  row.not_before = scep::ToUnixTime(X509_get0_notBefore(cert->get()));
  row.not_after = scep::ToUnixTime(X509_get0_notAfter(cert->get()));
  row.issued_at = static_cast<std::int64_t>(std::time(nullptr));
  row.transaction_id = r.message.transaction_id;
  row.request_fingerprint = fingerprint;
  row.message_type = scep::to_string(r.message.message_type);
  row.der = *der;
  // Durable before the reply exists: a certificate the client holds is never one we forgot.
  if (auto stored = store_.Put(row); !stored) return stored.error();
  return Success(r, cert->get());
}

}  // namespace gateway
