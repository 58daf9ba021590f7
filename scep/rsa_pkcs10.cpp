#include "scep/rsa_pkcs10.h"

#include <algorithm>

#include <openssl/err.h>

#include "scep/der_element.h"

namespace scep {
namespace {

// Copies each Attribute of the [0] IMPLICIT SET OF Attribute into the request.
bool AddAttributes(X509_REQ* req, const DerElement& set) {
  for (const unsigned char* p = set.contents; p < set.end;) {
    const unsigned char* q = p;
    UniquePtr<X509_ATTRIBUTE> attr(d2i_X509_ATTRIBUTE(nullptr, &q, set.end - p));
    if (!attr || X509_REQ_add1_attr(req, attr.get()) != 1) return false;
    p = q;
  }
  return true;
}

// Reads CertificationRequestInfo's fields into `req`; false when anything is not as the fast path expects.
bool ReadRequestInfo(X509_REQ* req, const DerElement& info) {
  auto version = ReadElement(info.contents, info.end);
  if (!version || version->tag != V_ASN1_INTEGER || version->xclass != V_ASN1_UNIVERSAL) return false;
  const unsigned char* p = version->start;
  UniquePtr<ASN1_STRING> version_value(d2i_ASN1_INTEGER(nullptr, &p, version->size()));
  if (!version_value || X509_REQ_set_version(req, ASN1_INTEGER_get(version_value.get())) != 1) return false;
  UniquePtr<X509_NAME> subject(d2i_X509_NAME(nullptr, &p, info.end - p));
  if (!subject || X509_REQ_set_subject_name(req, subject.get()) != 1) return false;
  auto spki = ReadElement(p, info.end);
  if (!IsSequence(spki)) return false;
  UniquePtr<EVP_PKEY> key = DecodeRsaSpki(*spki);
  if (!key || X509_REQ_set_pubkey(req, key.get()) != 1) return false;
  auto attributes = ReadElement(spki->end, info.end);
  if (!attributes || attributes->xclass != V_ASN1_CONTEXT_SPECIFIC || attributes->tag != 0) return false;
  return attributes->end == info.end && AddAttributes(req, *attributes);
}

UniquePtr<X509_REQ> AssembleRequest(ByteView der) {
  auto signed_structure = ReadSignedStructure(der);
  if (!signed_structure) return nullptr;
  UniquePtr<X509_REQ> req(X509_REQ_new());
  if (!req || !ReadRequestInfo(req.get(), signed_structure->body) ||
      X509_REQ_set1_signature_algo(req.get(), signed_structure->signature_algorithm.get()) != 1) {
    return nullptr;
  }
  X509_REQ_set0_signature(req.get(), signed_structure->signature.release());
  return req;
}

}  // namespace

UniquePtr<X509_REQ> DecodeRsaPkcs10(ByteView der) {
  if (der.empty()) return nullptr;
  // Same object only if it encodes to the very bytes we were given (this also rules out BER and odd encodings).
  return KeepIfEncodesTo<X509_REQ>(AssembleRequest(der), i2d_X509_REQ, der);
}

}  // namespace scep
