#include "scep/signed_data.h"

#include <openssl/objects.h>

#include "scep/algorithms.h"
#include "scep/cms_writer.h"
#include "scep/rsa_signed_data.h"

namespace scep {
namespace {

Bytes ContentBytes(CMS_ContentInfo* cms) {
  ASN1_OCTET_STRING** content = CMS_get0_content(cms);
  if (content == nullptr || *content == nullptr) return {};
  const unsigned char* data = ASN1_STRING_get0_data(*content);
  return Bytes(data, data + ASN1_STRING_length(*content));
}

// contentType must be present among the signed attributes and equal the eContentType (RFC 5652 section 5.3).
Result<void> CheckContentTypeAttribute(CMS_ContentInfo* cms, CMS_SignerInfo* si) {
  auto* attr_type = static_cast<ASN1_OBJECT*>(
      CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_contentType), -3, V_ASN1_OBJECT));
  if (attr_type == nullptr) return OpensslError(ErrorCode::BadMessageCheck, "contentType signed attribute missing");
  const ASN1_OBJECT* econtent_type = CMS_get0_eContentType(cms);
  if (econtent_type == nullptr || OBJ_cmp(attr_type, econtent_type) != 0) {
    return MakeError(ErrorCode::BadMessageCheck, "contentType signed attribute does not match the content");
  }
  return {};
}

}  // namespace

Result<SignedData> ParseSignedData(ByteView der) {
  if (der.empty()) return MakeError(ErrorCode::Malformed, "empty message");
  SignedData out;
  out.cms = DecodeSignedDataWithRsaCerts(der);  // the common case without OpenSSL 3.0's slow key decoding
  if (!out.cms) {
    const unsigned char* p = der.data();
    out.cms.reset(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  }
  if (!out.cms) return OpensslError(ErrorCode::Malformed, "not a CMS/PKCS#7 structure");
  if (OBJ_obj2nid(CMS_get0_type(out.cms.get())) != NID_pkcs7_signed) {
    return MakeError(ErrorCode::Malformed, "CMS content is not SignedData");
  }
  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(out.cms.get());
  if (signers == nullptr || sk_CMS_SignerInfo_num(signers) != 1) {
    return MakeError(ErrorCode::Malformed, "SignedData must have exactly one signer");
  }
  out.signer_info = sk_CMS_SignerInfo_value(signers, 0);
  // Matches the signer against the certificates in the message by issuerAndSerialNumber or subjectKeyIdentifier.
  if (CMS_set1_signers_certs(out.cms.get(), nullptr, 0) < 0) {
    return OpensslError(ErrorCode::Malformed, "cannot match signer certificates");
  }
  X509_ALGOR* digest_alg = nullptr;
  CMS_SignerInfo_get0_algs(out.signer_info, nullptr, &out.signer_cert, &digest_alg, nullptr);
  if (out.signer_cert == nullptr) return MakeError(ErrorCode::Malformed, "signer certificate not in the message");
  const ASN1_OBJECT* digest_oid = nullptr;
  X509_ALGOR_get0(&digest_oid, nullptr, nullptr, digest_alg);
  out.digest_nid = OBJ_obj2nid(digest_oid);
  out.digest = DigestFromNid(out.digest_nid);
  out.content = ContentBytes(out.cms.get());
  return out;
}

Result<void> VerifySignedData(SignedData& sd) {
  if (!sd.digest) {
    return MakeError(ErrorCode::BadAlg, std::string("unsupported digest algorithm ") + OBJ_nid2sn(sd.digest_nid));
  }
  if (auto ct = CheckContentTypeAttribute(sd.cms.get(), sd.signer_info); !ct) return ct;
  UniquePtr<BIO> sink(BIO_new(BIO_s_null()));
  // The signer's chain is the caller's business: a first enrollment is signed by a throwaway self-signed cert.
  const unsigned flags = CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY;
  if (CMS_verify(sd.cms.get(), nullptr, nullptr, nullptr, sink.get(), flags) != 1) {
    return OpensslError(ErrorCode::BadMessageCheck, "SignedData signature does not verify");
  }
  return {};
}

std::optional<Bytes> SignedAttributeBytes(const CMS_SignerInfo* si, const ASN1_OBJECT* oid) {
  const int index = CMS_signed_get_attr_by_OBJ(si, oid, -1);
  if (index < 0) return std::nullopt;
  X509_ATTRIBUTE* attr = CMS_signed_get_attr(si, index);
  ASN1_TYPE* value = attr == nullptr ? nullptr : X509_ATTRIBUTE_get0_type(attr, 0);
  if (value == nullptr) return std::nullopt;
  switch (value->type) {
    case V_ASN1_PRINTABLESTRING: case V_ASN1_UTF8STRING: case V_ASN1_IA5STRING: case V_ASN1_T61STRING:
    case V_ASN1_OCTET_STRING: {
      const ASN1_STRING* s = value->value.asn1_string;
      const unsigned char* data = ASN1_STRING_get0_data(s);
      return Bytes(data, data + ASN1_STRING_length(s));
    }
    default: return std::nullopt;
  }
}

Result<Bytes> BuildSignedData(ByteView content, const SigningKey& signer, Digest digest,
                              std::span<const SignedAttribute> attributes, std::span<X509* const> extra_certs) {
  const EVP_MD* md = FetchDigest(digest);
  if (md == nullptr) return OpensslError(ErrorCode::BadAlg, "digest " + to_string(digest) + " unavailable");
  // An RSA signer (the CA's or RA's key): written directly, without CMS objects (cms_writer.h).
  if (auto der = WriteRsaSignedData(content, signer, md, attributes, extra_certs)) return std::move(*der);
  UniquePtr<CMS_ContentInfo> cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, CMS_PARTIAL | CMS_BINARY));
  if (!cms) return OpensslError(ErrorCode::Internal, "cannot create SignedData");
  CMS_SignerInfo* si = CMS_add1_signer(cms.get(), signer.cert, signer.key, md, CMS_BINARY | CMS_NOSMIMECAP);
  if (si == nullptr) return OpensslError(ErrorCode::Internal, "cannot add signer");
  for (const SignedAttribute& a : attributes) {
    if (CMS_signed_add1_attr_by_OBJ(si, a.oid, a.asn1_type, a.value.data(), static_cast<int>(a.value.size())) != 1) {
      return OpensslError(ErrorCode::Internal, "cannot add signed attribute");
    }
  }
  for (X509* cert : extra_certs) {
    if (X509_cmp(cert, signer.cert) == 0) continue;  // already there as the signer; a duplicate is an error
    if (CMS_add1_cert(cms.get(), cert) != 1) return OpensslError(ErrorCode::Internal, "cannot add certificate");
  }
  static const unsigned char kNothing = 0;  // BIO_new_mem_buf refuses a null pointer, even for no bytes
  const void* data = content.empty() ? &kNothing : static_cast<const void*>(content.data());
  UniquePtr<BIO> in(BIO_new_mem_buf(data, static_cast<int>(content.size())));
  if (!in || CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) != 1) {
    return OpensslError(ErrorCode::Internal, "cannot sign SignedData");
  }
  return CmsToDer(cms.get());
}

}  // namespace scep
