#include "scep/message_content.h"

#include <openssl/err.h>

namespace scep {
namespace {

Result<UniquePtr<X509_NAME>> ReadName(const unsigned char*& p, const unsigned char* end) {
  if (p >= end) return MakeError(ErrorCode::BadRequest, "IssuerAndSubject is truncated");
  UniquePtr<X509_NAME> name(d2i_X509_NAME(nullptr, &p, static_cast<long>(end - p)));
  if (!name) return OpensslError(ErrorCode::BadRequest, "IssuerAndSubject holds an invalid Name");
  return name;
}

Result<Bytes> NameDer(const X509_NAME* name) { return EncodeDer(name, i2d_X509_NAME); }

}  // namespace

Result<IssuerAndSubject> ParseIssuerAndSubject(ByteView der) {
  const unsigned char* p = der.data();
  long len = 0;
  int tag = 0, cls = 0;
  const int flags = ASN1_get_object(&p, &len, &tag, &cls, static_cast<long>(der.size()));
  if ((flags & 0x80) != 0 || tag != V_ASN1_SEQUENCE || (flags & V_ASN1_CONSTRUCTED) == 0) {
    return OpensslError(ErrorCode::BadRequest, "IssuerAndSubject is not a SEQUENCE");
  }
  // Indefinite length (flags 0x21): the two Names run to the end-of-contents octets.
  const unsigned char* end = (flags == 0x21) ? der.data() + der.size() : p + len;
  auto issuer = ReadName(p, end);
  if (!issuer) return issuer.error();
  auto subject = ReadName(p, end);
  if (!subject) return subject.error();
  return IssuerAndSubject{std::move(*issuer), std::move(*subject)};
}

Result<IssuerAndSerial> ParseIssuerAndSerial(ByteView der) {
  const unsigned char* p = der.data();
  UniquePtr<PKCS7_ISSUER_AND_SERIAL> ias(d2i_PKCS7_ISSUER_AND_SERIAL(nullptr, &p, static_cast<long>(der.size())));
  if (!ias) return OpensslError(ErrorCode::BadRequest, "content is not IssuerAndSerialNumber");
  UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(ias->serial, nullptr));
  OpensslString hex(bn ? BN_bn2hex(bn.get()) : nullptr);
  if (!hex) return OpensslError(ErrorCode::BadRequest, "IssuerAndSerialNumber has an invalid serial");
  IssuerAndSerial out;
  out.issuer.reset(X509_NAME_dup(ias->issuer));
  out.serial_hex = hex.get();
  if (!out.issuer) return OpensslError(ErrorCode::Internal, "cannot copy issuer name");
  return out;
}

Result<Bytes> EncodeIssuerAndSubject(const X509_NAME* issuer, const X509_NAME* subject) {
  auto a = NameDer(issuer);
  if (!a) return a.error();
  auto b = NameDer(subject);
  if (!b) return b.error();
  const int body = static_cast<int>(a->size() + b->size());
  Bytes out(static_cast<std::size_t>(ASN1_object_size(1, body, V_ASN1_SEQUENCE)));
  unsigned char* p = out.data();
  ASN1_put_object(&p, 1, body, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
  const std::size_t header = static_cast<std::size_t>(p - out.data());
  std::copy(a->begin(), a->end(), out.begin() + static_cast<long>(header));
  std::copy(b->begin(), b->end(), out.begin() + static_cast<long>(header + a->size()));
  return out;
}

Result<Bytes> EncodeIssuerAndSerial(const X509_NAME* issuer, const ASN1_INTEGER* serial) {
  UniquePtr<PKCS7_ISSUER_AND_SERIAL> ias(PKCS7_ISSUER_AND_SERIAL_new());
  if (!ias || X509_NAME_set(&ias->issuer, const_cast<X509_NAME*>(issuer)) != 1) {
    return OpensslError(ErrorCode::Internal, "cannot build IssuerAndSerialNumber");
  }
  UniquePtr<ASN1_STRING> copy(ASN1_INTEGER_dup(serial));
  if (!copy) return OpensslError(ErrorCode::Internal, "cannot copy serial");
  UniquePtr<ASN1_STRING> replaced(ias->serial);  // frees the empty serial PKCS7_ISSUER_AND_SERIAL_new made
  ias->serial = copy.release();
  return EncodeDer(ias.get(), i2d_PKCS7_ISSUER_AND_SERIAL);
}

}  // namespace scep
