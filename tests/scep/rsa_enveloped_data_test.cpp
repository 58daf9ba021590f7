// The EnvelopedData fast path (rsa_enveloped_data.h) must answer exactly as the CMS path (d2i_PKCS7, d2i_CMS and
// CMS_decrypt, kept below as the reference) or leave the envelope to it. Inputs: envelopes made by the openssl CLI,
// by CMS_encrypt (several recipients, subjectKeyIdentifier) and captured from real clients, plus every one-bit
// corruption of one of them.
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <openssl/err.h>

#include "scep/algorithms.h"
#include "scep/pki_envelope.h"
#include "scep/pki_message.h"
#include "scep/rsa_enveloped_data.h"
#include "tests/scep/fixture_keys.h"

using namespace scep;

namespace {

// What DecryptPkiEnvelope did before the fast path, step for step.
Result<DecryptedEnvelope> DecryptWithCms(ByteView envelope, X509* cert, EVP_PKEY* key, const EnvelopePolicy& policy) {
  const unsigned char* p = envelope.data();
  UniquePtr<PKCS7> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(envelope.size())));
  if (!p7 || OBJ_obj2nid(p7->type) != NID_pkcs7_enveloped || p7->d.enveloped == nullptr ||
      p7->d.enveloped->enc_data == nullptr || p7->d.enveloped->enc_data->algorithm == nullptr) {
    return MakeError(ErrorCode::Malformed, "not EnvelopedData");
  }
  const int nid = OBJ_obj2nid(p7->d.enveloped->enc_data->algorithm->algorithm);
  auto cipher = CipherFromNid(nid);
  if (!cipher) return MakeError(ErrorCode::BadAlg, "cipher");
  if (*cipher == ContentCipher::DesCbc && !(policy.allow_single_des && SingleDesEnabled())) {
    return MakeError(ErrorCode::BadAlg, "des");
  }
  p = envelope.data();
  UniquePtr<CMS_ContentInfo> cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(envelope.size())));
  if (!cms) return MakeError(ErrorCode::Malformed, "not CMS");
  STACK_OF(CMS_RecipientInfo)* infos = CMS_get0_RecipientInfos(cms.get());
  if (infos == nullptr || sk_CMS_RecipientInfo_num(infos) == 0) return MakeError(ErrorCode::Malformed, "none");
  bool transport = false;
  for (int i = 0; i < sk_CMS_RecipientInfo_num(infos); ++i) {
    transport = transport || CMS_RecipientInfo_type(sk_CMS_RecipientInfo_value(infos, i)) == CMS_RECIPINFO_TRANS;
  }
  if (!transport) return MakeError(ErrorCode::BadAlg, "no ktri");
  UniquePtr<BIO> out(BIO_new(BIO_s_mem()));
  if (CMS_decrypt(cms.get(), key, cert, nullptr, out.get(), CMS_BINARY) != 1) {
    return MakeError(ErrorCode::BadMessageCheck, "decrypt");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(out.get(), &data);
  return DecryptedEnvelope{len > 0 ? Bytes(data, data + len) : Bytes(), *cipher};
}

// Both paths answer a key unwrapping failure with a random key, so garbage content and badMessageCheck are one
// outcome; everything else must match exactly.
std::string Outcome(const Result<DecryptedEnvelope>& r, const Bytes& plaintext) {
  if (!r) return r.error().code == ErrorCode::BadMessageCheck ? "garbage" : to_string(r.error().code);
  if (r->content != plaintext) return "garbage";
  return "plaintext " + to_string(r->cipher);
}

struct Recipient {
  UniquePtr<X509> cert;
  UniquePtr<EVP_PKEY> key;
};

Recipient LoadRecipient(const std::filesystem::path& dir, const char* name) {
  Recipient r{test::LoadCert(dir / (std::string(name) + ".pem")), test::LoadKey(dir / (std::string(name) + ".key"))};
  REQUIRE_MESSAGE(r.cert, "missing fixture " << dir / name);
  REQUIRE(r.key);
  return r;
}

Bytes Encrypt(ByteView content, std::vector<X509*> recipients, unsigned flags) {
  UniquePtr<STACK_OF(X509)> stack(sk_X509_new_null());
  for (X509* cert : recipients) {
    auto owned = UpRef(cert);
    REQUIRE(sk_X509_push(stack.get(), owned.get()) > 0);
    owned.release();
  }
  UniquePtr<BIO> in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  UniquePtr<CMS_ContentInfo> cms(CMS_encrypt(stack.get(), in.get(), EVP_aes_128_cbc(), CMS_BINARY | flags));
  REQUIRE(cms);
  return CmsToDer(cms.get()).value();
}

const EnvelopePolicy kAllowDes{.allow_single_des = true};

}  // namespace

TEST_CASE("openssl cms -encrypt with every cipher: the fast path decrypts what CMS_decrypt decrypts") {
  test::EnableDes();
  const auto dir = test::OpensslFixtures();
  Recipient ca = LoadRecipient(dir, "ca");
  const Bytes plaintext = test::ReadFile(dir / "csr-printable.der");
  for (const char* name : {"env-aes-128-cbc.der", "env-aes-192-cbc.der", "env-aes-256-cbc.der",
                           "env-des-ede3-cbc.der", "env-des-cbc.der"}) {
    CAPTURE(name);
    const Bytes envelope = test::ReadFile(dir / name);
    REQUIRE(ReadRsaEnvelope(envelope, ca.cert.get()).has_value());
    auto fast = DecryptPkiEnvelope(envelope, ca.cert.get(), ca.key.get(), kAllowDes);
    REQUIRE_MESSAGE(fast.ok(), fast.error().ToString());
    CHECK(fast->content == plaintext);
    auto reference = DecryptWithCms(envelope, ca.cert.get(), ca.key.get(), kAllowDes);
    CHECK(Outcome(fast, plaintext) == Outcome(reference, plaintext));
    // The policy still refuses single DES, with the same code.
    auto strict = DecryptPkiEnvelope(envelope, ca.cert.get(), ca.key.get(), EnvelopePolicy{});
    CHECK(Outcome(strict, plaintext) == Outcome(DecryptWithCms(envelope, ca.cert.get(), ca.key.get(), {}), plaintext));
  }
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("OAEP, BER, another recipient, an unknown cipher: left to CMS_decrypt, same answers") {
  test::EnableDes();
  const auto dir = test::OpensslFixtures();
  Recipient ca = LoadRecipient(dir, "ca");
  const Bytes plaintext = test::ReadFile(dir / "csr-printable.der");
  for (const char* name : {"env-oaep.der", "env-ber.der", "env-other.der", "env-camellia.der", "sd-rsa-sha256.der"}) {
    CAPTURE(name);
    const Bytes envelope = test::ReadFile(dir / name);
    CHECK_FALSE(ReadRsaEnvelope(envelope, ca.cert.get()).has_value());
    CHECK(Outcome(DecryptPkiEnvelope(envelope, ca.cert.get(), ca.key.get(), kAllowDes), plaintext) ==
          Outcome(DecryptWithCms(envelope, ca.cert.get(), ca.key.get(), kAllowDes), plaintext));
  }
  Bytes envelope = test::ReadFile(dir / "env-aes-128-cbc.der");
  envelope.push_back(0);  // d2i ignores trailing bytes; the fast path does not take them
  CHECK_FALSE(ReadRsaEnvelope(envelope, ca.cert.get()).has_value());
  CHECK(DecryptPkiEnvelope(envelope, ca.cert.get(), ca.key.get(), kAllowDes).ok());
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("several recipients (micromdm encrypts to every CA certificate): ours is found wherever it is") {
  const auto dir = test::OpensslFixtures();
  Recipient ca = LoadRecipient(dir, "ca");
  Recipient other = LoadRecipient(dir, "other-ca");
  const Bytes plaintext = test::ReadFile(dir / "csr-printable.der");
  for (const auto& order : {std::vector<X509*>{other.cert.get(), ca.cert.get()},
                            std::vector<X509*>{ca.cert.get(), other.cert.get()}}) {
    const Bytes envelope = Encrypt(plaintext, order, 0);
    REQUIRE(ReadRsaEnvelope(envelope, ca.cert.get()).has_value());
    REQUIRE(ReadRsaEnvelope(envelope, other.cert.get()).has_value());
    auto fast = DecryptPkiEnvelope(envelope, ca.cert.get(), ca.key.get(), {});
    REQUIRE(fast.ok());
    CHECK(fast->content == plaintext);
    auto as_other = DecryptPkiEnvelope(envelope, other.cert.get(), other.key.get(), {});
    REQUIRE(as_other.ok());
    CHECK(as_other->content == plaintext);
  }
  // Named by subjectKeyIdentifier: CMS's business.
  const Bytes by_key_id = Encrypt(plaintext, {ca.cert.get()}, CMS_USE_KEYID);
  CHECK_FALSE(ReadRsaEnvelope(by_key_id, ca.cert.get()).has_value());
  auto slow = DecryptPkiEnvelope(by_key_id, ca.cert.get(), ca.key.get(), {});
  CHECK(Outcome(slow, plaintext) == Outcome(DecryptWithCms(by_key_id, ca.cert.get(), ca.key.get(), {}), plaintext));
}

// Flips one bit at a time (a low one, a high one: lengths and tags) and compares the two paths' answers.
void CheckEveryCorruption(const Bytes& original, Recipient& recipient, const Bytes& plaintext) {
  int fast_taken = 0;
  for (std::size_t i = 0; i < original.size(); ++i) {
    for (unsigned char bit : {0x01, 0x80}) {
      Bytes envelope = original;
      envelope[i] ^= bit;
      CAPTURE(i);
      CAPTURE(int(bit));
      fast_taken += ReadRsaEnvelope(envelope, recipient.cert.get()).has_value() ? 1 : 0;
      CHECK(Outcome(DecryptPkiEnvelope(envelope, recipient.cert.get(), recipient.key.get(), kAllowDes), plaintext) ==
            Outcome(DecryptWithCms(envelope, recipient.cert.get(), recipient.key.get(), kAllowDes), plaintext));
      ERR_clear_error();
    }
  }
  CHECK(fast_taken > static_cast<int>(original.size()));  // most corruptions keep the structure
}

TEST_CASE("every one-bit corruption of an envelope gets the same answer from both paths") {
  test::EnableDes();
  const auto dir = test::OpensslFixtures();
  Recipient ca = LoadRecipient(dir, "ca");
  Recipient other = LoadRecipient(dir, "other-ca");
  const Bytes plaintext = test::ReadFile(dir / "csr-printable.der");
  CheckEveryCorruption(Encrypt(plaintext, {other.cert.get(), ca.cert.get()}, 0), ca, plaintext);
  // micromdm's: single DES, encryptedContent constructed from OCTET STRING segments.
  const auto micromdm = test::SourceDir() / "tests/fixtures/micromdm";
  Recipient micromdm_ca = LoadRecipient(micromdm, "ca");
  auto msg = ParsePkiMessage(test::ReadFile(micromdm / "micromdm-pkcsreq.der"));
  REQUIRE(msg.ok());
  auto inner = DecryptWithCms(msg->envelope(), micromdm_ca.cert.get(), micromdm_ca.key.get(), kAllowDes);
  REQUIRE(inner.ok());
  CheckEveryCorruption(msg->envelope(), micromdm_ca, inner->content);
}

TEST_CASE("sscep's envelopes take the fast path and decrypt to the captured payload") {
  test::EnableDes();
  const auto dir = test::SscepFixtures();
  Recipient ca = LoadRecipient(dir, "ca");
  for (const char* name : {"a-aes128-sha256", "b-3des-sha1", "c-aes256-sha512", "d-des-md5-get", "e-getcert",
                           "f-getcrl", "g-renewal", "h-getcertinitial"}) {
    CAPTURE(name);
    const Bytes envelope = test::ReadFile(dir / (std::string(name) + ".envelope.der"));
    REQUIRE(ReadRsaEnvelope(envelope, ca.cert.get()).has_value());
    auto inner = DecryptPkiEnvelope(envelope, ca.cert.get(), ca.key.get(), kAllowDes);
    REQUIRE_MESSAGE(inner.ok(), inner.error().ToString());
    CHECK(inner->content == test::ReadFile(dir / (std::string(name) + ".inner.der")));
  }
}
