// Walking DER without building OpenSSL objects: the shared reader of the RSA fast paths (rsa_pkcs10, rsa_certificate,
// rsa_signed_data). Definite lengths only; anything else is "not for the fast path".
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>

#include <openssl/err.h>

#include "scep/der.h"
#include "scep/ossl_ptr.h"

namespace scep {

// One TLV element: where it starts, where its contents start and where it ends.
struct DerElement {
  const unsigned char* start = nullptr;
  const unsigned char* contents = nullptr;
  const unsigned char* end = nullptr;
  int tag = 0;
  int xclass = 0;
  bool constructed = false;

  [[nodiscard]] long size() const { return end - start; }
  [[nodiscard]] bool Is(int want_class, int want_tag, bool want_constructed) const {
    return xclass == want_class && tag == want_tag && constructed == want_constructed;
  }
};

// The element at `p` (definite length only), without going past `end`; nullopt on anything else.
[[nodiscard]] std::optional<DerElement> ReadElement(const unsigned char* p, const unsigned char* end);

[[nodiscard]] inline bool IsSequence(const std::optional<DerElement>& e) {
  return e && e->Is(V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, true);
}

// True when `e` is an OBJECT IDENTIFIER naming `nid`, compared as encoded bytes (no ASN1_OBJECT is built).
[[nodiscard]] bool IsObject(const std::optional<DerElement>& e, int nid);

// A ContentInfo { contentType, [0] EXPLICIT content } spanning exactly `der`, whose contentType is `nid` and whose
// content is a SEQUENCE (SignedData, EnvelopedData); nullopt for anything else.
struct ContentInfoLayout {
  DerElement type;     // the contentType OBJECT IDENTIFIER
  DerElement content;  // the SEQUENCE inside [0]
};
[[nodiscard]] std::optional<ContentInfoLayout> ReadContentInfo(ByteView der, int nid);

// The RSA public key of a SubjectPublicKeyInfo whose algorithm is rsaEncryption, decoded with d2i_PublicKey (no
// provider decoder chain); nullptr for any other key.
[[nodiscard]] UniquePtr<EVP_PKEY> DecodeRsaSpki(const DerElement& spki);

// Appends a DER identifier octet and the definite length `length` (short or long form).
void AppendDerHeader(Bytes& out, unsigned char identifier, std::size_t length);

// True when `obj` encodes (through `i2d`) to exactly `der`: the fast paths' proof that they built the same object.
template <typename T>
[[nodiscard]] bool EncodesTo(const T* obj, int (*i2d)(const T*, unsigned char**), ByteView der) {
  unsigned char* encoded = nullptr;
  const int length = obj != nullptr ? i2d(obj, &encoded) : -1;
  OpensslBytes owned(encoded);
  return length > 0 && static_cast<std::size_t>(length) == der.size() &&
         std::equal(der.begin(), der.end(), encoded);
}

// Keeps what a fast path built only if it encodes to exactly `der`, and clears the error queue either way (a
// fast path that gives up must leave no trace for the slow path that follows).
template <typename T>
[[nodiscard]] UniquePtr<T> KeepIfEncodesTo(UniquePtr<T> obj, int (*i2d)(const T*, unsigned char**), ByteView der) {
  const bool same = obj && EncodesTo<T>(obj.get(), i2d, der);
  ERR_clear_error();
  return same ? std::move(obj) : nullptr;
}

// A signed structure (certificate, PKCS#10): SEQUENCE { body SEQUENCE, AlgorithmIdentifier, BIT STRING }.
struct SignedStructure {
  DerElement body;
  UniquePtr<X509_ALGOR> signature_algorithm;
  UniquePtr<ASN1_STRING> signature;
};
// nullopt unless `der` is exactly one such structure.
[[nodiscard]] std::optional<SignedStructure> ReadSignedStructure(ByteView der);

}  // namespace scep
