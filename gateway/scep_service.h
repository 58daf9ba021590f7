// The SCEP service: GetCACaps, GetCACert and PKIOperation over bytes, with the CA, the store and the challenge
// behind it. No HTTP here (http_routes.cpp maps requests onto it), no OpenSSL objects in its interface.
#pragma once

#include <array>
#include <chrono>
#include <mutex>
#include <string>

#include "ca-backend/cert_issuer.h"
#include "gateway/audit_events.h"
#include "gateway/challenge_verifier.h"
#include "gateway/enrollment_policy.h"
#include "gateway/enrollment_request_store.h"
#include "gateway/issued_cert_store.h"
#include "gateway/policy_webhook.h"
#include "scep/ca_caps.h"
#include "scep/cert_rep.h"
#include "scep/pkcs_req.h"

namespace gateway {

struct ScepServiceOptions {
  std::string endpoint = "default";       // endpoint name, in the store, the audit file and the webhook question
  bool allow_single_des = true;
  bool include_ca_cert_in_reply = false;  // some Cisco IOS versions need it, Juniper refuses it
  std::chrono::seconds crl_next_update{std::chrono::hours(24 * 7)};
  std::chrono::seconds pending_expiry{std::chrono::hours(24 * 7)};
  int renewal_window_days = 0;            // 0 = renewal any time; N = only within N days of the old notAfter
  bool revoke_superseded = true;          // revoke the renewed certificate once its successor is stored
};

// What one endpoint's service works with. The references outlive the service.
struct ScepServiceParts {
  ca::CertIssuer& issuer;
  IssuedCertStore& certs;
  EnrollmentRequestStore& requests;
  ChallengeVerifier& challenge;
  const EnrollmentPolicy& policy;
  const PolicyWebhook* webhook;  // null = no webhook
  AuditSink& audit;
};

// What one PKIOperation came to, for the HTTP reply and the request log.
struct PkiOutcome {
  int http_status = 200;        // 400 for a message that is not a pkiMessage, 500 when our side failed
  scep::Bytes reply;            // the CertRep (http_status 200)
  std::string message_type;     // "PKCSReq", ...
  std::string transaction_id;
  std::string status;           // "SUCCESS", "FAILURE", "PENDING", "rejected", "error"
  std::string fail_info;        // "badRequest", ...
  std::string detail;           // the reason, for the log (never a secret)
  std::string subject;
  std::string serial;
};

struct CaCertBody {
  scep::Bytes body;
  std::string content_type;
};

class ScepService {
 public:
  ScepService(ScepServiceParts parts, ScepServiceOptions options);

  [[nodiscard]] std::string CaCaps() const { return scep::CaCapsText(caps_); }
  [[nodiscard]] const CaCertBody& CaCert() const { return ca_cert_; }
  // `client_address` is the peer's IP, kept with pending requests and shown to the webhook.
  [[nodiscard]] PkiOutcome PkiOperation(scep::ByteView message, const std::string& client_address = "");
  // The current CRL of this endpoint's CA (DER), regenerated when the revoked set changed (also by another
  // process, such as `scep-gateway certs revoke`) or half its validity has passed.
  [[nodiscard]] scep::Result<scep::Bytes> CurrentCrl();
  [[nodiscard]] const std::string& endpoint() const { return options_.endpoint; }
  [[nodiscard]] const ca::CertIssuer& issuer() const { return issuer_; }
  [[nodiscard]] scep::Result<void> Health();
  [[nodiscard]] scep::Result<std::int64_t> StoredCertificates() { return store_.Count(); }
  [[nodiscard]] std::int64_t CaNotAfter() const;  // unix seconds

 private:
  struct Request;  // one PKIOperation in flight (pki_operation.cpp)

  scep::Result<scep::Bytes> Answer(Request& r);
  scep::Result<scep::Bytes> Enroll(Request& r);
  scep::Result<scep::Bytes> EnrollLocked(Request& r, const scep::CertificationRequest& csr,
                                         const std::string& fingerprint);
  scep::Result<scep::Bytes> FollowRequest(Request& r, const EnrollmentRequest& held);
  scep::Result<scep::Bytes> Hold(Request& r, const scep::CertificationRequest& csr, const std::string& fingerprint,
                                 const std::string& reason, const std::string& actor);
  PolicyDecision Decide(const Request& r, const scep::CertificationRequest& csr, bool renewal);
  void Audit(Request& r, std::string event, std::string reason, std::string actor, std::int64_t request_id = 0);
  // The event for request r naming cert's serial and subject.
  [[nodiscard]] AuditEvent MakeAuditEvent(const Request& r, std::string event, std::string reason, std::string actor,
                                          std::int64_t request_id, const IssuedCert& cert) const;
  scep::Result<scep::Bytes> Pending(Request& r);
  scep::Result<scep::Bytes> Poll(Request& r);
  scep::Result<scep::Bytes> GetCert(Request& r);
  scep::Result<scep::Bytes> GetCrl(Request& r);
  scep::Result<bool> Authorize(const Request& r, const scep::CertificationRequest& csr);
  scep::Result<void> CheckRenewal(X509* signer, const scep::CertificationRequest& csr);
  scep::Result<scep::Bytes> IssueAndStore(Request& r, const scep::CertificationRequest& csr,
                                          const std::string& fingerprint, const ca::CertTemplate& tmpl);
  void RevokeSuperseded(Request& r, const std::string& serial);
  scep::Result<scep::Bytes> Success(Request& r, scep::ByteView cert_der);
  // The same, for a certificate already in hand (a fresh issue): saves decoding its public key again.
  scep::Result<scep::Bytes> Success(Request& r, X509* cert);
  scep::SigningKey signer() const;
  std::mutex& TransactionLock(const std::string& transaction_id);

  ca::CertIssuer& issuer_;
  IssuedCertStore& store_;
  EnrollmentRequestStore& requests_;
  ChallengeVerifier& challenge_;
  const EnrollmentPolicy& policy_;
  const PolicyWebhook* webhook_;
  AuditSink& audit_;
  const ScepServiceOptions options_;
  const scep::CaCaps caps_;
  CaCertBody ca_cert_;
  // Serialises requests of one transaction, so that a retry racing its original cannot issue twice.
  std::array<std::mutex, 64> transaction_locks_;

  struct CachedCrl {
    std::string revoked_key;  // the revoked serials it lists, joined
    std::int64_t made_at = 0;
    scep::Bytes der;
  };
  std::mutex crl_mutex_;
  CachedCrl crl_;  // guarded by crl_mutex_
};

}  // namespace gateway
