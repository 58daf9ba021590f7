#include "ca-backend/embedded_ca.h"

#include <optional>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "ca-backend/ca_certificate.h"
#include "ca-backend/ca_files.h"
#include "ca-backend/distinguished_name.h"
#include "ca-backend/revocation_list.h"
#include "ca-backend/x509_extensions.h"
#include "scep/der.h"

namespace ca {
namespace {

using scep::ErrorCode;

constexpr std::chrono::seconds kIssueBackdate{60};
constexpr mode_t kPrivateMode = 0600;
constexpr mode_t kPublicMode = 0644;

std::string PathIn(const std::string& dir, const char* name) { return dir + "/" + name; }

scep::Result<void> WriteKeyAndCert(const std::string& key_path, const EVP_PKEY* key, const std::string& cert_path,
                                   const X509* cert) {
  auto key_pem = scep::KeyToPem(key);
  if (!key_pem) return key_pem.error();
  auto cert_pem = scep::CertToPem(cert);
  if (!cert_pem) return cert_pem.error();
  // The key first: a certificate on disk always has its key beside it.
  auto written = WriteFileAtomically(key_path, *key_pem, kPrivateMode);
  OPENSSL_cleanse(key_pem->data(), key_pem->size());  // no stray copy of the private key left on the heap
  if (!written) return written;
  return WriteFileAtomically(cert_path, *cert_pem, kPublicMode);
}

struct KeyPair {
  scep::UniquePtr<X509> cert;
  scep::UniquePtr<EVP_PKEY> key;
};

scep::Result<KeyPair> LoadKeyPair(const std::string& cert_path, const std::string& key_path) {
  auto cert_pem = ReadWholeFile(cert_path);
  if (!cert_pem) return cert_pem.error();
  auto key_pem = ReadWholeFile(key_path);
  if (!key_pem) return key_pem.error();
  auto cert = scep::CertFromPem(*cert_pem);
  if (!cert) return scep::MakeError(ErrorCode::Internal, cert_path + ": " + cert.error().ToString());
  auto key = scep::KeyFromPem(*key_pem);
  OPENSSL_cleanse(key_pem->data(), key_pem->size());  // no stray copy of the private key left on the heap
  // The key's error says nothing about its contents, so it is safe to pass on.
  if (!key) return scep::MakeError(ErrorCode::Internal, key_path + ": " + key.error().ToString());
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    return scep::OpensslError(ErrorCode::Internal, key_path + " does not belong to " + cert_path);
  }
  return KeyPair{std::move(*cert), std::move(*key)};
}

scep::Result<KeyPair> CreateRa(const std::string& dir, const X509* ca, EVP_PKEY* ca_key) {
  auto ra_key = GenerateKey(KeySpec::Rsa2048);
  if (!ra_key) return ra_key.error();
  auto ra_cert = MakeRaCertificate(ca, ca_key, ra_key->get());
  if (!ra_cert) return ra_cert.error();
  if (auto r = WriteKeyAndCert(PathIn(dir, "ra.key"), ra_key->get(), PathIn(dir, "ra.pem"), ra_cert->get()); !r) {
    return r.error();
  }
  return KeyPair{std::move(*ra_cert), std::move(*ra_key)};
}

// CA-only mode when the CA key can decrypt; otherwise the RA decrypts and signs and GetCACert shows both.
ScepIdentity MakeIdentity(X509* ca, EVP_PKEY* ca_key, X509* ra, EVP_PKEY* ra_key) {
  ScepIdentity id;
  X509* speaker = ra != nullptr ? ra : ca;
  EVP_PKEY* speaker_key = ra != nullptr ? ra_key : ca_key;
  id.decrypt_cert = scep::UpRef(speaker);
  id.decrypt_key = scep::UpRef(speaker_key);
  id.sign_cert = scep::UpRef(speaker);
  id.sign_key = scep::UpRef(speaker_key);
  id.published.push_back(scep::UpRef(ca));
  if (ra != nullptr) id.published.push_back(scep::UpRef(ra));
  return id;
}

scep::Result<void> CopySubjectAltName(X509* cert, const X509_REQ* csr) {
  // OpenSSL 3.0 wants a non-const request here, yet only decodes its extensionRequest attribute.
  scep::UniquePtr<STACK_OF(X509_EXTENSION)> requested(X509_REQ_get_extensions(const_cast<X509_REQ*>(csr)));
  if (!requested) {
    if (ERR_peek_error() != 0) return scep::OpensslError(ErrorCode::BadRequest, "unreadable extensionRequest");
    return {};
  }
  const int at = X509v3_get_ext_by_NID(requested.get(), NID_subject_alt_name, -1);
  if (at < 0) return {};
  if (X509_add_ext(cert, X509v3_get_ext(requested.get(), at), -1) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot copy subjectAltName");
  }
  return {};
}

}  // namespace

EmbeddedCa::EmbeddedCa(scep::UniquePtr<X509> cert, scep::UniquePtr<EVP_PKEY> key,
                       scep::UniquePtr<X509_EXTENSION> aki, ScepIdentity identity)
    : ca_cert_(std::move(cert)),
      ca_key_(std::move(key)),
      authority_key_id_(std::move(aki)),
      identity_(std::move(identity)) {}

bool EmbeddedCa::Exists(const std::string& dir) {
  return FileExists(PathIn(dir, "ca.pem")) && FileExists(PathIn(dir, "ca.key"));
}

scep::Result<void> EmbeddedCa::Init(const std::string& dir, const CaInitOptions& options) {
  if (options.validity_days <= 0) return scep::MakeError(ErrorCode::BadRequest, "CA validity must be positive");
  auto subject = ParseDistinguishedName(options.subject);
  if (!subject) return subject.error();
  if (auto r = EnsureDirectory(dir); !r) return r;
  if (FileExists(PathIn(dir, "ca.pem")) || FileExists(PathIn(dir, "ca.key"))) {
    return scep::MakeError(ErrorCode::Internal, "a CA already exists in " + dir + "; refusing to overwrite it");
  }
  auto key = GenerateKey(options.key);
  if (!key) return key.error();
  auto cert = MakeCaCertificate(key->get(), subject->get(), options.validity_days);
  if (!cert) return cert.error();
  // The RA before ca.pem, so that Exists() only turns true once everything is in place.
  if (!CanDecrypt(key->get())) {
    if (auto ra = CreateRa(dir, cert->get(), key->get()); !ra) return ra.error();
  }
  return WriteKeyAndCert(PathIn(dir, "ca.key"), key->get(), PathIn(dir, "ca.pem"), cert->get());
}

scep::Result<std::unique_ptr<EmbeddedCa>> EmbeddedCa::Open(const std::string& dir) {
  auto ca = LoadKeyPair(PathIn(dir, "ca.pem"), PathIn(dir, "ca.key"));
  if (!ca) return ca.error();
  // Fill OpenSSL's per-certificate extension cache now rather than on the first concurrent Issue().
  X509_check_purpose(ca->cert.get(), -1, 0);
  std::optional<KeyPair> ra;
  if (!CanDecrypt(ca->key.get())) {
    const bool have_ra = FileExists(PathIn(dir, "ra.pem")) && FileExists(PathIn(dir, "ra.key"));
    auto loaded = have_ra ? LoadKeyPair(PathIn(dir, "ra.pem"), PathIn(dir, "ra.key"))
                          : CreateRa(dir, ca->cert.get(), ca->key.get());
    if (!loaded) return loaded.error();
    ra = std::move(*loaded);
  }
  auto aki = MakeAuthorityKeyId(ca->cert.get());
  if (!aki) return aki.error();
  ScepIdentity identity = MakeIdentity(ca->cert.get(), ca->key.get(), ra ? ra->cert.get() : nullptr,
                                       ra ? ra->key.get() : nullptr);
  return std::unique_ptr<EmbeddedCa>(
      new EmbeddedCa(std::move(ca->cert), std::move(ca->key), std::move(*aki), std::move(identity)));
}

scep::Result<scep::UniquePtr<X509>> EmbeddedCa::Issue(const X509_REQ* csr, const CertTemplate& tmpl) {
  if (csr == nullptr) return scep::MakeError(ErrorCode::BadRequest, "no certificate request");
  if (X509_cmp_current_time(X509_get0_notAfter(ca_cert_.get())) <= 0) {
    return scep::MakeError(ErrorCode::Internal, "the CA certificate has expired");
  }
  auto cert = StartCertificate(X509_REQ_get_subject_name(csr), X509_get_subject_name(ca_cert_.get()), nullptr);
  if (!cert) return cert.error();
  X509* x = cert->get();
  if (auto r = CopyPublicKey(x, csr); !r) return r.error();
  if (auto r = SetValidity(x, kIssueBackdate, tmpl.validity_days, X509_get0_notAfter(ca_cert_.get())); !r) {
    return r.error();
  }
  if (auto r = CopySubjectAltName(x, csr); !r) return r.error();
  if (auto r = AddBasicConstraints(x, false); !r) return r.error();
  if (auto r = AddKeyUsage(x, tmpl.key_usage); !r) return r.error();
  if (auto r = AddExtendedKeyUsage(x, tmpl.extended_key_usage); !r) return r.error();
  if (auto r = AddSubjectKeyId(x); !r) return r.error();
  if (X509_add_ext(x, authority_key_id_.get(), -1) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot add authorityKeyIdentifier");
  }
  if (auto r = AddCrlDistributionPoints(x, tmpl.crl_distribution_points); !r) return r.error();
  if (auto r = AddCaIssuers(x, tmpl.ca_issuers_urls); !r) return r.error();
  if (auto r = SignCertificate(x, ca_key_.get()); !r) return r.error();
  return cert;
}

scep::Result<scep::UniquePtr<X509_CRL>> EmbeddedCa::MakeCrl(std::span<const RevokedCert> revoked,
                                                            std::chrono::seconds next_update) {
  return BuildCrl(ca_cert_.get(), ca_key_.get(), authority_key_id_.get(), revoked, next_update);
}

}  // namespace ca
