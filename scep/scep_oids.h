// Object identifiers of the SCEP signed attributes (RFC 8894 section 3.2.1), created once and shared.
#pragma once

#include <openssl/asn1.h>

namespace scep::oids {

// Borrowed pointers to process-wide objects; never free them.
const ASN1_OBJECT* MessageType();     // 2.16.840.1.113733.1.9.2
const ASN1_OBJECT* PkiStatus();       // 2.16.840.1.113733.1.9.3
const ASN1_OBJECT* FailInfo();        // 2.16.840.1.113733.1.9.4
const ASN1_OBJECT* SenderNonce();     // 2.16.840.1.113733.1.9.5
const ASN1_OBJECT* RecipientNonce();  // 2.16.840.1.113733.1.9.6
const ASN1_OBJECT* TransactionId();   // 2.16.840.1.113733.1.9.7
const ASN1_OBJECT* FailInfoText();    // 1.3.6.1.5.5.7.24.1

}  // namespace scep::oids
