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
  const unsigned char* end = der.data() + der.size();
  auto outer = ReadElement(der.data(), end);
  if (!IsSequence(outer) || outer->end != end) return nullptr;
  auto info = ReadElement(outer->contents, end);
  if (!IsSequence(info)) return nullptr;
  UniquePtr<X509_REQ> req(X509_REQ_new());
  if (!req || !ReadRequestInfo(req.get(), *info)) return nullptr;
  const unsigned char* p = info->end;
  UniquePtr<X509_ALGOR> signature_alg(d2i_X509_ALGOR(nullptr, &p, end - p));
  UniquePtr<ASN1_STRING> signature(d2i_ASN1_BIT_STRING(nullptr, &p, end - p));
  if (!signature_alg || !signature || p != end ||
      X509_REQ_set1_signature_algo(req.get(), signature_alg.get()) != 1) {
    return nullptr;
  }
  X509_REQ_set0_signature(req.get(), signature.release());
  return req;
}

}  // namespace

UniquePtr<X509_REQ> DecodeRsaPkcs10(ByteView der) {
  if (der.empty()) return nullptr;
  UniquePtr<X509_REQ> req = AssembleRequest(der);
  // Same object only if it encodes to the very bytes we were given (this also rules out BER and odd encodings).
  unsigned char* encoded = nullptr;
  const int length = req ? i2d_X509_REQ(req.get(), &encoded) : -1;
  OpensslBytes owned(encoded);
  const bool same = length > 0 && static_cast<std::size_t>(length) == der.size() &&
                    std::equal(der.begin(), der.end(), encoded);
  ERR_clear_error();
  return same ? std::move(req) : nullptr;
}

}  // namespace scep
