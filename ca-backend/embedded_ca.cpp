#include "ca-backend/embedded_ca.h"

#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <span>
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

// One RA certificate: where it lives, what its key may do, and the label of its default subject.
struct RaRole {
  const char* cert_file;
  const char* key_file;
  std::span<const std::string> key_usage;
  std::uint32_t required_usage;  // KU_* bits an existing certificate must have for this role
  const char* label;             // see MakeRaSubject
};

const std::string kBothUsages[] = {"digitalSignature", "keyEncipherment"};
const std::string kSignUsage[] = {"digitalSignature"};
const std::string kEncryptUsage[] = {"keyEncipherment"};
const RaRole kSingleRa{"ra.pem", "ra.key", kBothUsages, KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT, "RA"};
const RaRole kSigningRa{"ra-sign.pem", "ra-sign.key", kSignUsage, KU_DIGITAL_SIGNATURE, "RA Signing"};
const RaRole kEncryptionRa{"ra-enc.pem", "ra-enc.key", kEncryptUsage, KU_KEY_ENCIPHERMENT, "RA Encryption"};

// `subject` null: the default, derived from the CA's subject.
scep::Result<KeyPair> CreateRa(const std::string& dir, const RaRole& role, const X509* ca, EVP_PKEY* ca_key,
                               const X509_NAME* subject) {
  scep::UniquePtr<X509_NAME> derived;
  if (subject == nullptr) {
    auto made = MakeRaSubject(X509_get_subject_name(ca), role.label);
    if (!made) return made.error();
    derived = std::move(*made);
    subject = derived.get();
  }
  auto ra_key = GenerateKey(KeySpec::Rsa2048);
  if (!ra_key) return ra_key.error();
  auto ra_cert = MakeRaCertificate(ca, ca_key, ra_key->get(), subject, role.key_usage);
  if (!ra_cert) return ra_cert.error();
  auto written = WriteKeyAndCert(PathIn(dir, role.key_file), ra_key->get(), PathIn(dir, role.cert_file),
                                 ra_cert->get());
  if (!written) return written.error();
  return KeyPair{std::move(*ra_cert), std::move(*ra_key)};
}

scep::Result<KeyPair> LoadRa(const std::string& dir, const RaRole& role, const X509* ca) {
  const std::string cert_path = PathIn(dir, role.cert_file);
  auto ra = LoadKeyPair(cert_path, PathIn(dir, role.key_file));
  if (!ra) return ra.error();
  if (X509_verify(ra->cert.get(), X509_get0_pubkey(ca)) != 1) {
    return scep::OpensslError(ErrorCode::Internal, cert_path + " was not issued by the CA in " + dir +
                                                       " (its signature does not verify with ca.pem's key)");
  }
  if ((X509_get_key_usage(ra->cert.get()) & role.required_usage) != role.required_usage) {
    std::string needed;
    for (const std::string& usage : role.key_usage) needed += (needed.empty() ? "" : "+") + usage;
    return scep::MakeError(ErrorCode::Internal, cert_path + " lacks the key usage its role needs: " + needed);
  }
  X509_check_purpose(ra->cert.get(), -1, 0);  // fill the extension cache before concurrent use, as for the CA
  return ra;
}

// Two instances opening one directory (endpoints sharing a CA) must not both issue the same missing RA, or the
// files could end up holding one's key beside the other's certificate. One gateway process opens all its
// endpoints, so a process-wide lock is enough; two processes creating RAs at the same moment are not covered.
std::mutex& RaFilesMutex() {
  static std::mutex mutex;
  return mutex;
}

scep::Result<KeyPair> LoadOrCreateRa(const std::string& dir, const RaRole& role, const KeyPair& ca,
                                     const X509_NAME* subject) {
  const std::lock_guard lock(RaFilesMutex());
  if (FileExists(PathIn(dir, role.cert_file)) && FileExists(PathIn(dir, role.key_file))) {
    return LoadRa(dir, role, ca.cert.get());
  }
  // A lone key or certificate is what a crash between the two writes leaves behind. An RA can be re-issued at
  // any time (clients fetch it with GetCACert), so a fresh pair simply replaces it.
  return CreateRa(dir, role, ca.cert.get(), ca.key.get(), subject);
}

// What GetCACert publishes and who decrypts and signs. `ras` are the RA certificates in publishing order.
ScepIdentity MakeIdentity(const KeyPair& ca, const KeyPair& decrypter, const KeyPair& signer,
                          std::initializer_list<const KeyPair*> ras) {
  ScepIdentity id;
  id.decrypt_cert = scep::UpRef(decrypter.cert.get());
  id.decrypt_key = scep::UpRef(decrypter.key.get());
  id.sign_cert = scep::UpRef(signer.cert.get());
  id.sign_key = scep::UpRef(signer.key.get());
  id.published.push_back(scep::UpRef(ca.cert.get()));
  for (const KeyPair* ra : ras) id.published.push_back(scep::UpRef(ra->cert.get()));
  return id;
}

enum class RaLayout { CaOnly, Single, Split };

scep::Result<RaLayout> LayoutFor(RaMode mode, bool ca_can_decrypt) {
  switch (mode) {
    case RaMode::Auto:
      return ca_can_decrypt ? RaLayout::CaOnly : RaLayout::Single;
    case RaMode::None:
      if (ca_can_decrypt) return RaLayout::CaOnly;
      return scep::MakeError(ErrorCode::Internal,
                             "RA mode none needs a CA key that can decrypt SCEP requests (RSA); this CA's key "
                             "cannot, so use RA mode auto, single or split");
    case RaMode::Single:
      return RaLayout::Single;
    case RaMode::Split:
      return RaLayout::Split;
  }
  return scep::MakeError(ErrorCode::Internal, "unknown RA mode");
}

scep::Result<ScepIdentity> LoadSpeakers(const std::string& dir, RaLayout layout, const KeyPair& ca,
                                        const X509_NAME* subject) {
  if (layout == RaLayout::CaOnly) return MakeIdentity(ca, ca, ca, {});
  if (layout == RaLayout::Single) {
    auto ra = LoadOrCreateRa(dir, kSingleRa, ca, subject);
    if (!ra) return ra.error();
    return MakeIdentity(ca, *ra, *ra, {&*ra});
  }
  auto sign = LoadOrCreateRa(dir, kSigningRa, ca, subject);
  if (!sign) return sign.error();
  auto encrypt = LoadOrCreateRa(dir, kEncryptionRa, ca, subject);
  if (!encrypt) return encrypt.error();
  // [CA, encryption RA, signing RA]: the encryption RA is the first certificate that is not the CA, which is the
  // one clients that take "the RA" without looking at key usage (certmonger's helper) encrypt to; clients that
  // sort by keyUsage (strongSwan, Windows) or encrypt to every certificate (micromdm's scepclient) find it too.
  return MakeIdentity(ca, *encrypt, *sign, {&*encrypt, &*sign});
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
    if (auto ra = CreateRa(dir, kSingleRa, cert->get(), key->get(), nullptr); !ra) return ra.error();
  }
  return WriteKeyAndCert(PathIn(dir, "ca.key"), key->get(), PathIn(dir, "ca.pem"), cert->get());
}

scep::Result<std::unique_ptr<EmbeddedCa>> EmbeddedCa::Open(const std::string& dir, const RaOptions& ra) {
  scep::UniquePtr<X509_NAME> ra_subject;  // null: each RA's default
  if (!ra.subject.empty()) {
    auto parsed = ParseDistinguishedName(ra.subject);
    if (!parsed) return scep::MakeError(parsed.error().code, "RA subject: " + parsed.error().detail);
    ra_subject = std::move(*parsed);
  }
  auto ca = LoadKeyPair(PathIn(dir, "ca.pem"), PathIn(dir, "ca.key"));
  if (!ca) return ca.error();
  // Fill OpenSSL's per-certificate extension cache now rather than on the first concurrent Issue().
  X509_check_purpose(ca->cert.get(), -1, 0);
  auto layout = LayoutFor(ra.mode, CanDecrypt(ca->key.get()));
  if (!layout) return layout.error();
  auto identity = LoadSpeakers(dir, *layout, *ca, ra_subject.get());
  if (!identity) return identity.error();
  auto aki = MakeAuthorityKeyId(ca->cert.get());
  if (!aki) return aki.error();
  return std::unique_ptr<EmbeddedCa>(
      new EmbeddedCa(std::move(ca->cert), std::move(ca->key), std::move(*aki), std::move(*identity)));
}

scep::Result<scep::UniquePtr<X509>> EmbeddedCa::Issue(const X509_REQ* csr, const CertTemplate& tmpl) {
  if (csr == nullptr) return scep::MakeError(ErrorCode::BadRequest, "no certificate request");
  if (X509_cmp_current_time(X509_get0_notAfter(ca_cert_.get())) <= 0) {
    return scep::MakeError(ErrorCode::Internal, "the CA certificate has expired");
  }
  const X509_NAME* subject = X509_REQ_get_subject_name(csr);
  scep::UniquePtr<X509_NAME> overridden;  // only built when policy asks: the common case copies the CSR's name
  if (!tmpl.force_subject.empty()) {
    auto name = OverrideSubject(subject, tmpl.force_subject);
    if (!name) return name.error();
    overridden = std::move(*name);
    subject = overridden.get();
  }
  auto cert = StartCertificate(subject, X509_get_subject_name(ca_cert_.get()), nullptr);
  if (!cert) return cert.error();
  X509* x = cert->get();
  if (auto r = CopyPublicKey(x, csr); !r) return r.error();
  if (auto r = SetValidity(x, kIssueBackdate, tmpl.validity_days, X509_get0_notAfter(ca_cert_.get())); !r) {
    return r.error();
  }
  // RFC 5280 4.2.1.6: with an empty subject the names live only here, and the extension must be critical.
  const bool empty_subject = X509_NAME_entry_count(subject) == 0;
  auto sans = tmpl.subject_alt_names ? AddSubjectAltNames(x, *tmpl.subject_alt_names, empty_subject)
                                     : CopySubjectAltName(x, csr);
  if (!sans) return sans.error();
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
