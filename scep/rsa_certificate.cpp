#include "scep/rsa_certificate.h"

#include <openssl/err.h>

#include "scep/der_element.h"

namespace scep {
namespace {

// OpenSSL 3.0 has setters for every TBSCertificate field but the two AlgorithmIdentifiers and the signature value;
// those are members of the X509 that X509_get0_tbs_sigalg and X509_get0_signature lend out, so we copy into them.
bool CopyAlgorithm(const X509_ALGOR* into, const X509_ALGOR* from) {
  return X509_ALGOR_copy(const_cast<X509_ALGOR*>(into), from) == 1;
}

// version [0] EXPLICIT INTEGER, if present; `p` moves past it.
bool ReadVersion(X509* cert, const unsigned char*& p, const unsigned char* end) {
  auto first = ReadElement(p, end);
  if (!first || !first->Is(V_ASN1_CONTEXT_SPECIFIC, 0, true)) return true;  // absent: version 1
  const unsigned char* q = first->contents;
  UniquePtr<ASN1_STRING> version(d2i_ASN1_INTEGER(nullptr, &q, first->end - q));
  if (!version || q != first->end || X509_set_version(cert, ASN1_INTEGER_get(version.get())) != 1) return false;
  p = first->end;
  return true;
}

bool ReadValidity(X509* cert, const unsigned char*& p, const unsigned char* end) {
  auto validity = ReadElement(p, end);
  if (!IsSequence(validity)) return false;
  const unsigned char* q = validity->contents;
  UniquePtr<ASN1_STRING> not_before(d2i_ASN1_TIME(nullptr, &q, validity->end - q));
  UniquePtr<ASN1_STRING> not_after(d2i_ASN1_TIME(nullptr, &q, validity->end - q));
  if (!not_before || !not_after || q != validity->end) return false;
  p = validity->end;
  return X509_set1_notBefore(cert, not_before.get()) == 1 && X509_set1_notAfter(cert, not_after.get()) == 1;
}

// extensions [3] EXPLICIT SEQUENCE OF Extension, the last field (unique IDs [1] and [2] are not for the fast path).
bool ReadExtensions(X509* cert, const unsigned char* p, const unsigned char* end) {
  if (p == end) return true;
  auto tagged = ReadElement(p, end);
  if (!tagged || !tagged->Is(V_ASN1_CONTEXT_SPECIFIC, 3, true) || tagged->end != end) return false;
  auto list = ReadElement(tagged->contents, tagged->end);
  if (!IsSequence(list) || list->end != tagged->end) return false;
  for (const unsigned char* q = list->contents; q < list->end;) {
    UniquePtr<X509_EXTENSION> extension(d2i_X509_EXTENSION(nullptr, &q, list->end - q));
    if (!extension || X509_add_ext(cert, extension.get(), -1) != 1) return false;
  }
  return true;
}

bool ReadTbsCertificate(X509* cert, const DerElement& tbs) {
  const unsigned char* p = tbs.contents;
  const unsigned char* end = tbs.end;
  if (!ReadVersion(cert, p, end)) return false;
  UniquePtr<ASN1_STRING> serial(d2i_ASN1_INTEGER(nullptr, &p, end - p));
  if (!serial || X509_set_serialNumber(cert, serial.get()) != 1) return false;
  UniquePtr<X509_ALGOR> signature_alg(d2i_X509_ALGOR(nullptr, &p, end - p));
  if (!signature_alg || !CopyAlgorithm(X509_get0_tbs_sigalg(cert), signature_alg.get())) return false;
  UniquePtr<X509_NAME> issuer(d2i_X509_NAME(nullptr, &p, end - p));
  if (!issuer || X509_set_issuer_name(cert, issuer.get()) != 1) return false;
  if (!ReadValidity(cert, p, end)) return false;
  UniquePtr<X509_NAME> subject(d2i_X509_NAME(nullptr, &p, end - p));
  if (!subject || X509_set_subject_name(cert, subject.get()) != 1) return false;
  auto spki = ReadElement(p, end);
  if (!IsSequence(spki)) return false;
  UniquePtr<EVP_PKEY> key = DecodeRsaSpki(*spki);
  if (!key || X509_set_pubkey(cert, key.get()) != 1) return false;
  return ReadExtensions(cert, spki->end, end);
}

UniquePtr<X509> AssembleCertificate(ByteView der) {
  auto signed_structure = ReadSignedStructure(der);
  if (!signed_structure) return nullptr;
  UniquePtr<X509> cert(X509_new());
  if (!cert || !ReadTbsCertificate(cert.get(), signed_structure->body)) return nullptr;
  const ASN1_BIT_STRING* cert_signature = nullptr;
  const X509_ALGOR* cert_signature_alg = nullptr;
  X509_get0_signature(&cert_signature, &cert_signature_alg, cert.get());
  if (!CopyAlgorithm(cert_signature_alg, signed_structure->signature_algorithm.get()) ||
      ASN1_STRING_copy(const_cast<ASN1_BIT_STRING*>(cert_signature), signed_structure->signature.get()) != 1) {
    return nullptr;
  }
  return cert;
}

}  // namespace

UniquePtr<X509> DecodeRsaCertificate(ByteView der) {
  if (der.empty()) return nullptr;
  // Same object only if it encodes to the very bytes we were given (this also rules out BER and odd encodings).
  return KeepIfEncodesTo<X509>(AssembleCertificate(der), i2d_X509, der);
}

}  // namespace scep
