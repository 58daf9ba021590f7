// The SCEP service: GetCACaps, GetCACert and PKIOperation over bytes, with the CA, the store and the challenge
// behind it. No HTTP here (http_routes.cpp maps requests onto it), no OpenSSL objects in its interface.
#pragma once

#include <array>
#include <chrono>
#include <mutex>
#include <string>

#include "ca-backend/cert_issuer.h"
#include "gateway/challenge_verifier.h"
#include "gateway/issued_cert_store.h"
#include "scep/ca_caps.h"
#include "scep/cert_rep.h"
#include "scep/pkcs_req.h"

namespace gateway {

struct ScepServiceOptions {
  ca::CertTemplate cert_template;
  bool allow_single_des = true;
  bool include_ca_cert_in_reply = false;  // some Cisco IOS versions need it, Juniper refuses it
  std::chrono::seconds crl_next_update{std::chrono::hours(24 * 7)};
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
  ScepService(ca::CertIssuer& issuer, IssuedCertStore& store, ChallengeVerifier& challenge,
              ScepServiceOptions options);

  [[nodiscard]] std::string CaCaps() const { return scep::CaCapsText(caps_); }
  [[nodiscard]] const CaCertBody& CaCert() const { return ca_cert_; }
  [[nodiscard]] PkiOutcome PkiOperation(scep::ByteView message);
  [[nodiscard]] scep::Result<void> Health();
  [[nodiscard]] scep::Result<std::int64_t> StoredCertificates() { return store_.Count(); }
  [[nodiscard]] std::int64_t CaNotAfter() const;  // unix seconds

 private:
  struct Request;  // one PKIOperation in flight (pki_operation.cpp)

  scep::Result<scep::Bytes> Answer(Request& r);
  scep::Result<scep::Bytes> Enroll(Request& r);
  scep::Result<scep::Bytes> Poll(Request& r);
  scep::Result<scep::Bytes> GetCert(Request& r);
  scep::Result<scep::Bytes> GetCrl(Request& r);
  scep::Result<bool> Authorize(const Request& r, const scep::CertificationRequest& csr);
  scep::Result<void> CheckRenewal(X509* signer, const scep::CertificationRequest& csr);
  scep::Result<scep::Bytes> IssueAndStore(Request& r, const scep::CertificationRequest& csr,
                                          const std::string& fingerprint);
  scep::Result<scep::Bytes> Success(Request& r, scep::ByteView cert_der);
  // The same, for a certificate already in hand (a fresh issue): saves decoding its public key again.
  scep::Result<scep::Bytes> Success(Request& r, X509* cert);
  scep::SigningKey signer() const;
  std::mutex& TransactionLock(const std::string& transaction_id);

  ca::CertIssuer& issuer_;
  IssuedCertStore& store_;
  ChallengeVerifier& challenge_;
  const ScepServiceOptions options_;
  const scep::CaCaps caps_;
  CaCertBody ca_cert_;
  // Serialises requests of one transaction, so that a retry racing its original cannot issue twice.
  std::array<std::mutex, 64> transaction_locks_;
};

}  // namespace gateway
