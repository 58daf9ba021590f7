#include "ca-backend/ca_certificate.h"

#include <ctime>
#include <string>
#include <vector>

#include "ca-backend/key_spec.h"
#include "ca-backend/x509_extensions.h"

namespace ca {
namespace {

using scep::ErrorCode;

constexpr std::chrono::minutes kCaBackdate{5};
// Microsoft's Certificate Request Agent EKU: what Windows SCEP clients look for on an RA certificate.
const std::string kCertificateRequestAgent = "1.3.6.1.4.1.311.20.2.1";

}  // namespace

scep::Result<scep::UniquePtr<X509>> StartCertificate(const X509_NAME* subject, const X509_NAME* issuer,
                                                     EVP_PKEY* public_key) {
  scep::UniquePtr<X509> cert(X509_new());
  if (!cert) return scep::OpensslError(ErrorCode::Internal, "cannot allocate a certificate");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 || X509_set_subject_name(cert.get(), subject) != 1 ||
      X509_set_issuer_name(cert.get(), issuer) != 1 ||
      (public_key != nullptr && X509_set_pubkey(cert.get(), public_key) != 1)) {
    return scep::OpensslError(ErrorCode::Internal, "cannot fill in the certificate");
  }
  if (auto serial = SetRandomSerial(cert.get()); !serial) return serial.error();
  return cert;
}

scep::Result<void> CopyPublicKey(X509* cert, const X509_REQ* csr) {
  // OpenSSL 3.0 lacks const overloads for these two getters; both only read the request.
  X509_REQ* req = const_cast<X509_REQ*>(csr);
  if (X509_REQ_get0_pubkey(req) == nullptr) {
    return scep::OpensslError(ErrorCode::BadRequest, "the request's public key cannot be decoded");
  }
  const unsigned char* bits = nullptr;
  int bits_len = 0;
  X509_ALGOR* from_alg = nullptr;
  X509_ALGOR* to_alg = nullptr;
  X509_PUBKEY* to = X509_get_X509_PUBKEY(cert);
  if (X509_PUBKEY_get0_param(nullptr, &bits, &bits_len, &from_alg, X509_REQ_get_X509_PUBKEY(req)) != 1 ||
      X509_PUBKEY_get0_param(nullptr, nullptr, nullptr, &to_alg, to) != 1 || bits_len <= 0) {
    return scep::OpensslError(ErrorCode::BadRequest, "the request has no public key");
  }
  scep::OpensslBytes copy(static_cast<unsigned char*>(OPENSSL_memdup(bits, static_cast<std::size_t>(bits_len))));
  if (!copy) return scep::OpensslError(ErrorCode::Internal, "cannot copy the public key");
  // Installs the key bits; it also clears the algorithm (no object given), so the copy of it comes after.
  if (X509_PUBKEY_set0_param(to, nullptr, V_ASN1_EOC, nullptr, copy.get(), bits_len) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot set the public key");
  }
  static_cast<void>(copy.release());  // now owned by the certificate
  if (X509_ALGOR_copy(to_alg, from_alg) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot copy the public key algorithm");
  }
  return {};
}

scep::Result<void> SetValidity(X509* cert, std::chrono::seconds backdate, int days, const ASN1_TIME* cap) {
  if (days <= 0) return scep::MakeError(ErrorCode::BadRequest, "validity must be at least one day");
  std::time_t now = std::time(nullptr);  // X509_time_adj_ex takes it by non-const pointer
  const std::time_t not_before = now - static_cast<std::time_t>(backdate.count());
  if (ASN1_TIME_set(X509_getm_notBefore(cert), not_before) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, &now) == nullptr) {
    return scep::OpensslError(ErrorCode::Internal, "cannot set the validity period");
  }
  if (cap != nullptr && ASN1_TIME_compare(X509_get0_notAfter(cert), cap) > 0 && X509_set1_notAfter(cert, cap) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot cap the validity period");
  }
  return {};
}

scep::Result<void> SignCertificate(X509* cert, EVP_PKEY* key) {
  if (X509_sign(cert, key, SignatureDigest(key)) <= 0) {
    return scep::OpensslError(ErrorCode::Internal, "cannot sign the certificate");
  }
  return {};
}

scep::Result<scep::UniquePtr<X509>> MakeCaCertificate(EVP_PKEY* key, const X509_NAME* subject, int validity_days) {
  auto cert = StartCertificate(subject, subject, key);
  if (!cert) return cert.error();
  X509* x = cert->get();
  std::vector<std::string> usage{"keyCertSign", "cRLSign", "digitalSignature"};
  if (CanDecrypt(key)) usage.emplace_back("keyEncipherment");
  if (auto r = SetValidity(x, kCaBackdate, validity_days, nullptr); !r) return r.error();
  if (auto r = AddBasicConstraints(x, true); !r) return r.error();
  if (auto r = AddKeyUsage(x, usage); !r) return r.error();
  if (auto r = AddSubjectKeyId(x); !r) return r.error();
  auto key_id = KeyIdOf(x);
  if (!key_id) return key_id.error();
  auto aki = MakeAuthorityKeyId(*key_id);
  if (!aki) return aki.error();
  if (X509_add_ext(x, aki->get(), -1) != 1) return scep::OpensslError(ErrorCode::Internal, "cannot add AKI");
  if (auto r = SignCertificate(x, key); !r) return r.error();
  return cert;
}

scep::Result<scep::UniquePtr<X509>> MakeRaCertificate(const X509* ca, EVP_PKEY* ca_key, EVP_PKEY* ra_key,
                                                      const X509_NAME* subject,
                                                      std::span<const std::string> key_usage) {
  auto cert = StartCertificate(subject, X509_get_subject_name(ca), ra_key);
  if (!cert) return cert.error();
  X509* x = cert->get();
  const std::vector<std::string> eku{kCertificateRequestAgent};
  // Asking for more days than the CA has left makes the cap apply: the RA lives exactly as long as the CA.
  constexpr int kForever = 365 * 1000;
  if (auto r = SetValidity(x, kCaBackdate, kForever, X509_get0_notAfter(ca)); !r) return r.error();
  if (auto r = AddBasicConstraints(x, false); !r) return r.error();
  if (auto r = AddKeyUsage(x, key_usage); !r) return r.error();
  if (auto r = AddExtendedKeyUsage(x, eku); !r) return r.error();
  if (auto r = AddSubjectKeyId(x); !r) return r.error();
  auto aki = MakeAuthorityKeyId(ca);
  if (!aki) return aki.error();
  if (X509_add_ext(x, aki->get(), -1) != 1) return scep::OpensslError(ErrorCode::Internal, "cannot add AKI");
  if (auto r = SignCertificate(x, ca_key); !r) return r.error();
  return cert;
}

}  // namespace ca
