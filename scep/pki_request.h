// The client side of SCEP: building request pkiMessages and opening CertReps. The gateway never calls this; the
// tests and the load generator do (real clients are tested separately in interop/).
#pragma once

#include "scep/cert_rep.h"
#include "scep/degenerate_certs.h"

namespace scep {

struct PkiRequest {
  MessageType type = MessageType::PkcsReq;
  std::string transaction_id;
  Bytes sender_nonce;            // empty: a fresh random one
  Bytes content;                 // PKCS#10 DER, IssuerAndSubject or IssuerAndSerialNumber
  X509* recipient = nullptr;     // CA or RA certificate to encrypt to (borrowed)
  ContentCipher cipher = ContentCipher::Aes128Cbc;
  SigningKey signer;             // self-signed for a first enrollment, the old certificate for renewal
  Digest digest = Digest::Sha256;
};

[[nodiscard]] Result<Bytes> BuildPkiRequest(const PkiRequest& request);

// The throwaway self-signed certificate a client signs its first request with.
[[nodiscard]] Result<UniquePtr<X509>> MakeSelfSignedCert(EVP_PKEY* key, const X509_NAME* subject, Digest digest);

// Decrypts a SUCCESS CertRep's envelope with the requester's key and returns its certificates and CRLs.
[[nodiscard]] Result<DegenerateContents> OpenCertRep(const PkiMessage& cert_rep, X509* requester_cert,
                                                     EVP_PKEY* requester_key);

}  // namespace scep
