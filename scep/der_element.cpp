#include "scep/der_element.h"

#include <openssl/objects.h>

namespace scep {

std::optional<DerElement> ReadElement(const unsigned char* p, const unsigned char* end) {
  if (p == nullptr || p >= end) return std::nullopt;
  DerElement e;
  e.start = p;
  long length = 0;
  const int flags = ASN1_get_object(&p, &length, &e.tag, &e.xclass, end - e.start);
  if ((flags & 0x80) != 0 || (flags & 0x01) != 0 || length > end - p) return std::nullopt;  // error or indefinite
  e.constructed = (flags & V_ASN1_CONSTRUCTED) != 0;
  e.contents = p;
  e.end = p + length;
  return e;
}

bool IsObject(const std::optional<DerElement>& e, int nid) {
  if (!e || !e->Is(V_ASN1_UNIVERSAL, V_ASN1_OBJECT, false)) return false;
  const ASN1_OBJECT* known = OBJ_nid2obj(nid);  // a table entry for built-in NIDs: nothing to free
  const int length = known != nullptr ? OBJ_length(known) : 0;
  return length > 0 && e->end - e->contents == length && std::equal(e->contents, e->end, OBJ_get0_data(known));
}

UniquePtr<EVP_PKEY> DecodeRsaSpki(const DerElement& spki) {
  const unsigned char* p = spki.contents;
  UniquePtr<X509_ALGOR> alg(d2i_X509_ALGOR(nullptr, &p, spki.end - p));
  if (!alg) return nullptr;
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, alg.get());
  if (OBJ_obj2nid(oid) != NID_rsaEncryption) return nullptr;
  UniquePtr<ASN1_STRING> bits(d2i_ASN1_BIT_STRING(nullptr, &p, spki.end - p));
  if (!bits || p != spki.end) return nullptr;
  const unsigned char* key_bytes = ASN1_STRING_get0_data(bits.get());
  return UniquePtr<EVP_PKEY>(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &key_bytes, ASN1_STRING_length(bits.get())));
}

void AppendDerHeader(Bytes& out, unsigned char identifier, std::size_t length) {
  out.push_back(identifier);
  if (length < 0x80) {
    out.push_back(static_cast<std::uint8_t>(length));
    return;
  }
  unsigned char digits[sizeof(std::size_t)];
  std::size_t count = 0;
  for (std::size_t rest = length; rest != 0; rest >>= 8) digits[count++] = static_cast<unsigned char>(rest & 0xff);
  out.push_back(static_cast<std::uint8_t>(0x80 | count));
  while (count > 0) out.push_back(digits[--count]);
}

std::optional<SignedStructure> ReadSignedStructure(ByteView der) {
  const unsigned char* end = der.data() + der.size();
  auto outer = ReadElement(der.data(), end);
  if (!IsSequence(outer) || outer->end != end) return std::nullopt;
  auto body = ReadElement(outer->contents, end);
  if (!IsSequence(body)) return std::nullopt;
  const unsigned char* p = body->end;
  SignedStructure out{*body, UniquePtr<X509_ALGOR>(d2i_X509_ALGOR(nullptr, &p, end - p)), nullptr};
  out.signature.reset(d2i_ASN1_BIT_STRING(nullptr, &p, end - p));
  if (!out.signature_algorithm || !out.signature || p != end) return std::nullopt;
  return out;
}

std::optional<ContentInfoLayout> ReadContentInfo(ByteView der, int nid) {
  const unsigned char* end = der.data() + der.size();
  auto outer = ReadElement(der.data(), end);
  if (!IsSequence(outer) || outer->end != end) return std::nullopt;
  auto type = ReadElement(outer->contents, end);
  if (!IsObject(type, nid)) return std::nullopt;
  auto explicit_content = ReadElement(type->end, end);
  if (!explicit_content || !explicit_content->Is(V_ASN1_CONTEXT_SPECIFIC, 0, true) || explicit_content->end != end) {
    return std::nullopt;
  }
  auto content = ReadElement(explicit_content->contents, end);
  if (!IsSequence(content) || content->end != end) return std::nullopt;
  return ContentInfoLayout{*type, *content};
}

}  // namespace scep
