// The default CA backend: a CA key and certificate kept in a data directory, issuing certificates and CRLs itself.
//
// Files in the directory: ca.key (PKCS#8 PEM, 0600) and ca.pem; then the RA certificates the RA mode asks for, each
// an RSA-2048 key (0600) and a certificate issued by the CA: ra.key/ra.pem (single RA, also what an EC CA gets by
// default), ra-sign.key/ra-sign.pem and ra-enc.key/ra-enc.pem (split). Every RA certificate has CA:FALSE, EKU
// Certificate Request Agent (1.3.6.1.4.1.311.20.2.1), SKI/AKI and the CA's notAfter.
//
// RA subjects: RaOptions::subject when given (the same DN for both split RAs; they differ by key usage, as NDES's
// do), else the CA's subject with its CN extended: "<CA CN> RA", "<CA CN> RA Signing", "<CA CN> RA Encryption".
// O, OU, C and the rest of the CA's subject are kept, so the RA visibly belongs to its CA. The subject applies
// when an RA is created; an existing RA is reused as it is (delete its two files to have it re-issued).
#pragma once

#include <memory>
#include <string>

#include "ca-backend/cert_issuer.h"
#include "ca-backend/key_spec.h"

namespace ca {

// Which registration authority certificates speak SCEP for the CA (config key `ra.mode`).
enum class RaMode {
  Auto,    // none for an RSA CA (CA-only mode); one RA for a CA whose key cannot decrypt (EC)
  None,    // CA-only: the CA decrypts and signs; an error for a CA that cannot decrypt
  Single,  // one RA: digitalSignature + keyEncipherment (ra.pem, ra.key)
  Split,   // NDES style: a signing RA (digitalSignature; ra-sign.*) and an encryption RA (keyEncipherment; ra-enc.*)
};

struct RaOptions {
  RaMode mode = RaMode::Auto;
  std::string subject;  // DN for the RA certificate(s); empty = "CN=<CA CN> RA" (" Signing"/" Encryption" in split)
};

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
  // Loads the CA and the RA certificates `ra` asks for, creating (issuing) those that are missing. Several
  // instances may open one directory with different RA modes (endpoints sharing a CA). Errors (Internal): RA mode
  // None with a CA key that cannot decrypt; an existing RA whose certificate does not verify with the CA's key or
  // lacks the key usage of its role. A malformed RaOptions::subject is BadRequest.
  //
  // scep_identity(): CA-only: the CA decrypts and signs, published [CA]. Single: the RA does both, published
  // [CA, RA]. Split: the encryption RA decrypts, the signing RA signs, published [CA, encryption RA, signing RA].
  [[nodiscard]] static scep::Result<std::unique_ptr<EmbeddedCa>> Open(const std::string& dir,
                                                                      const RaOptions& ra = {});

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
