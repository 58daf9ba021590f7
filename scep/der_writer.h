// Writing DER directly, for the replies the gateway builds on every enrollment (see cms_writer.h): the counterpart
// of der_element.h's reader. Elements are written front to back; a constructed element's header is inserted once
// its contents, and so its length, are known.
#pragma once

#include <cstddef>

#include <openssl/objects.h>

#include "scep/der.h"
#include "scep/ossl_ptr.h"

namespace scep {

// DER identifier octets used by the writers.
namespace der {
inline constexpr unsigned char kInteger = 0x02;
inline constexpr unsigned char kOctetString = 0x04;
inline constexpr unsigned char kNull = 0x05;
inline constexpr unsigned char kOid = 0x06;
inline constexpr unsigned char kUtcTime = 0x17;
inline constexpr unsigned char kGeneralizedTime = 0x18;
inline constexpr unsigned char kSequence = 0x30;
inline constexpr unsigned char kSet = 0x31;
inline constexpr unsigned char kContext0 = 0xa0;       // [0] constructed
inline constexpr unsigned char kContext1 = 0xa1;       // [1] constructed
inline constexpr unsigned char kContext0Primitive = 0x80;
}  // namespace der

class DerWriter {
 public:
  explicit DerWriter(std::size_t expected_size = 0) { out_.reserve(expected_size); }

  // Marks where a constructed element starts; Close writes its header there.
  [[nodiscard]] std::size_t Open() const { return out_.size(); }
  void Close(std::size_t start, unsigned char identifier);

  void Primitive(unsigned char identifier, ByteView contents);
  void Raw(ByteView der) { out_.insert(out_.end(), der.begin(), der.end()); }
  void SmallInteger(unsigned char value);  // 0..127
  void Null() { Primitive(der::kNull, {}); }
  // An OBJECT IDENTIFIER from OpenSSL's object (its encoded contents, no allocation).
  void Oid(const ASN1_OBJECT* oid);
  void OidOfNid(int nid) { Oid(OBJ_nid2obj(nid)); }
  // Whatever an OpenSSL i2d function writes for `obj`; false if it cannot be encoded.
  template <typename T>
  [[nodiscard]] bool Encoded(const T* obj, int (*i2d)(const T*, unsigned char**)) {
    unsigned char* encoded = nullptr;
    const int length = obj != nullptr ? i2d(obj, &encoded) : -1;
    OpensslBytes owned(encoded);
    if (length <= 0) return false;
    out_.insert(out_.end(), encoded, encoded + length);
    return true;
  }

  [[nodiscard]] std::size_t size() const { return out_.size(); }
  [[nodiscard]] ByteView View(std::size_t start) const { return ByteView(out_).subspan(start); }
  // Replaces the identifier octet of the element written at `start` (a SET OF re-tagged [0] IMPLICIT).
  void Retag(std::size_t start, unsigned char identifier) { out_[start] = identifier; }
  [[nodiscard]] Bytes Take() { return std::move(out_); }

 private:
  Bytes out_;
  Bytes header_;  // reused for every header Close inserts
};

}  // namespace scep
