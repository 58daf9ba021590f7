// The pieces of an X.509 v3 certificate the CA fills in: serial numbers and the extensions of RFC 5280 section 4.2.
//
// Every function builds the extension structure directly (or, for the URL lists, through OpenSSL's own value
// parser with no config file), so nothing is re-parsed from text on the hot path of Issue().
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "scep/der.h"
#include "scep/ossl_ptr.h"
#include "scep/result.h"

namespace ca {

// A random positive serial of exactly 16 bytes (RFC 5280 allows 20): the top bit is cleared so it stays positive
// and the next one is set so the encoding never shrinks and the value is never zero, leaving 126 random bits.
[[nodiscard]] scep::Result<void> SetRandomSerial(X509* cert);
// "0A1B..." (as scep::SerialHex prints it) back into an INTEGER. Empty or non-hex text is BadRequest.
[[nodiscard]] scep::Result<scep::UniquePtr<ASN1_INTEGER>> SerialFromHex(std::string_view hex);

// basicConstraints, always critical; CA:TRUE has no path length limit.
[[nodiscard]] scep::Result<void> AddBasicConstraints(X509* cert, bool is_ca);
// keyUsage (critical) from RFC 5280 names; nothing is added for an empty list; an unknown name is BadRequest.
[[nodiscard]] scep::Result<void> AddKeyUsage(X509* cert, std::span<const std::string> names);
// extKeyUsage (not critical) from short names or dotted OIDs; nothing for an empty list; unknown is BadRequest.
[[nodiscard]] scep::Result<void> AddExtendedKeyUsage(X509* cert, std::span<const std::string> names);

// The method 1 key identifier of RFC 5280 4.2.1.2: SHA-1 of the subjectPublicKey bits.
[[nodiscard]] scep::Result<scep::Bytes> KeyIdOf(const X509* cert);
// subjectKeyIdentifier = KeyIdOf(cert); the certificate's public key must already be set.
[[nodiscard]] scep::Result<void> AddSubjectKeyId(X509* cert);
// An authorityKeyIdentifier (keyid only) for certificates and CRLs signed by `issuer`: the issuer's own SKI
// extension when it has one, KeyIdOf(issuer) otherwise. Built once, added to many.
[[nodiscard]] scep::Result<scep::UniquePtr<X509_EXTENSION>> MakeAuthorityKeyId(const X509* issuer);
[[nodiscard]] scep::Result<scep::UniquePtr<X509_EXTENSION>> MakeAuthorityKeyId(scep::ByteView key_id);

// subjectAltName from "DNS:host", "IP:10.0.0.1" or "IP:2001:db8::1", "email:a@b.example", "URI:https://x" (type
// prefixes case-insensitive), in the order given; nothing for an empty list. Critical when `critical` (RFC 5280
// wants that for a certificate with an empty subject). A malformed entry is BadRequest naming it.
[[nodiscard]] scep::Result<void> AddSubjectAltNames(X509* cert, std::span<const std::string> names, bool critical);

// cRLDistributionPoints with one distribution point per URL; nothing for an empty list.
[[nodiscard]] scep::Result<void> AddCrlDistributionPoints(X509* cert, std::span<const std::string> urls);
// authorityInfoAccess with one caIssuers access description per URL; nothing for an empty list.
[[nodiscard]] scep::Result<void> AddCaIssuers(X509* cert, std::span<const std::string> urls);

}  // namespace ca
