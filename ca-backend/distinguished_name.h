// Distinguished names for the CA and its RA, written the way operators write them ("CN=Example CA,O=Example,C=NL").
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "scep/ossl_ptr.h"
#include "scep/result.h"

namespace ca {

// Parses "CN=...,O=...,C=..." in RFC 4514 order: the most specific RDN first, so that scep::NameToString gives the
// same text back. A comma inside a value is written "\,". Each part must be KEY=VALUE with a key OpenSSL knows
// (CN, O, OU, C, L, ST, emailAddress, DC, or a dotted OID). Any mistake is a BadRequest error naming the part.
[[nodiscard]] scep::Result<scep::UniquePtr<X509_NAME>> ParseDistinguishedName(std::string_view text);

// An RA's default subject: the CA's subject with " <label>" appended to its most specific CN (or a CN
// "SCEP <label>" added when it has none); O, OU, C and every other RDN are kept, so the RA visibly belongs to its
// CA. Labels in use: "RA", "RA Signing", "RA Encryption".
[[nodiscard]] scep::Result<scep::UniquePtr<X509_NAME>> MakeRaSubject(const X509_NAME* ca_subject,
                                                                     std::string_view label);

// `subject` with policy overrides applied: every {type, value} replaces all RDNs of that type (several values of
// one type all go to where the first such RDN was, in the order given) or is appended as a new RDN when the
// subject has none. Types as ParseDistinguishedName takes them; values are encoded as UTF8String, except where
// X.520 fixes the type (C becomes a two-letter PrintableString, emailAddress and DC IA5String). An unknown type,
// an empty value or one the type does not allow is BadRequest.
[[nodiscard]] scep::Result<scep::UniquePtr<X509_NAME>> OverrideSubject(
    const X509_NAME* subject, std::span<const std::pair<std::string, std::string>> overrides);

}  // namespace ca
