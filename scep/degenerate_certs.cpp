#include "scep/degenerate_certs.h"

#include <openssl/objects.h>

namespace scep {

Result<Bytes> BuildDegenerateCerts(std::span<X509* const> certs, X509_CRL* crl) {
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
