// Assembling and signing certificates: the CA's own self-signed certificate, its SCEP RA certificate, and the
// common steps every issued certificate goes through.
#pragma once

#include <chrono>
#include <span>
#include <string>

#include "scep/ossl_ptr.h"
#include "scep/result.h"

namespace ca {

// Version 3, a random serial, the names and the public key: where every certificate the CA makes starts.
// A null `public_key` leaves the key to the caller (see CopyPublicKey).
[[nodiscard]] scep::Result<scep::UniquePtr<X509>> StartCertificate(const X509_NAME* subject, const X509_NAME* issuer,
                                                                   EVP_PKEY* public_key);
// Copies the request's SubjectPublicKeyInfo into the certificate bit for bit. X509_set_pubkey would re-encode the
// key through OpenSSL 3.0's encoder and decoder, which costs more than half an RSA-2048 signature; copying costs
// about a microsecond. The price: OpenSSL's cached EVP_PKEY inside the certificate stays empty, so
// X509_get0_pubkey() on the result returns null until the certificate is re-parsed from DER. The encoding itself
// is complete. A request whose key OpenSSL could not decode is BadRequest.
[[nodiscard]] scep::Result<void> CopyPublicKey(X509* cert, const X509_REQ* csr);
// notBefore = now - backdate (clients' clocks drift); notAfter = now + days, but never past `cap` when given.
[[nodiscard]] scep::Result<void> SetValidity(X509* cert, std::chrono::seconds backdate, int days,
                                             const ASN1_TIME* cap);
// Signs with `key` and the digest SignatureDigest(key) picks.
[[nodiscard]] scep::Result<void> SignCertificate(X509* cert, EVP_PKEY* key);

// Self-signed CA certificate: CA:TRUE (critical), keyUsage keyCertSign+cRLSign+digitalSignature (critical), plus
// keyEncipherment for RSA because CA-only SCEP clients encrypt their requests to it; SKI and AKI.
[[nodiscard]] scep::Result<scep::UniquePtr<X509>> MakeCaCertificate(EVP_PKEY* key, const X509_NAME* subject,
                                                                    int validity_days);
// A SCEP RA certificate issued by the CA for `ra_key`: the given subject and keyUsage (critical), EKU Certificate
// Request Agent (Windows clients insist on an EKU), CA:FALSE, SKI and AKI, valid as long as the CA.
[[nodiscard]] scep::Result<scep::UniquePtr<X509>> MakeRaCertificate(const X509* ca, EVP_PKEY* ca_key,
                                                                    EVP_PKEY* ra_key, const X509_NAME* subject,
                                                                    std::span<const std::string> key_usage);

}  // namespace ca
