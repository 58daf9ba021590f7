// Distinguished names for the CA and its RA, written the way operators write them ("CN=Example CA,O=Example,C=NL").
#pragma once

#include <string_view>

#include "scep/ossl_ptr.h"
#include "scep/result.h"

namespace ca {

// Parses "CN=...,O=...,C=..." in RFC 4514 order: the most specific RDN first, so that scep::NameToString gives the
// same text back. A comma inside a value is written "\,". Each part must be KEY=VALUE with a key OpenSSL knows
// (CN, O, OU, C, L, ST, emailAddress, DC, or a dotted OID). Any mistake is a BadRequest error naming the part.
[[nodiscard]] scep::Result<scep::UniquePtr<X509_NAME>> ParseDistinguishedName(std::string_view text);

// The RA's subject: the CA's subject with " SCEP RA" appended to its most specific CN (or a CN "SCEP RA" added
// when it has none); every other RDN is kept, so the RA visibly belongs to its CA.
[[nodiscard]] scep::Result<scep::UniquePtr<X509_NAME>> MakeRaSubject(const X509_NAME* ca_subject);

}  // namespace ca
