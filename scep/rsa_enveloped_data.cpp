#include "scep/rsa_enveloped_data.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "scep/der_element.h"

namespace scep {
namespace {

// The content ciphers CipherFromNid knows; others are the CMS path's to refuse.
constexpr int kCbcCipherNids[] = {NID_des_cbc, NID_des_ede3_cbc, NID_aes_128_cbc, NID_aes_192_cbc, NID_aes_256_cbc};

bool IsZeroVersion(const std::optional<DerElement>& e) {
  return e && e->Is(V_ASN1_UNIVERSAL, V_ASN1_INTEGER, false) && e->end - e->contents == 1 && *e->contents == 0;
}

// encryptedContent [0] IMPLICIT OCTET STRING, primitive or (as Go's pkcs7, hence micromdm, writes it) constructed
// from primitive OCTET STRINGs with definite lengths, which both decoders join; deeper nesting is the CMS path's.
bool ReadEncryptedContent(const DerElement& content, Bytes& out) {
  if (!content.constructed) {
    out.assign(content.contents, content.end);
    return true;
  }
  for (const unsigned char* p = content.contents; p < content.end;) {
    auto segment = ReadElement(p, content.end);
    if (!segment || !segment->Is(V_ASN1_UNIVERSAL, V_ASN1_OCTET_STRING, false)) return false;
    out.insert(out.end(), segment->contents, segment->end);
    p = segment->end;
  }
  return true;
}

// EncryptedContentInfo { id-data, AlgorithmIdentifier { cipher, IV OCTET STRING }, [0] IMPLICIT OCTET STRING }.
bool ReadEncryptedContentInfo(const DerElement& info, RsaEnvelope& out) {
  auto type = ReadElement(info.contents, info.end);
  if (!IsObject(type, NID_pkcs7_data)) return false;
  auto algorithm = ReadElement(type->end, info.end);
  if (!IsSequence(algorithm)) return false;
  auto cipher = ReadElement(algorithm->contents, algorithm->end);
  auto iv = cipher ? ReadElement(cipher->end, algorithm->end) : std::nullopt;
  if (!iv || !iv->Is(V_ASN1_UNIVERSAL, V_ASN1_OCTET_STRING, false) || iv->end != algorithm->end) return false;
  for (int nid : kCbcCipherNids) {
    if (IsObject(cipher, nid)) out.cipher_nid = nid;
  }
  auto content = ReadElement(algorithm->end, info.end);
  if (out.cipher_nid == NID_undef || !content || content->xclass != V_ASN1_CONTEXT_SPECIFIC || content->tag != 0 ||
      content->end != info.end) {
    return false;
  }
  out.iv = ByteView(iv->contents, iv->end);
  return ReadEncryptedContent(*content, out.encrypted_content);
}

// The DER IssuerAndSerialNumber naming `cert`, as a sender copies it from the certificate; empty on failure.
Bytes IssuerAndSerial(X509* cert) {
  const unsigned char* issuer = nullptr;
  std::size_t issuer_length = 0;
  if (X509_NAME_get0_der(X509_get_issuer_name(cert), &issuer, &issuer_length) != 1) return {};
  unsigned char* serial = nullptr;
  const int serial_length = i2d_ASN1_INTEGER(X509_get0_serialNumber(cert), &serial);
  OpensslBytes owned(serial);
  if (serial_length <= 0) return {};
  Bytes out;
  AppendDerHeader(out, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, issuer_length + static_cast<std::size_t>(serial_length));
  out.insert(out.end(), issuer, issuer + issuer_length);
  out.insert(out.end(), serial, serial + serial_length);
  return out;
}

// rsaEncryption with NULL or absent parameters (CMS ignores them too); OAEP and the rest are the CMS path's.
bool IsRsaEncryption(const DerElement& algorithm) {
  auto oid = ReadElement(algorithm.contents, algorithm.end);
  if (!IsObject(oid, NID_rsaEncryption)) return false;
  if (oid->end == algorithm.end) return true;
  auto parameters = ReadElement(oid->end, algorithm.end);
  return parameters && parameters->Is(V_ASN1_UNIVERSAL, V_ASN1_NULL, false) &&
         parameters->contents == parameters->end && parameters->end == algorithm.end;
}

enum class Recipient { Ours, Other, Unusual };

// Another recipient must decode as both decoders would decode it, and must not name our certificate in the sense of
// CMS_RecipientInfo_ktri_cert_cmp (X509_NAME_cmp, ASN1_INTEGER_cmp) through a different encoding: CMS_decrypt would
// pick that one.
Recipient CheckOtherRecipient(const DerElement& issuer_and_serial, const DerElement& algorithm, X509* cert) {
  const unsigned char* p = issuer_and_serial.start;
  UniquePtr<PKCS7_ISSUER_AND_SERIAL> id(d2i_PKCS7_ISSUER_AND_SERIAL(nullptr, &p, issuer_and_serial.size()));
  if (!id || p != issuer_and_serial.end) return Recipient::Unusual;
  p = algorithm.start;
  UniquePtr<X509_ALGOR> parsed_algorithm(d2i_X509_ALGOR(nullptr, &p, algorithm.size()));
  if (!parsed_algorithm || p != algorithm.end) return Recipient::Unusual;
  const bool names_us = X509_NAME_cmp(id->issuer, X509_get_issuer_name(cert)) == 0 &&
                        ASN1_INTEGER_cmp(id->serial, X509_get0_serialNumber(cert)) == 0;
  return names_us ? Recipient::Unusual : Recipient::Other;
}

// KeyTransRecipientInfo { version 0, IssuerAndSerialNumber, keyEncryptionAlgorithm, encryptedKey OCTET STRING }.
Recipient ReadRecipient(const DerElement& info, ByteView ours, X509* cert, ByteView& encrypted_key) {
  auto version = ReadElement(info.contents, info.end);
  if (!IsZeroVersion(version)) return Recipient::Unusual;  // v2 names the recipient by subjectKeyIdentifier
  auto issuer_and_serial = ReadElement(version->end, info.end);
  auto algorithm = IsSequence(issuer_and_serial) ? ReadElement(issuer_and_serial->end, info.end) : std::nullopt;
  auto key = IsSequence(algorithm) ? ReadElement(algorithm->end, info.end) : std::nullopt;
  if (!key || !key->Is(V_ASN1_UNIVERSAL, V_ASN1_OCTET_STRING, false) || key->end != info.end) {
    return Recipient::Unusual;
  }
  if (!std::equal(issuer_and_serial->start, issuer_and_serial->end, ours.begin(), ours.end())) {
    return CheckOtherRecipient(*issuer_and_serial, *algorithm, cert);
  }
  if (!IsRsaEncryption(*algorithm)) return Recipient::Unusual;
  encrypted_key = ByteView(key->contents, key->end);
  return Recipient::Ours;
}

// Finds the first recipient naming `cert` (the one CMS_decrypt would use); every recipient must be readable.
bool FindOurKey(const DerElement& recipients, X509* cert, RsaEnvelope& out) {
  const Bytes ours = IssuerAndSerial(cert);
  if (ours.empty()) return false;
  bool found = false;
  for (const unsigned char* p = recipients.contents; p < recipients.end;) {
    auto info = ReadElement(p, recipients.end);
    if (!IsSequence(info)) return false;  // kari, kekri, pwri, ori: the CMS path's
    ByteView key;
    const Recipient recipient = ReadRecipient(*info, ours, cert, key);
    if (recipient == Recipient::Unusual) return false;
    if (recipient == Recipient::Ours && !found) {
      out.encrypted_key = key;
      found = true;
    }
    p = info->end;
  }
  return found;
}

std::optional<RsaEnvelope> ReadEnvelope(ByteView der, X509* recipient_cert) {
  const unsigned char* end = der.data() + der.size();
  auto content_info = ReadContentInfo(der, NID_pkcs7_enveloped);
  if (!content_info) return std::nullopt;
  const std::optional<DerElement> enveloped = content_info->content;
  // version 0: no originatorInfo, no unprotectedAttrs, only issuerAndSerialNumber key transport (RFC 5652 6.1).
  auto version = ReadElement(enveloped->contents, end);
  if (!IsZeroVersion(version)) return std::nullopt;
  auto recipients = ReadElement(version->end, end);
  if (!recipients || !recipients->Is(V_ASN1_UNIVERSAL, V_ASN1_SET, true)) return std::nullopt;
  auto encrypted = ReadElement(recipients->end, end);
  if (!IsSequence(encrypted) || encrypted->end != end) return std::nullopt;
  RsaEnvelope out;
  if (!ReadEncryptedContentInfo(*encrypted, out) || !FindOurKey(*recipients, recipient_cert, out)) {
    return std::nullopt;
  }
  return out;
}

// The content-encryption key: the unwrapped one if PKCS#1 v1.5 accepts it and it has the cipher's length, a random
// one otherwise (what CMS_decrypt does, see the header). Empty only when there is no randomness.
Bytes UnwrapKey(ByteView wrapped, EVP_PKEY* recipient_key, std::size_t key_length) {
  Bytes key(key_length);
  if (RAND_priv_bytes(key.data(), static_cast<int>(key.size())) != 1) return {};
  Bytes unwrapped(static_cast<std::size_t>(EVP_PKEY_get_size(recipient_key)));
  std::size_t unwrapped_length = unwrapped.size();
  UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, recipient_key, nullptr));
  const bool good = ctx && EVP_PKEY_decrypt_init(ctx.get()) == 1 &&
                    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1 &&
                    EVP_PKEY_decrypt(ctx.get(), unwrapped.data(), &unwrapped_length, wrapped.data(),
                                     wrapped.size()) == 1 &&
                    unwrapped_length == key_length;
  ERR_clear_error();  // the padding check's error must not outlive it
  // Select without a branch on `good`, so that which key was taken does not show in the timing.
  const auto mask = static_cast<unsigned char>(0u - static_cast<unsigned>(good));
  for (std::size_t i = 0; i < key_length && i < unwrapped.size(); ++i) {
    key[i] = static_cast<unsigned char>((unwrapped[i] & mask) | (key[i] & ~mask));
  }
  OPENSSL_cleanse(unwrapped.data(), unwrapped.size());
  return key;
}

std::optional<Bytes> DecryptContent(const RsaEnvelope& envelope, const EVP_CIPHER* cipher, const Bytes& key) {
  UniquePtr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  Bytes out(envelope.encrypted_content.size() + static_cast<std::size_t>(EVP_CIPHER_get_block_size(cipher)));
  int update_length = 0;
  int final_length = 0;
  const bool ok = ctx && EVP_DecryptInit_ex2(ctx.get(), cipher, key.data(), envelope.iv.data(), nullptr) == 1 &&
                  EVP_DecryptUpdate(ctx.get(), out.data(), &update_length, envelope.encrypted_content.data(),
                                    static_cast<int>(envelope.encrypted_content.size())) == 1 &&
                  EVP_DecryptFinal_ex(ctx.get(), out.data() + update_length, &final_length) == 1;
  ERR_clear_error();
  if (!ok) return std::nullopt;
  out.resize(static_cast<std::size_t>(update_length + final_length));
  return out;
}

}  // namespace

std::optional<RsaEnvelope> ReadRsaEnvelope(ByteView der, X509* recipient_cert) {
  if (der.empty() || recipient_cert == nullptr) return std::nullopt;
  auto envelope = ReadEnvelope(der, recipient_cert);
  ERR_clear_error();  // from the decoders that checked other recipients
  return envelope;
}

bool FitsCipher(const RsaEnvelope& envelope, const EVP_CIPHER* cipher) {
  const auto block = static_cast<std::size_t>(EVP_CIPHER_get_block_size(cipher));
  return EVP_CIPHER_get_mode(cipher) == EVP_CIPH_CBC_MODE && block > 1 &&
         envelope.iv.size() == static_cast<std::size_t>(EVP_CIPHER_get_iv_length(cipher)) &&
         !envelope.encrypted_content.empty() && envelope.encrypted_content.size() % block == 0 &&
         envelope.encrypted_content.size() < (1u << 30);
}

std::optional<Bytes> DecryptRsaEnvelope(const RsaEnvelope& envelope, const EVP_CIPHER* cipher,
                                        EVP_PKEY* recipient_key) {
  const int key_length = EVP_CIPHER_get_key_length(cipher);
  if (key_length <= 0) return std::nullopt;
  Bytes key = UnwrapKey(envelope.encrypted_key, recipient_key, static_cast<std::size_t>(key_length));
  if (key.empty()) return std::nullopt;
  auto content = DecryptContent(envelope, cipher, key);
  OPENSSL_cleanse(key.data(), key.size());
  return content;
}

}  // namespace scep
