#include "scep/cms_writer.h"

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "scep/der_writer.h"

namespace scep {
namespace {

bool IsRsa(const EVP_PKEY* key) { return key != nullptr && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA; }

// DER's order for the elements of a SET OF: byte-wise, a shorter encoding before a longer one it is a prefix of (as
// OpenSSL sorts them when it encodes a SET OF).
bool DerOrder(const Bytes& a, const Bytes& b) {
  const std::size_t common = std::min(a.size(), b.size());
  const int order = common == 0 ? 0 : std::memcmp(a.data(), b.data(), common);
  return order != 0 ? order < 0 : a.size() < b.size();
}

// A fast path that gives up leaves no trace for the CMS code that follows.
std::optional<Bytes> GiveUp() {
  ERR_clear_error();
  return std::nullopt;
}

// IssuerAndSerialNumber, from the certificate's own (cached) encodings.
bool WriteIssuerAndSerial(DerWriter& w, const X509* cert) {
  const std::size_t start = w.Open();
  if (!w.Encoded(X509_get_issuer_name(cert), i2d_X509_NAME) ||
      !w.Encoded(X509_get0_serialNumber(cert), i2d_ASN1_INTEGER)) {
    return false;
  }
  w.Close(start, der::kSequence);
  return true;
}

// AlgorithmIdentifier with NULL parameters (rsaEncryption) or none.
void WriteAlgorithm(DerWriter& w, int nid, bool null_parameters) {
  const std::size_t start = w.Open();
  w.OidOfNid(nid);
  if (null_parameters) w.Null();
  w.Close(start, der::kSequence);
}

// As X509_ALGOR_set_md, which CMS uses: the parameters are absent for the digests that flag it (SHA-1, SHA-2), NULL
// for the others (MD5).
void WriteDigestAlgorithm(DerWriter& w, const EVP_MD* md) {
  WriteAlgorithm(w, EVP_MD_get_type(md), (EVP_MD_get_flags(md) & EVP_MD_FLAG_DIGALGID_ABSENT) == 0);
}

std::optional<Bytes> DigestOf(const EVP_MD* md, ByteView data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, md, nullptr) != 1) return std::nullopt;
  return Bytes(digest, digest + length);
}

// signingTime as OpenSSL's X509_gmtime_adj writes it: UTCTime for 1950 to 2049, GeneralizedTime otherwise.
bool WriteSigningTime(DerWriter& w) {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  if (gmtime_r(&now, &utc) == nullptr) return false;
  const int year = utc.tm_year + 1900;
  const bool short_form = year >= 1950 && year <= 2049;
  char text[64];
  const int length = std::snprintf(text, sizeof text, short_form ? "%02d%02d%02d%02d%02d%02dZ" : "%04d%02d%02d%02d%02d%02dZ",
                                   short_form ? year % 100 : year, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                                   utc.tm_min, utc.tm_sec);
  if (length <= 0 || static_cast<std::size_t>(length) >= sizeof text) return false;
  w.Primitive(short_form ? der::kUtcTime : der::kGeneralizedTime,
              ByteView(reinterpret_cast<const unsigned char*>(text), static_cast<std::size_t>(length)));
  return true;
}

// The universal tag of the string types the fast path writes; nullopt for anything CMS would treat differently.
std::optional<unsigned char> StringTag(int asn1_type) {
  switch (asn1_type) {
    case V_ASN1_PRINTABLESTRING: case V_ASN1_OCTET_STRING: case V_ASN1_UTF8STRING: case V_ASN1_IA5STRING:
      return static_cast<unsigned char>(asn1_type);
    default: return std::nullopt;
  }
}

// Attribute { attrType, attrValues SET { value } }, written alone so that the SET OF can be sorted.
template <typename WriteValue>
std::optional<Bytes> EncodeAttribute(const ASN1_OBJECT* oid, WriteValue write_value) {
  DerWriter w(64);
  const std::size_t attribute = w.Open();
  w.Oid(oid);
  const std::size_t values = w.Open();
  if (!write_value(w)) return std::nullopt;
  w.Close(values, der::kSet);
  w.Close(attribute, der::kSequence);
  return w.Take();
}

// Compared by encoding (OBJ_obj2nid would search OpenSSL's table for each SCEP attribute, which is not in it).
bool IsCmsOwnAttribute(const ASN1_OBJECT* oid) {
  for (const int nid : {NID_pkcs9_contentType, NID_pkcs9_messageDigest, NID_pkcs9_signingTime}) {
    if (OBJ_cmp(oid, OBJ_nid2obj(nid)) == 0) return true;
  }
  return false;
}

// The caller's attributes as CMS would add them; nullopt for a type it does not write or an attribute CMS adds
// itself (which CMS would not add a second time).
std::optional<std::vector<Bytes>> EncodeCallerAttributes(std::span<const SignedAttribute> attributes) {
  std::vector<Bytes> encoded;
  encoded.reserve(attributes.size() + 3);
  for (const SignedAttribute& a : attributes) {
    const auto tag = StringTag(a.asn1_type);
    if (!tag || a.oid == nullptr || OBJ_length(a.oid) == 0 || IsCmsOwnAttribute(a.oid)) return std::nullopt;
    auto attribute = EncodeAttribute(a.oid, [&](DerWriter& w) {
      w.Primitive(*tag, a.value);
      return true;
    });
    if (!attribute) return std::nullopt;
    encoded.push_back(std::move(*attribute));
  }
  return encoded;
}

// The signed attributes as the DER SET OF the signature covers (sorted by their encodings, as DER requires).
std::optional<Bytes> SignedAttributesSet(ByteView content, const EVP_MD* md,
                                         std::span<const SignedAttribute> attributes) {
  auto encoded = EncodeCallerAttributes(attributes);
  const auto message_digest = DigestOf(md, content);
  if (!encoded || !message_digest) return std::nullopt;
  auto content_type = EncodeAttribute(OBJ_nid2obj(NID_pkcs9_contentType), [](DerWriter& w) {
    w.OidOfNid(NID_pkcs7_data);
    return true;
  });
  auto signing_time = EncodeAttribute(OBJ_nid2obj(NID_pkcs9_signingTime), WriteSigningTime);
  auto digest = EncodeAttribute(OBJ_nid2obj(NID_pkcs9_messageDigest), [&](DerWriter& w) {
    w.Primitive(der::kOctetString, *message_digest);
    return true;
  });
  if (!content_type || !signing_time || !digest) return std::nullopt;
  encoded->push_back(std::move(*content_type));
  encoded->push_back(std::move(*signing_time));
  encoded->push_back(std::move(*digest));
  std::sort(encoded->begin(), encoded->end(), DerOrder);
  std::size_t total = 0;
  for (const Bytes& a : *encoded) total += a.size();
  DerWriter w(total + 8);
  const std::size_t set = w.Open();
  for (const Bytes& a : *encoded) w.Raw(a);
  w.Close(set, der::kSet);
  return w.Take();
}

enum class RsaOperation { Sign, Encrypt };

// One RSA PKCS#1 v1.5 operation on `input` (a DigestInfo to sign, or a content key to encrypt).
std::optional<Bytes> RsaPkcs1(EVP_PKEY* key, RsaOperation operation, ByteView input) {
  const bool sign = operation == RsaOperation::Sign;
  UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx || (sign ? EVP_PKEY_sign_init(ctx.get()) : EVP_PKEY_encrypt_init(ctx.get())) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) <= 0) {
    return std::nullopt;
  }
  std::size_t length = static_cast<std::size_t>(EVP_PKEY_get_size(key));
  Bytes out(length);
  const int done = sign ? EVP_PKEY_sign(ctx.get(), out.data(), &length, input.data(), input.size())
                        : EVP_PKEY_encrypt(ctx.get(), out.data(), &length, input.data(), input.size());
  if (done <= 0) return std::nullopt;
  out.resize(length);
  return out;
}

// PKCS#1 v1.5 over DigestInfo { digestAlgorithm with NULL parameters, digest } (RFC 8017 section 9.2), built here
// so that the provider is not asked to fetch the digest again on every signature.
std::optional<Bytes> SignDigest(EVP_PKEY* key, const EVP_MD* md, ByteView digest) {
  DerWriter digest_info(EVP_MAX_MD_SIZE + 32);
  const std::size_t start = digest_info.Open();
  WriteAlgorithm(digest_info, EVP_MD_get_type(md), true);
  digest_info.Primitive(der::kOctetString, digest);
  digest_info.Close(start, der::kSequence);
  const Bytes tbs = digest_info.Take();
  return RsaPkcs1(key, RsaOperation::Sign, tbs);
}

// The signer certificate and the extra ones, each encoded once and sorted (CMS writes certificates as a DER SET
// OF). nullopt for a duplicate among extra_certs, which CMS_add1_cert refuses.
std::optional<std::vector<Bytes>> EncodedCertificates(X509* signer, std::span<X509* const> extra_certs) {
  std::vector<X509*> certs{signer};
  for (X509* cert : extra_certs) {
    if (cert == nullptr) return std::nullopt;
    if (X509_cmp(cert, signer) == 0) continue;  // CMS keeps the signer's copy
    for (X509* kept : certs) {
      if (kept != signer && X509_cmp(kept, cert) == 0) return std::nullopt;
    }
    certs.push_back(cert);
  }
  std::vector<Bytes> encoded;
  encoded.reserve(certs.size());
  for (X509* cert : certs) {
    DerWriter w;
    if (!w.Encoded(cert, i2d_X509)) return std::nullopt;
    encoded.push_back(w.Take());
  }
  std::sort(encoded.begin(), encoded.end(), DerOrder);
  return encoded;
}

// SignerInfo { version 1, sid, digestAlgorithm, signedAttrs [0], rsaEncryption, signature }.
bool WriteSignerInfo(DerWriter& w, const SigningKey& signer, const EVP_MD* md, const Bytes& signed_attributes) {
  const auto digest = DigestOf(md, signed_attributes);
  const auto signature = digest ? SignDigest(signer.key, md, *digest) : std::nullopt;
  if (!signature) return false;
  const std::size_t start = w.Open();
  w.SmallInteger(1);
  if (!WriteIssuerAndSerial(w, signer.cert)) return false;
  WriteDigestAlgorithm(w, md);
  const std::size_t attributes = w.size();
  w.Raw(signed_attributes);
  w.Retag(attributes, der::kContext0);  // signedAttrs [0] IMPLICIT SET OF
  WriteAlgorithm(w, NID_rsaEncryption, true);  // strongSwan accepts no other name for PKCS#1 v1.5
  w.Primitive(der::kOctetString, *signature);
  w.Close(start, der::kSequence);
  return true;
}

// ContentInfo { contentType, [0] EXPLICIT content } around what was written since `start`.
void CloseContentInfo(DerWriter& w, std::size_t start, std::size_t content_start) {
  w.Close(content_start, der::kContext0);
  w.Close(start, der::kSequence);
}

std::optional<Bytes> EncryptKey(EVP_PKEY* recipient_key, ByteView key) {
  return RsaPkcs1(recipient_key, RsaOperation::Encrypt, key);
}

struct EncryptedContent {
  Bytes encrypted_key;
  Bytes iv;
  Bytes ciphertext;
};

// A fresh content key (EVP_CIPHER_CTX_rand_key sets DES parity bits, as CMS does) and IV; the key leaves this
// function only encrypted to the recipient.
std::optional<EncryptedContent> Encrypt(ByteView content, EVP_PKEY* recipient_key, const EVP_CIPHER* cipher) {
  UniquePtr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) != 1) return std::nullopt;
  const int key_length = EVP_CIPHER_CTX_get_key_length(ctx.get());
  const int iv_length = EVP_CIPHER_CTX_get_iv_length(ctx.get());
  const int block_size = EVP_CIPHER_CTX_get_block_size(ctx.get());
  if (key_length <= 0 || key_length > EVP_MAX_KEY_LENGTH || iv_length <= 0 || iv_length > EVP_MAX_IV_LENGTH ||
      block_size <= 0) {
    return std::nullopt;
  }
  unsigned char key[EVP_MAX_KEY_LENGTH];
  EncryptedContent out;
  out.iv.resize(static_cast<std::size_t>(iv_length));
  out.ciphertext.resize(content.size() + static_cast<std::size_t>(block_size));
  int update_length = 0;
  int final_length = 0;
  const bool encrypted =
      EVP_CIPHER_CTX_rand_key(ctx.get(), key) > 0 && RAND_bytes(out.iv.data(), iv_length) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key, out.iv.data()) == 1 &&
      EVP_EncryptUpdate(ctx.get(), out.ciphertext.data(), &update_length, content.data(),
                        static_cast<int>(content.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), out.ciphertext.data() + update_length, &final_length) == 1;
  auto encrypted_key = encrypted ? EncryptKey(recipient_key, ByteView(key, static_cast<std::size_t>(key_length)))
                                 : std::nullopt;
  OPENSSL_cleanse(key, sizeof key);
  if (!encrypted_key) return std::nullopt;
  out.encrypted_key = std::move(*encrypted_key);
  out.ciphertext.resize(static_cast<std::size_t>(update_length + final_length));
  return out;
}

}  // namespace

std::optional<Bytes> WriteRsaSignedData(ByteView content, const SigningKey& signer, const EVP_MD* md,
                                        std::span<const SignedAttribute> attributes,
                                        std::span<X509* const> extra_certs) {
  // CMS_add1_signer refuses a key that does not match the certificate: let it say so.
  if (md == nullptr || EVP_MD_get_type(md) == NID_undef || signer.cert == nullptr || !IsRsa(signer.key) ||
      X509_check_private_key(signer.cert, signer.key) != 1) {
    return GiveUp();
  }
  const auto certs = EncodedCertificates(signer.cert, extra_certs);
  const auto signed_attributes = certs ? SignedAttributesSet(content, md, attributes) : std::nullopt;
  if (!signed_attributes) return GiveUp();
  std::size_t certs_size = 0;
  for (const Bytes& cert : *certs) certs_size += cert.size();

  DerWriter w(content.size() + certs_size + signed_attributes->size() + 1024);
  const std::size_t content_info = w.Open();
  w.OidOfNid(NID_pkcs7_signed);
  const std::size_t explicit_content = w.Open();
  const std::size_t signed_data = w.Open();
  w.SmallInteger(1);
  const std::size_t digest_algorithms = w.Open();
  WriteDigestAlgorithm(w, md);
  w.Close(digest_algorithms, der::kSet);
  const std::size_t encap_content = w.Open();
  w.OidOfNid(NID_pkcs7_data);
  const std::size_t econtent = w.Open();
  w.Primitive(der::kOctetString, content);  // present even when empty, as CMS writes it
  w.Close(econtent, der::kContext0);
  w.Close(encap_content, der::kSequence);
  const std::size_t certificates = w.Open();
  for (const Bytes& cert : *certs) w.Raw(cert);
  w.Close(certificates, der::kContext0);
  const std::size_t signer_infos = w.Open();
  if (!WriteSignerInfo(w, signer, md, *signed_attributes)) return GiveUp();
  w.Close(signer_infos, der::kSet);
  w.Close(signed_data, der::kSequence);
  CloseContentInfo(w, content_info, explicit_content);
  return w.Take();
}

std::optional<Bytes> WriteRsaEnvelopedData(ByteView content, X509* recipient_cert, const EVP_CIPHER* cipher) {
  EVP_PKEY* recipient_key = recipient_cert != nullptr ? X509_get0_pubkey(recipient_cert) : nullptr;
  if (cipher == nullptr || EVP_CIPHER_get_type(cipher) == NID_undef || !IsRsa(recipient_key)) return GiveUp();
  const auto encrypted = Encrypt(content, recipient_key, cipher);
  if (!encrypted) return GiveUp();

  DerWriter w(encrypted->ciphertext.size() + encrypted->encrypted_key.size() + 512);
  const std::size_t content_info = w.Open();
  w.OidOfNid(NID_pkcs7_enveloped);
  const std::size_t explicit_content = w.Open();
  const std::size_t enveloped_data = w.Open();
  w.SmallInteger(0);
  const std::size_t recipient_infos = w.Open();
  const std::size_t key_trans = w.Open();
  w.SmallInteger(0);
  if (!WriteIssuerAndSerial(w, recipient_cert)) return GiveUp();
  WriteAlgorithm(w, NID_rsaEncryption, true);
  w.Primitive(der::kOctetString, encrypted->encrypted_key);
  w.Close(key_trans, der::kSequence);
  w.Close(recipient_infos, der::kSet);
  const std::size_t encrypted_content_info = w.Open();
  w.OidOfNid(NID_pkcs7_data);
  const std::size_t algorithm = w.Open();
  w.OidOfNid(EVP_CIPHER_get_type(cipher));
  w.Primitive(der::kOctetString, encrypted->iv);
  w.Close(algorithm, der::kSequence);
  w.Primitive(der::kContext0Primitive, encrypted->ciphertext);  // encryptedContent [0] IMPLICIT OCTET STRING
  w.Close(encrypted_content_info, der::kSequence);
  w.Close(enveloped_data, der::kSequence);
  CloseContentInfo(w, content_info, explicit_content);
  return w.Take();
}

}  // namespace scep
