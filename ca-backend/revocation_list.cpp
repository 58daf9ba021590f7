#include "ca-backend/revocation_list.h"

#include <ctime>
#include <string>

#include "ca-backend/key_spec.h"
#include "ca-backend/x509_extensions.h"

namespace ca {
namespace {

using scep::ErrorCode;

bool IsCrlReason(int reason) { return reason >= 0 && reason <= 10 && reason != 7; }

scep::Result<void> AddRevoked(X509_CRL* crl, const RevokedCert& entry) {
  if (!IsCrlReason(entry.reason)) {
    return scep::MakeError(ErrorCode::BadRequest, "CRL reason " + std::to_string(entry.reason) + " is not defined");
  }
  auto serial = SerialFromHex(entry.serial_hex);
  if (!serial) return serial.error();
  scep::UniquePtr<X509_REVOKED> revoked(X509_REVOKED_new());
  scep::UniquePtr<ASN1_TIME> when(ASN1_TIME_set(nullptr, static_cast<std::time_t>(entry.revoked_at)));
  if (!revoked || !when || X509_REVOKED_set_serialNumber(revoked.get(), serial->get()) != 1 ||
      X509_REVOKED_set_revocationDate(revoked.get(), when.get()) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot build the CRL entry for " + entry.serial_hex);
  }
  if (entry.reason != 0) {
    scep::UniquePtr<ASN1_ENUMERATED> reason(ASN1_ENUMERATED_new());
    if (!reason || ASN1_ENUMERATED_set(reason.get(), entry.reason) != 1 ||
        X509_REVOKED_add1_ext_i2d(revoked.get(), NID_crl_reason, reason.get(), 0, 0) != 1) {
      return scep::OpensslError(ErrorCode::Internal, "cannot add the reason code for " + entry.serial_hex);
    }
  }
  if (X509_CRL_add0_revoked(crl, revoked.get()) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot add the CRL entry for " + entry.serial_hex);
  }
  static_cast<void>(revoked.release());  // now owned by the CRL
  return {};
}

scep::Result<void> SetHeader(X509_CRL* crl, const X509* ca, std::time_t now, std::chrono::seconds next_update) {
  scep::UniquePtr<ASN1_TIME> last(ASN1_TIME_set(nullptr, now));
  scep::UniquePtr<ASN1_TIME> next(ASN1_TIME_adj(nullptr, now, 0, static_cast<long>(next_update.count())));
  if (!last || !next || X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) != 1 ||
      X509_CRL_set1_lastUpdate(crl, last.get()) != 1 || X509_CRL_set1_nextUpdate(crl, next.get()) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot fill in the CRL");
  }
  return {};
}

}  // namespace

scep::Result<scep::UniquePtr<X509_CRL>> BuildCrl(const X509* ca, EVP_PKEY* key, X509_EXTENSION* authority_key_id,
                                                 std::span<const RevokedCert> revoked,
                                                 std::chrono::seconds next_update) {
  if (next_update.count() <= 0) return scep::MakeError(ErrorCode::BadRequest, "CRL nextUpdate must be in the future");
  const std::time_t now = std::time(nullptr);
  scep::UniquePtr<X509_CRL> crl(X509_CRL_new());
  if (!crl) return scep::OpensslError(ErrorCode::Internal, "cannot allocate a CRL");
  if (auto r = SetHeader(crl.get(), ca, now, next_update); !r) return r.error();
  for (const RevokedCert& entry : revoked) {
    if (auto r = AddRevoked(crl.get(), entry); !r) return r.error();
  }
  scep::UniquePtr<ASN1_INTEGER> number(ASN1_INTEGER_new());
  if (!number || ASN1_INTEGER_set_int64(number.get(), static_cast<std::int64_t>(now)) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1 ||
      X509_CRL_add_ext(crl.get(), authority_key_id, -1) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot add the CRL extensions");
  }
  // Entries in serial order, as `openssl ca` writes them; lookups in the CRL do not depend on it.
  if (X509_CRL_sort(crl.get()) != 1 || X509_CRL_sign(crl.get(), key, SignatureDigest(key)) <= 0) {
    return scep::OpensslError(ErrorCode::Internal, "cannot sign the CRL");
  }
  return crl;
}

}  // namespace ca
