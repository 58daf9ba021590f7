// The default CA backend: a CA key and certificate kept in a data directory, issuing certificates and CRLs itself.
//
// Files in the directory: ca.key (PKCS#8 PEM, 0600), ca.pem, and for a CA whose key cannot receive SCEP's key
// transport (EC) also ra.key (RSA-2048, 0600) and ra.pem, an RA certificate issued by the CA.
#pragma once

#include <memory>
#include <string>

#include "ca-backend/cert_issuer.h"
#include "ca-backend/key_spec.h"

namespace ca {

struct CaInitOptions {
  std::string subject = "CN=SCEP Gateway CA";  // RFC 4514 order, see ParseDistinguishedName
  KeySpec key = KeySpec::Rsa3072;
  int validity_days = 3650;
};

class EmbeddedCa final : public CertIssuer {
 public:
  // ca.pem and ca.key are both present.
  static bool Exists(const std::string& dir);
  // Creates the directory (0700) if missing, a key, the self-signed certificate and, for an EC key, the RA.
  // Refuses to touch a directory that already holds ca.pem or ca.key.
  [[nodiscard]] static scep::Result<void> Init(const std::string& dir, const CaInitOptions& options);
  // Loads the CA (and RA); an EC CA that lacks ra.* gets them created now.
  [[nodiscard]] static scep::Result<std::unique_ptr<EmbeddedCa>> Open(const std::string& dir);

  const X509* ca_cert() const override { return ca_cert_.get(); }
  // The public key is copied as encoded (see CopyPublicKey), so X509_get0_pubkey() on the result is null; use
  // X509_get_X509_PUBKEY() or the DER. Errors: BadRequest for template or request problems, Internal otherwise.
  [[nodiscard]] scep::Result<scep::UniquePtr<X509>> Issue(const X509_REQ* csr, const CertTemplate& tmpl) override;
  [[nodiscard]] scep::Result<scep::UniquePtr<X509_CRL>> MakeCrl(std::span<const RevokedCert> revoked,
                                                                std::chrono::seconds next_update) override;
  const ScepIdentity& scep_identity() const override { return identity_; }

 private:
  EmbeddedCa(scep::UniquePtr<X509> cert, scep::UniquePtr<EVP_PKEY> key, scep::UniquePtr<X509_EXTENSION> aki,
             ScepIdentity identity);

  // All of it is immutable after Open(), which is what makes Issue() and MakeCrl() safe to call concurrently.
  const scep::UniquePtr<X509> ca_cert_;
  const scep::UniquePtr<EVP_PKEY> ca_key_;
  const scep::UniquePtr<X509_EXTENSION> authority_key_id_;  // computed once, copied into every certificate
  const ScepIdentity identity_;
};

}  // namespace ca
