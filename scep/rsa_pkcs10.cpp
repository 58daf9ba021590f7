#include "scep/rsa_pkcs10.h"

#include <algorithm>
#include <vector>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "scep/algorithms.h"
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

// The [0] attributes element of a PKCS#10 request: the fourth field of CertificationRequestInfo.
std::optional<DerElement> AttributesElement(ByteView der) {
  const unsigned char* end = der.data() + der.size();
  auto outer = ReadElement(der.data(), end);
  if (!IsSequence(outer)) return std::nullopt;
  auto body = ReadElement(outer->contents, outer->end);
  if (!IsSequence(body)) return std::nullopt;
  std::optional<DerElement> field = ReadElement(body->contents, body->end);
  for (int skipped = 0; field && skipped < 3; ++skipped) field = ReadElement(field->end, body->end);
  return field;
}

// The encodings of the elements of a SET OF, sorted: equal for two SETs holding the same elements in any order.
std::optional<std::vector<ByteView>> SortedElements(const DerElement& set) {
  std::vector<ByteView> elements;
  for (const unsigned char* p = set.contents; p < set.end;) {
    auto element = ReadElement(p, set.end);
    if (!element) return std::nullopt;
    elements.emplace_back(element->start, static_cast<std::size_t>(element->size()));
    p = element->end;
  }
  std::sort(elements.begin(), elements.end(), [](ByteView a, ByteView b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  });
  return elements;
}

// True when `received` and our DER re-encoding `encoded` differ only in the order of the attributes. DER sorts a SET
// OF by encoding; strongSwan writes extensionRequest before challengePassword, so its requests never re-encode to
// the same bytes, although every field decodes to the same value.
bool SameButForAttributeOrder(ByteView received, ByteView encoded) {
  if (received.size() != encoded.size()) return false;
  auto ours = AttributesElement(encoded);
  auto theirs = AttributesElement(received);
  if (!ours || !theirs || ours->contents - encoded.data() != theirs->contents - received.data() ||
      ours->end - encoded.data() != theirs->end - received.data()) {
    return false;
  }
  const auto before = static_cast<std::size_t>(theirs->contents - received.data());
  const auto after = static_cast<std::size_t>(theirs->end - received.data());
  if (!std::equal(received.begin(), received.begin() + before, encoded.begin()) ||
      !std::equal(received.begin() + after, received.end(), encoded.begin() + after)) {
    return false;
  }
  auto our_elements = SortedElements(*ours);
  auto their_elements = SortedElements(*theirs);
  return our_elements && their_elements &&
         std::equal(our_elements->begin(), our_elements->end(), their_elements->begin(), their_elements->end(),
                    [](ByteView a, ByteView b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); });
}

// The digest of a PKCS#1 v1.5 RSA signature algorithm (sha256WithRSAEncryption, ...) with NULL or absent
// parameters; nullptr for anything else (RSA-PSS, ECDSA, unknown digests).
const EVP_MD* RsaPkcs1Digest(const X509_ALGOR* algorithm) {
  const ASN1_OBJECT* oid = nullptr;
  int parameter_type = V_ASN1_UNDEF;
  X509_ALGOR_get0(&oid, &parameter_type, nullptr, algorithm);
  int md_nid = NID_undef;
  int key_nid = NID_undef;
  if (OBJ_find_sigid_algs(OBJ_obj2nid(oid), &md_nid, &key_nid) != 1 || key_nid != NID_rsaEncryption) return nullptr;
  if (parameter_type != V_ASN1_NULL && parameter_type != V_ASN1_UNDEF) return nullptr;
  const std::optional<Digest> digest = DigestFromNid(md_nid);
  return digest ? FetchDigest(*digest) : nullptr;
}

}  // namespace

UniquePtr<X509_REQ> DecodeRsaPkcs10(ByteView der) {
  if (der.empty()) return nullptr;
  UniquePtr<X509_REQ> req = AssembleRequest(der);
  bool same = false;
  if (req) {
    // Same object only if it encodes to the very bytes we were given (this also rules out BER and odd encodings),
    // or to them with the attributes sorted, provided VerifyRsaPkcs10Signature can check the received bytes.
    const Result<Bytes> ours = ReqToDer(req.get());
    const X509_ALGOR* algorithm = nullptr;
    X509_REQ_get0_signature(req.get(), nullptr, &algorithm);
    same = ours.ok() && (std::equal(ours->begin(), ours->end(), der.begin(), der.end()) ||
                         (RsaPkcs1Digest(algorithm) != nullptr && SameButForAttributeOrder(der, *ours)));
  }
  ERR_clear_error();
  return same ? std::move(req) : nullptr;
}

std::optional<bool> VerifyRsaPkcs10Signature(ByteView der, X509_REQ* req) {
  // The signature and its algorithm are already decoded in `req`; only the signed bytes are looked up in `der`.
  const ASN1_BIT_STRING* signature = nullptr;
  const X509_ALGOR* algorithm = nullptr;
  X509_REQ_get0_signature(req, &signature, &algorithm);
  EVP_PKEY* key = X509_REQ_get0_pubkey(req);
  const EVP_MD* md = RsaPkcs1Digest(algorithm);
  const unsigned char* end = der.data() + der.size();
  auto outer = ReadElement(der.data(), end);
  auto info = IsSequence(outer) && outer->end == end ? ReadElement(outer->contents, end) : std::nullopt;
  if (signature == nullptr || md == nullptr || key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA ||
      !IsSequence(info)) {
    ERR_clear_error();
    return std::nullopt;
  }
  // As X509_REQ_verify: a signature BIT STRING with unused bits is malformed.
  if ((signature->flags & 0x07) != 0) return false;
  UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  const auto signature_length = static_cast<std::size_t>(ASN1_STRING_length(signature));
  const bool verified = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) == 1 &&
                        EVP_DigestVerify(ctx.get(), ASN1_STRING_get0_data(signature), signature_length,
                                         info->start, static_cast<std::size_t>(info->size())) == 1;
  ERR_clear_error();
  return verified;
}

}  // namespace scep
