// The contents of CertPoll (IssuerAndSubject), GetCert and GetCRL (IssuerAndSerialNumber) requests.
#pragma once

#include <string>

#include "scep/der.h"
#include "scep/ossl_ptr.h"
#include "scep/result.h"

namespace scep {

// IssuerAndSubject ::= SEQUENCE { issuer Name, subject Name }   (RFC 8894 section 3.3.3)
struct IssuerAndSubject {
  UniquePtr<X509_NAME> issuer;
  UniquePtr<X509_NAME> subject;
};

// IssuerAndSerialNumber (RFC 5652 section 10.2.4)
struct IssuerAndSerial {
  UniquePtr<X509_NAME> issuer;
  std::string serial_hex;  // upper-case, as SerialHex() prints it
};

// BadRequest when the bytes do not decode.
[[nodiscard]] Result<IssuerAndSubject> ParseIssuerAndSubject(ByteView der);
[[nodiscard]] Result<IssuerAndSerial> ParseIssuerAndSerial(ByteView der);

// Encoders, for clients (tests and the benchmark build requests with them).
[[nodiscard]] Result<Bytes> EncodeIssuerAndSubject(const X509_NAME* issuer, const X509_NAME* subject);
[[nodiscard]] Result<Bytes> EncodeIssuerAndSerial(const X509_NAME* issuer, const ASN1_INTEGER* serial);

}  // namespace scep
