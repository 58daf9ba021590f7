#include "scep/pki_envelope.h"

#include <optional>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "scep/algorithms.h"
#include "scep/cms_writer.h"
#include "scep/ossl_ptr.h"
#include "scep/rsa_enveloped_data.h"

namespace scep {
namespace {

// CMS offers no getter for the content-encryption algorithm, but PKCS#7's structures are public and the two
// encodings are the same, so read it from a PKCS7 view of the same bytes.
Result<int> ContentCipherNid(ByteView envelope) {
  const unsigned char* p = envelope.data();
  UniquePtr<PKCS7> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(envelope.size())));
  if (!p7 || OBJ_obj2nid(p7->type) != NID_pkcs7_enveloped || p7->d.enveloped == nullptr ||
      p7->d.enveloped->enc_data == nullptr || p7->d.enveloped->enc_data->algorithm == nullptr) {
    return OpensslError(ErrorCode::Malformed, "pkcsPKIEnvelope is not EnvelopedData");
  }
  return OBJ_obj2nid(p7->d.enveloped->enc_data->algorithm->algorithm);
}

Result<void> CheckKeyTransport(CMS_ContentInfo* cms) {
  STACK_OF(CMS_RecipientInfo)* infos = CMS_get0_RecipientInfos(cms);
  if (infos == nullptr || sk_CMS_RecipientInfo_num(infos) == 0) {
    return MakeError(ErrorCode::Malformed, "EnvelopedData without recipients");
  }
  for (int i = 0; i < sk_CMS_RecipientInfo_num(infos); ++i) {
    if (CMS_RecipientInfo_type(sk_CMS_RecipientInfo_value(infos, i)) == CMS_RECIPINFO_TRANS) return {};
  }
  return MakeError(ErrorCode::BadAlg, "no key-transport recipient (only RSA key transport is supported)");
}

Result<ContentCipher> AcceptedCipher(int nid, const EnvelopePolicy& policy) {
  auto cipher = CipherFromNid(nid);
  if (!cipher) return MakeError(ErrorCode::BadAlg, std::string("unsupported content cipher ") + OBJ_nid2sn(nid));
  if (*cipher == ContentCipher::DesCbc && !(policy.allow_single_des && SingleDesEnabled())) {
    return MakeError(ErrorCode::BadAlg, "single DES is refused by configuration");
  }
  return *cipher;
}

Result<ContentCipher> AcceptedCipher(ByteView envelope, const EnvelopePolicy& policy) {
  auto nid = ContentCipherNid(envelope);
  if (!nid) return nid.error();
  return AcceptedCipher(*nid, policy);
}

// The answer of the fast path (rsa_enveloped_data.h), with the CMS path's policy checks and error codes; nullopt
// when it does not apply and the CMS path must decide.
std::optional<Result<DecryptedEnvelope>> DecryptRsaEnvelopeFast(ByteView envelope, X509* recipient_cert,
                                                                EVP_PKEY* recipient_key, const EnvelopePolicy& policy) {
  if (EVP_PKEY_get_base_id(recipient_key) != EVP_PKEY_RSA) return std::nullopt;
  auto fast = ReadRsaEnvelope(envelope, recipient_cert);
  if (!fast) return std::nullopt;
  auto cipher = AcceptedCipher(fast->cipher_nid, policy);
  if (!cipher) return Result<DecryptedEnvelope>(cipher.error());
  const EVP_CIPHER* evp = FetchCipher(*cipher);
  if (evp == nullptr || !FitsCipher(*fast, evp)) {
    ERR_clear_error();
    return std::nullopt;
  }
  auto content = DecryptRsaEnvelope(*fast, evp, recipient_key);
  if (!content) return {MakeError(ErrorCode::BadMessageCheck, "cannot decrypt pkcsPKIEnvelope")};
  return Result<DecryptedEnvelope>(DecryptedEnvelope{std::move(*content), *cipher});
}

Bytes BioBytes(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? Bytes(data, data + len) : Bytes();
}

}  // namespace

Result<DecryptedEnvelope> DecryptPkiEnvelope(ByteView envelope, X509* recipient_cert, EVP_PKEY* recipient_key,
                                             const EnvelopePolicy& policy) {
  if (envelope.empty()) return MakeError(ErrorCode::Malformed, "pkiMessage carries no pkcsPKIEnvelope");
  if (auto fast = DecryptRsaEnvelopeFast(envelope, recipient_cert, recipient_key, policy)) return std::move(*fast);
  auto cipher = AcceptedCipher(envelope, policy);
  if (!cipher) return cipher.error();
  const unsigned char* p = envelope.data();
  UniquePtr<CMS_ContentInfo> cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(envelope.size())));
  if (!cms) return OpensslError(ErrorCode::Malformed, "pkcsPKIEnvelope is not CMS");
  if (auto kt = CheckKeyTransport(cms.get()); !kt) return kt.error();
  UniquePtr<BIO> out(BIO_new(BIO_s_mem()));
  if (!out || CMS_decrypt(cms.get(), recipient_key, recipient_cert, nullptr, out.get(), CMS_BINARY) != 1) {
    return OpensslError(ErrorCode::BadMessageCheck, "cannot decrypt pkcsPKIEnvelope");
  }
  return DecryptedEnvelope{BioBytes(out.get()), *cipher};
}

Result<Bytes> EncryptPkiEnvelope(ByteView content, X509* recipient_cert, ContentCipher cipher) {
  const EVP_CIPHER* evp = FetchCipher(cipher);
  if (evp == nullptr) return OpensslError(ErrorCode::BadAlg, "cipher " + to_string(cipher) + " unavailable");
  // An RSA recipient (every SCEP client we know): written directly, without CMS objects (cms_writer.h).
  if (auto der = WriteRsaEnvelopedData(content, recipient_cert, evp)) return std::move(*der);
  UniquePtr<STACK_OF(X509)> recipients(sk_X509_new_null());
  auto recipient = UpRef(recipient_cert);
  if (!recipients || sk_X509_push(recipients.get(), recipient.get()) <= 0) {
    return OpensslError(ErrorCode::Internal, "cannot build recipient list");
  }
  recipient.release();  // the stack owns it now
  UniquePtr<BIO> in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  UniquePtr<CMS_ContentInfo> cms(CMS_encrypt(recipients.get(), in.get(), evp, CMS_BINARY));
  if (!cms) return OpensslError(ErrorCode::Internal, "cannot encrypt to the requester's certificate");
  return CmsToDer(cms.get());
}

}  // namespace scep
