// The CertRep's DER writers (cms_writer.h, degenerate_certs.cpp) against OpenSSL's own CMS and PKCS#7 code: OpenSSL
// must read back exactly the bytes we wrote, verify and decrypt them, and, where nothing random is involved, the
// bytes must be the very ones OpenSSL writes. Keys and certificates come from make_openssl_fixtures.sh.
#include <ctime>
#include <vector>

#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "scep/algorithms.h"
#include "scep/cert_rep.h"
#include "scep/cms_writer.h"
#include "scep/degenerate_certs.h"
#include "scep/der_element.h"
#include "scep/pki_envelope.h"
#include "scep/scep_attributes.h"
#include "tests/scep/fixture_keys.h"

using namespace scep;

namespace {

using test::Parties;

// The CMS code BuildSignedData used before the writer, kept here as the reference the writer must match.
Bytes SignWithCms(ByteView content, const SigningKey& signer, Digest digest, std::span<const SignedAttribute> attrs,
                  std::span<X509* const> extra_certs) {
  const EVP_MD* md = FetchDigest(digest);
  UniquePtr<CMS_ContentInfo> cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, CMS_PARTIAL | CMS_BINARY));
  REQUIRE(cms);
  CMS_SignerInfo* si = CMS_add1_signer(cms.get(), signer.cert, signer.key, md, CMS_BINARY | CMS_NOSMIMECAP);
  REQUIRE(si != nullptr);
  for (const SignedAttribute& a : attrs) {
    REQUIRE(CMS_signed_add1_attr_by_OBJ(si, a.oid, a.asn1_type, a.value.data(), static_cast<int>(a.value.size())) ==
            1);
  }
  for (X509* cert : extra_certs) {
    if (X509_cmp(cert, signer.cert) != 0) REQUIRE(CMS_add1_cert(cms.get(), cert) == 1);
  }
  static const unsigned char kNothing = 0;
  UniquePtr<BIO> in(BIO_new_mem_buf(content.empty() ? &kNothing : content.data(), static_cast<int>(content.size())));
  REQUIRE(CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) == 1);
  return CmsToDer(cms.get()).value();
}

// The certs-only PKCS#7 BuildDegenerateCerts used before the writer.
Bytes DegenerateWithPkcs7(std::span<X509* const> certs, X509_CRL* crl) {
  UniquePtr<PKCS7> p7(PKCS7_new());
  REQUIRE(PKCS7_set_type(p7.get(), NID_pkcs7_signed) == 1);
  p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
  for (X509* cert : certs) REQUIRE(PKCS7_add_certificate(p7.get(), cert) == 1);
  if (crl != nullptr) REQUIRE(PKCS7_add_crl(p7.get(), crl) == 1);
  return EncodeDer(p7.get(), i2d_PKCS7).value();
}

UniquePtr<CMS_ContentInfo> DecodeCms(const Bytes& der) {
  const unsigned char* p = der.data();
  return UniquePtr<CMS_ContentInfo>(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
}

// OpenSSL decodes what we wrote and encodes it again to the same bytes: the writer's output is canonical DER.
void CheckCanonical(const Bytes& der) {
  auto cms = DecodeCms(der);
  REQUIRE(cms);
  CHECK(CmsToDer(cms.get()).value() == der);
}

void CheckVerifies(const Bytes& der, ByteView content) {
  auto cms = DecodeCms(der);
  REQUIRE(cms);
  UniquePtr<BIO> out(BIO_new(BIO_s_mem()));
  CHECK(CMS_verify(cms.get(), nullptr, nullptr, nullptr, out.get(), CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) == 1);
  char* data = nullptr;
  const long length = BIO_get_mem_data(out.get(), &data);
  CHECK(Bytes(data, data + length) == Bytes(content.begin(), content.end()));
}

Bytes Decrypt(const Bytes& der, X509* cert, EVP_PKEY* key) {
  auto cms = DecodeCms(der);
  REQUIRE(cms);
  UniquePtr<BIO> out(BIO_new(BIO_s_mem()));
  REQUIRE(CMS_decrypt(cms.get(), key, cert, nullptr, out.get(), CMS_BINARY) == 1);
  char* data = nullptr;
  const long length = BIO_get_mem_data(out.get(), &data);
  return Bytes(data, data + length);
}

std::vector<SignedAttribute> FailureAttributes() {
  ScepAttributeValues v;
  v.message_type = MessageType::CertRep;
  v.transaction_id = "TXN-42";
  v.sender_nonce = Bytes(16, 0x11);
  v.recipient_nonce = Bytes(16, 0x22);
  v.pki_status = PkiStatus::Failure;
  v.fail_info = FailInfo::BadRequest;
  v.fail_info_text = "wrong challenge";
  return MakeScepAttributes(v);
}

// RSA PKCS#1 v1.5 is deterministic, so within the same second (signingTime) both paths write the same bytes.
void CheckSameAsCms(ByteView content, const SigningKey& signer, Digest digest, std::span<const SignedAttribute> attrs,
                    std::span<X509* const> extra_certs) {
  REQUIRE(WriteRsaSignedData(content, signer, FetchDigest(digest), attrs, extra_certs).has_value());  // no fallback
  for (int attempt = 0; attempt < 3; ++attempt) {
    const std::time_t before = std::time(nullptr);
    auto ours = BuildSignedData(content, signer, digest, attrs, extra_certs);
    REQUIRE_MESSAGE(ours.ok(), ours.error().ToString());
    const Bytes theirs = SignWithCms(content, signer, digest, attrs, extra_certs);
    if (std::time(nullptr) != before) continue;  // the second turned: signingTime may differ
    CHECK(*ours == theirs);
    CheckCanonical(*ours);
    CheckVerifies(*ours, content);
    return;
  }
  FAIL("the clock kept turning");
}

// Where an EnvelopedData's random parts are: the encrypted key's and the IV's contents, as [begin, end) offsets.
struct RandomParts {
  std::pair<std::size_t, std::size_t> key;
  std::pair<std::size_t, std::size_t> iv;
};
std::optional<RandomParts> FindRandomParts(const Bytes& der) {
  const unsigned char* begin = der.data();
  const unsigned char* end = begin + der.size();
  auto next = [end](const std::optional<DerElement>& e) { return e ? ReadElement(e->end, end) : std::nullopt; };
  auto inside = [end](const std::optional<DerElement>& e) { return e ? ReadElement(e->contents, end) : std::nullopt; };
  auto content_info = ReadElement(begin, end);
  auto enveloped = inside(next(inside(content_info)));  // [0] EXPLICIT EnvelopedData
  auto recipient_infos = next(inside(enveloped));
  auto encrypted_key = next(next(next(inside(inside(recipient_infos)))));
  auto algorithm = next(inside(next(recipient_infos)));  // encryptedContentInfo { contentType, algorithm, ... }
  auto iv = next(inside(algorithm));
  if (!encrypted_key || !iv) return std::nullopt;
  auto offsets = [begin](const DerElement& e) {
    return std::make_pair(static_cast<std::size_t>(e.contents - begin), static_cast<std::size_t>(e.end - begin));
  };
  return RandomParts{offsets(*encrypted_key), offsets(*iv)};
}

UniquePtr<X509_CRL> MakeCrl(X509* issuer, EVP_PKEY* key) {
  UniquePtr<X509_CRL> crl(X509_CRL_new());
  REQUIRE(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) == 1);
  REQUIRE(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)) == 1);
  UniquePtr<ASN1_STRING> now(ASN1_TIME_set(nullptr, std::time(nullptr)));
  REQUIRE(X509_CRL_set1_lastUpdate(crl.get(), now.get()) == 1);
  UniquePtr<X509_REVOKED> revoked(X509_REVOKED_new());
  UniquePtr<ASN1_STRING> serial(ASN1_INTEGER_new());
  REQUIRE(ASN1_INTEGER_set(serial.get(), 4242) == 1);
  REQUIRE(X509_REVOKED_set_serialNumber(revoked.get(), serial.get()) == 1);
  REQUIRE(X509_REVOKED_set_revocationDate(revoked.get(), now.get()) == 1);
  REQUIRE(X509_CRL_add0_revoked(crl.get(), revoked.release()) == 1);
  REQUIRE(X509_CRL_sign(crl.get(), key, EVP_sha256()) > 0);
  return crl;
}

}  // namespace

// First: the cases after this one load the legacy provider, which cannot be unloaded.
TEST_CASE("EnvelopedData: single DES without the legacy provider keeps today's error") {
  if (SingleDesEnabled()) return;  // loaded by an earlier case (doctest runs this file's cases in order)
  Parties p;
  auto der = EncryptPkiEnvelope(Bytes{1, 2, 3}, p.device.get(), ContentCipher::DesCbc);
  REQUIRE_FALSE(der.ok());
  CHECK(der.error().code == ErrorCode::BadAlg);
}

TEST_CASE("degenerate certs: byte for byte what PKCS#7 writes, in the given order, with or without a CRL") {
  Parties p;
  auto crl = MakeCrl(p.ca.get(), p.ca_key.get());
  const std::vector<std::vector<X509*>> cert_lists = {
      {}, {p.device.get()}, {p.ca.get(), p.device.get()}, {p.device.get(), p.ca.get()},
      {p.other_ca.get(), p.device.get(), p.ca.get()}, {p.device.get(), p.device.get()}};
  for (const auto& certs : cert_lists) {
    for (X509_CRL* with_crl : {static_cast<X509_CRL*>(nullptr), crl.get()}) {
      CAPTURE(certs.size());
      CAPTURE(with_crl != nullptr);
      auto ours = BuildDegenerateCerts(certs, with_crl);
      REQUIRE(ours.ok());
      CHECK(*ours == DegenerateWithPkcs7(certs, with_crl));
      auto parsed = ParseDegenerateCerts(*ours);
      REQUIRE(parsed.ok());
      CHECK(parsed->certs.size() == certs.size());
      CHECK(parsed->crls.size() == (with_crl != nullptr ? 1U : 0U));
    }
  }
}

TEST_CASE("SignedData with an RSA signer: the same bytes as CMS_sign, for every digest and content") {
  Parties p;
  const auto attrs = FailureAttributes();
  const Bytes content = {'h', 'e', 'l', 'l', 'o'};
  const SigningKey ca{p.ca.get(), p.ca_key.get()};
  for (Digest digest : {Digest::Md5, Digest::Sha1, Digest::Sha224, Digest::Sha256, Digest::Sha384, Digest::Sha512}) {
    CAPTURE(to_string(digest));
    CheckSameAsCms(content, ca, digest, attrs, {});
  }
  SUBCASE("empty content (FAILURE, PENDING)") { CheckSameAsCms({}, ca, Digest::Sha256, attrs, {}); }
  SUBCASE("no attributes besides CMS's own") { CheckSameAsCms(content, ca, Digest::Sha256, {}, {}); }
  SUBCASE("extra certificates, the signer's duplicate dropped, the set sorted") {
    X509* extra[] = {p.other_ca.get(), p.ca.get(), p.device.get()};
    CheckSameAsCms(content, ca, Digest::Sha256, attrs, extra);
  }
  SUBCASE("a device signing its request") {
    CheckSameAsCms(content, {p.device.get(), p.device_key.get()}, Digest::Sha1, attrs, {});
  }
}

TEST_CASE("SignedData: what the writer leaves to CMS keeps CMS's answers") {
  Parties p;
  const auto attrs = FailureAttributes();
  const Bytes content = {1, 2, 3};
  SUBCASE("an ECDSA signer") {
    auto ec_cert = test::LoadCert(test::OpensslFixtures() / "signer-ec.pem");
    auto ec_key = test::LoadKey(test::OpensslFixtures() / "ec.key");
    CHECK_FALSE(WriteRsaSignedData(content, {ec_cert.get(), ec_key.get()}, FetchDigest(Digest::Sha384), attrs, {}));
    auto der = BuildSignedData(content, {ec_cert.get(), ec_key.get()}, Digest::Sha384, attrs);
    REQUIRE(der.ok());
    CheckVerifies(*der, content);
  }
  SUBCASE("a key that does not match the certificate") {
    CHECK_FALSE(WriteRsaSignedData(content, {p.ca.get(), p.device_key.get()}, FetchDigest(Digest::Sha256), attrs, {}));
    auto der = BuildSignedData(content, {p.ca.get(), p.device_key.get()}, Digest::Sha256, attrs);
    REQUIRE_FALSE(der.ok());
    CHECK(der.error().code == ErrorCode::Internal);
    CHECK(der.error().detail == "cannot add signer");
  }
  SUBCASE("a certificate twice among the extra ones") {
    X509* extra[] = {p.device.get(), p.device.get()};
    CHECK_FALSE(WriteRsaSignedData(content, {p.ca.get(), p.ca_key.get()}, FetchDigest(Digest::Sha256), attrs, extra));
    auto der = BuildSignedData(content, {p.ca.get(), p.ca_key.get()}, Digest::Sha256, attrs, extra);
    REQUIRE_FALSE(der.ok());
    CHECK(der.error().detail == "cannot add certificate");
  }
  SUBCASE("an attribute that is not a string") {
    const SignedAttribute odd[] = {{OBJ_nid2obj(NID_pkcs9_challengePassword), V_ASN1_BMPSTRING, {0, 'a'}}};
    CHECK_FALSE(WriteRsaSignedData(content, {p.ca.get(), p.ca_key.get()}, FetchDigest(Digest::Sha256), odd, {}));
    auto der = BuildSignedData(content, {p.ca.get(), p.ca_key.get()}, Digest::Sha256, odd);
    REQUIRE(der.ok());
    CheckVerifies(*der, content);
  }
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("CertReps read back by the library: SUCCESS, FAILURE with failInfo and text, PENDING") {
  test::EnableDes();
  Parties p;
  ReplyTo to;
  to.transaction_id = "TXN-7";
  to.request_sender_nonce = Bytes(16, 0x5a);
  to.request_digest = Digest::Sha256;
  to.recipient = p.device.get();
  const SigningKey ca{p.ca.get(), p.ca_key.get()};

  X509* issued[] = {p.device.get()};
  const Bytes certs = BuildDegenerateCerts(issued).value();
  auto success = BuildCertRepSuccess(to, ca, certs);
  auto failure = BuildCertRepFailure(to, ca, FailInfo::BadTime, "clock skew");
  auto pending = BuildCertRepPending(to, ca);
  REQUIRE(success.ok());
  REQUIRE(failure.ok());
  REQUIRE(pending.ok());
  for (const Bytes* der : {&*success, &*failure, &*pending}) {
    CheckCanonical(*der);
    auto parsed = ParsePkiMessage(*der);
    REQUIRE(parsed.ok());
    REQUIRE(VerifyPkiMessage(*parsed).ok());
    CHECK(parsed->message_type == MessageType::CertRep);
    CHECK(parsed->transaction_id == "TXN-7");
    CHECK(parsed->recipient_nonce == to.request_sender_nonce);
    CHECK(parsed->sender_nonce.size() == 16);
    CHECK(parsed->signed_data.digest == Digest::Sha256);
    CHECK(X509_cmp(parsed->signer_cert(), p.ca.get()) == 0);
  }
  auto parsed_success = ParsePkiMessage(*success).value();
  CHECK(parsed_success.pki_status == PkiStatus::Success);
  CHECK(Decrypt(parsed_success.envelope(), p.device.get(), p.device_key.get()) == certs);
  auto parsed_failure = ParsePkiMessage(*failure).value();
  CHECK(parsed_failure.pki_status == PkiStatus::Failure);
  CHECK(parsed_failure.fail_info == FailInfo::BadTime);
  CHECK(parsed_failure.fail_info_text == "clock skew");
  CHECK(parsed_failure.envelope().empty());
  auto parsed_pending = ParsePkiMessage(*pending).value();
  CHECK(parsed_pending.pki_status == PkiStatus::Pending);
  CHECK_FALSE(parsed_pending.fail_info.has_value());
  CHECK(parsed_pending.envelope().empty());
}

TEST_CASE("EnvelopedData to an RSA recipient: CMS decrypts it, the shape is CMS_encrypt's") {
  test::EnableDes();
  REQUIRE(SingleDesEnabled());
  Parties p;
  Bytes content(1000);
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<std::uint8_t>(i * 7);
  for (ContentCipher cipher : {ContentCipher::Aes128Cbc, ContentCipher::Aes192Cbc, ContentCipher::Aes256Cbc,
                               ContentCipher::DesEde3Cbc, ContentCipher::DesCbc}) {
    CAPTURE(to_string(cipher));
    REQUIRE(WriteRsaEnvelopedData(content, p.device.get(), FetchCipher(cipher)).has_value());  // no fallback
    auto ours = EncryptPkiEnvelope(content, p.device.get(), cipher);
    REQUIRE_MESSAGE(ours.ok(), ours.error().ToString());
    CheckCanonical(*ours);
    CHECK(Decrypt(*ours, p.device.get(), p.device_key.get()) == content);
    auto opened = DecryptPkiEnvelope(*ours, p.device.get(), p.device_key.get(), {.allow_single_des = true});
    REQUIRE(opened.ok());
    CHECK(opened->cipher == cipher);
    CHECK(opened->content == content);

    // CMS_encrypt's output differs only in the random key and IV: same length, same bytes up to the encrypted key.
    UniquePtr<STACK_OF(X509)> recipients(sk_X509_new_null());
    REQUIRE(sk_X509_push(recipients.get(), UpRef(p.device.get()).release()) > 0);
    UniquePtr<BIO> in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    UniquePtr<CMS_ContentInfo> cms(CMS_encrypt(recipients.get(), in.get(), FetchCipher(cipher), CMS_BINARY));
    REQUIRE(cms);
    const Bytes theirs = CmsToDer(cms.get()).value();
    REQUIRE(theirs.size() == ours->size());
    const auto our_parts = FindRandomParts(*ours);
    const auto their_parts = FindRandomParts(theirs);
    REQUIRE(our_parts);
    REQUIRE(their_parts);
    CHECK(our_parts->key == their_parts->key);
    CHECK(our_parts->iv == their_parts->iv);
    CHECK(Bytes(ours->begin(), ours->begin() + our_parts->key.first) ==
          Bytes(theirs.begin(), theirs.begin() + their_parts->key.first));
    CHECK(Bytes(ours->begin() + our_parts->key.second, ours->begin() + our_parts->iv.first) ==
          Bytes(theirs.begin() + their_parts->key.second, theirs.begin() + their_parts->iv.first));
  }
}
