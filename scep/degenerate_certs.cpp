#include "scep/degenerate_certs.h"

#include <optional>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "scep/der_writer.h"

namespace scep {
namespace {

// OpenSSL's PKCS#7 code, kept for what WriteDegenerateCerts cannot encode, so that the error stays its error.
Result<Bytes> BuildWithPkcs7(std::span<X509* const> certs, X509_CRL* crl) {
  UniquePtr<PKCS7> p7(PKCS7_new());
  if (!p7 || PKCS7_set_type(p7.get(), NID_pkcs7_signed) != 1) {
    return OpensslError(ErrorCode::Internal, "cannot create PKCS#7 SignedData");
  }
  // Inner content type id-data with the content itself absent, as RFC 8894 section 3.4 describes.
  p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
  for (X509* cert : certs) {
    if (PKCS7_add_certificate(p7.get(), cert) != 1) return OpensslError(ErrorCode::Internal, "cannot add cert");
  }
  if (crl != nullptr && PKCS7_add_crl(p7.get(), crl) != 1) {
    return OpensslError(ErrorCode::Internal, "cannot add CRL");
  }
  return EncodeDer(p7.get(), i2d_PKCS7);
}

// ContentInfo { id-signedData, [0] SignedData { version 1, digestAlgorithms {}, contentInfo { id-data },
// certificates [0] IMPLICIT, crls [1] IMPLICIT, signerInfos {} } }, byte for byte as i2d_PKCS7 writes it: PKCS#7
// declares certificates a SEQUENCE OF (kept in the given order, unlike CMS) and omits an empty one.
std::optional<Bytes> WriteDegenerateCerts(std::span<X509* const> certs, X509_CRL* crl) {
  DerWriter w(certs.size() * 2048 + 64);
  const std::size_t content_info = w.Open();
  w.OidOfNid(NID_pkcs7_signed);
  const std::size_t explicit_content = w.Open();
  const std::size_t signed_data = w.Open();
  w.SmallInteger(1);
  w.Primitive(der::kSet, {});  // digestAlgorithms: none
  const std::size_t content = w.Open();
  w.OidOfNid(NID_pkcs7_data);
  w.Close(content, der::kSequence);
  if (!certs.empty()) {
    const std::size_t certificates = w.Open();
    for (X509* cert : certs) {
      if (!w.Encoded(cert, i2d_X509)) return std::nullopt;
    }
    w.Close(certificates, der::kContext0);
  }
  if (crl != nullptr) {
    const std::size_t crls = w.Open();
    if (!w.Encoded(crl, i2d_X509_CRL)) return std::nullopt;
    w.Close(crls, der::kContext1);
  }
  w.Primitive(der::kSet, {});  // signerInfos: none
  w.Close(signed_data, der::kSequence);
  w.Close(explicit_content, der::kContext0);
  w.Close(content_info, der::kSequence);
  return w.Take();
}

}  // namespace

Result<Bytes> BuildDegenerateCerts(std::span<X509* const> certs, X509_CRL* crl) {
  if (auto der = WriteDegenerateCerts(certs, crl)) return std::move(*der);
  ERR_clear_error();
  return BuildWithPkcs7(certs, crl);
}

Result<DegenerateContents> ParseDegenerateCerts(ByteView der) {
  const unsigned char* p = der.data();
  UniquePtr<PKCS7> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  if (!p7 || OBJ_obj2nid(p7->type) != NID_pkcs7_signed || p7->d.sign == nullptr) {
    return OpensslError(ErrorCode::Malformed, "not a PKCS#7 SignedData");
  }
  DegenerateContents out;
  STACK_OF(X509)* certs = p7->d.sign->cert;
  for (int i = 0; certs != nullptr && i < sk_X509_num(certs); ++i) out.certs.push_back(UpRef(sk_X509_value(certs, i)));
  STACK_OF(X509_CRL)* crls = p7->d.sign->crl;
  for (int i = 0; crls != nullptr && i < sk_X509_CRL_num(crls); ++i) {
    X509_CRL* crl = sk_X509_CRL_value(crls, i);
    X509_CRL_up_ref(crl);
    out.crls.emplace_back(crl);
  }
  return out;
}

}  // namespace scep
