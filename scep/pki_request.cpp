#include "scep/pki_request.h"

#include <openssl/rand.h>

#include "scep/algorithms.h"
#include "scep/pki_envelope.h"
#include "scep/scep_attributes.h"

namespace scep {

Result<Bytes> BuildPkiRequest(const PkiRequest& request) {
  auto envelope = EncryptPkiEnvelope(request.content, request.recipient, request.cipher);
  if (!envelope) return envelope.error();
  ScepAttributeValues values;
  values.message_type = request.type;
  values.transaction_id = request.transaction_id;
  values.sender_nonce = request.sender_nonce;
  if (values.sender_nonce.empty()) {
    auto nonce = MakeNonce();
    if (!nonce) return nonce.error();
    values.sender_nonce = std::move(*nonce);
  }
  const auto attributes = MakeScepAttributes(values);
  return BuildSignedData(*envelope, request.signer, request.digest, attributes);
}

Result<UniquePtr<X509>> MakeSelfSignedCert(EVP_PKEY* key, const X509_NAME* subject, Digest digest) {
  UniquePtr<X509> cert(X509_new());
  unsigned char serial_bytes[16];
  if (!cert || RAND_bytes(serial_bytes, sizeof serial_bytes) != 1) {
    return OpensslError(ErrorCode::Internal, "cannot create certificate");
  }
  serial_bytes[0] &= 0x7f;
  UniquePtr<BIGNUM> serial(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  const bool ok = serial && X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
                  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) != nullptr &&
                  X509_set_subject_name(cert.get(), subject) == 1 && X509_set_issuer_name(cert.get(), subject) == 1 &&
                  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
                  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7 * 24 * 3600) != nullptr &&
                  X509_set_pubkey(cert.get(), key) == 1 && X509_sign(cert.get(), key, FetchDigest(digest)) > 0;
  if (!ok) return OpensslError(ErrorCode::Internal, "cannot make self-signed certificate");
  return cert;
}

Result<DegenerateContents> OpenCertRep(const PkiMessage& cert_rep, X509* requester_cert, EVP_PKEY* requester_key) {
  EnvelopePolicy policy{.allow_single_des = true};
  auto inner = DecryptPkiEnvelope(cert_rep.envelope(), requester_cert, requester_key, policy);
  if (!inner) return inner.error();
  return ParseDegenerateCerts(inner->content);
}

}  // namespace scep
