#include "scep/rsa_signed_data.h"

#include <algorithm>
#include <vector>

#include <openssl/err.h>

#include "scep/der_element.h"
#include "scep/rsa_certificate.h"

namespace scep {
namespace {

// The parts of ContentInfo { id-signedData, [0] EXPLICIT SignedData } the fast path needs.
struct SignedDataLayout {
  DerElement oid;           // ContentInfo.contentType
  DerElement signed_data;   // the SignedData SEQUENCE
  DerElement certificates;  // SignedData.certificates [0] IMPLICIT SET OF CertificateChoices
};

std::optional<SignedDataLayout> FindCertificates(ByteView der) {
  const unsigned char* end = der.data() + der.size();
  auto content_info = ReadContentInfo(der, NID_pkcs7_signed);
  if (!content_info) return std::nullopt;
  const std::optional<DerElement> signed_data = content_info->content;
  // version INTEGER, digestAlgorithms SET, encapContentInfo SEQUENCE, then certificates [0].
  auto version = ReadElement(signed_data->contents, end);
  auto digest_algorithms = version ? ReadElement(version->end, end) : std::nullopt;
  auto encap_content = digest_algorithms ? ReadElement(digest_algorithms->end, end) : std::nullopt;
  auto certificates = encap_content ? ReadElement(encap_content->end, end) : std::nullopt;
  if (!certificates || !certificates->Is(V_ASN1_CONTEXT_SPECIFIC, 0, true)) return std::nullopt;
  return SignedDataLayout{content_info->type, *signed_data, *certificates};
}

// The same ContentInfo without the certificates field, lengths recomputed.
Bytes WithoutCertificates(const SignedDataLayout& layout) {
  const std::size_t signed_data_length =
      static_cast<std::size_t>((layout.signed_data.end - layout.signed_data.contents) - layout.certificates.size());
  Bytes signed_data;
  AppendDerHeader(signed_data, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, signed_data_length);
  signed_data.insert(signed_data.end(), layout.signed_data.contents, layout.certificates.start);
  signed_data.insert(signed_data.end(), layout.certificates.end, layout.signed_data.end);
  Bytes content;
  content.insert(content.end(), layout.oid.start, layout.oid.end);
  AppendDerHeader(content, V_ASN1_CONTEXT_SPECIFIC | V_ASN1_CONSTRUCTED | 0, signed_data.size());
  content.insert(content.end(), signed_data.begin(), signed_data.end());
  Bytes out;
  AppendDerHeader(out, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, content.size());
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

std::vector<UniquePtr<X509>> DecodeCertificates(const DerElement& set) {
  std::vector<UniquePtr<X509>> certs;
  for (const unsigned char* p = set.contents; p < set.end;) {
    auto element = ReadElement(p, set.end);
    if (!IsSequence(element)) return {};  // not a plain Certificate (or not DER)
    UniquePtr<X509> cert = DecodeRsaCertificate(ByteView(element->start, element->end));
    if (!cert) return {};
    certs.push_back(std::move(cert));
    p = element->end;
  }
  return certs;
}

UniquePtr<CMS_ContentInfo> AssembleSignedData(ByteView der) {
  auto layout = FindCertificates(der);
  if (!layout) return nullptr;
  std::vector<UniquePtr<X509>> certs = DecodeCertificates(layout->certificates);
  if (certs.empty()) return nullptr;
  const Bytes rest = WithoutCertificates(*layout);
  const unsigned char* p = rest.data();
  UniquePtr<CMS_ContentInfo> cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(rest.size())));
  if (!cms || p != rest.data() + rest.size()) return nullptr;
  for (const UniquePtr<X509>& cert : certs) {
    if (CMS_add1_cert(cms.get(), cert.get()) != 1) return nullptr;  // e.g. a duplicate, which d2i would keep
  }
  return cms;
}

}  // namespace

UniquePtr<CMS_ContentInfo> DecodeSignedDataWithRsaCerts(ByteView der) {
  if (der.empty()) return nullptr;
  // No re-encoding of the whole to compare with `der` (it cost as much as the decoding): d2i_CMS_ContentInfo
  // decodes every byte but the certificates, each certificate is proven by its own re-encoding, and they are
  // added in order, so the object is the one d2i_CMS_ContentInfo would make of `der`.
  UniquePtr<CMS_ContentInfo> cms = AssembleSignedData(der);
  ERR_clear_error();
  return cms;
}

}  // namespace scep
