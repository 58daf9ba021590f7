// SignedData and EnvelopedData made by the openssl CLI: every encoding, signer id, signature scheme, digest,
// content cipher and key transport the library promises to read.
#include <algorithm>

#include <doctest/doctest.h>

#include "scep/pki_envelope.h"
#include "scep/signed_data.h"
#include "tests/scep/fixture_keys.h"

using namespace scep;

namespace {

Result<SignedData> VerifiedFixture(const std::string& name) {
  auto bytes = test::ReadFile(test::OpensslFixtures() / name);
  REQUIRE_MESSAGE(!bytes.empty(), "missing fixture " << name);
  auto sd = ParseSignedData(bytes);
  if (!sd) return sd.error();
  if (auto v = VerifySignedData(*sd); !v) return v.error();
  return sd;
}

Result<DecryptedEnvelope> DecryptFixture(const std::string& name, EnvelopePolicy policy = {}) {
  auto ca = test::LoadCert(test::OpensslFixtures() / "ca.pem");
  auto key = test::LoadKey(test::OpensslFixtures() / "ca.key");
  REQUIRE(ca);
  REQUIRE(key);
  return DecryptPkiEnvelope(test::ReadFile(test::OpensslFixtures() / name), ca.get(), key.get(), policy);
}

}  // namespace

TEST_CASE("SignedData from openssl cms -sign verifies in every form") {
  const auto envelope = test::ReadFile(test::OpensslFixtures() / "env-aes-128-cbc.der");
  struct Case { const char* file; Digest digest; const char* signer_cn; };
  const Case cases[] = {
      {"sd-rsa-md5.der", Digest::Md5, "signer-rsa"},       {"sd-rsa-sha1.der", Digest::Sha1, "signer-rsa"},
      {"sd-rsa-sha256.der", Digest::Sha256, "signer-rsa"}, {"sd-rsa-sha384.der", Digest::Sha384, "signer-rsa"},
      {"sd-rsa-sha512.der", Digest::Sha512, "signer-rsa"}, {"sd-rsa-ber.der", Digest::Sha256, "signer-rsa"},
      {"sd-rsa-keyid.der", Digest::Sha256, "signer-rsa"},  {"sd-rsa-pss.der", Digest::Sha256, "signer-rsa"},
      {"sd-ec.der", Digest::Sha256, "signer-ec"},          {"sd-ec-sha384-ber-keyid.der", Digest::Sha384, "signer-ec"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.file);
    auto sd = VerifiedFixture(c.file);
    REQUIRE_MESSAGE(sd.ok(), sd.error().ToString());
    CHECK(sd->digest == c.digest);
    CHECK(sd->content == envelope);
    CHECK(NameToString(X509_get_subject_name(sd->signer_cert)) == std::string("CN=") + c.signer_cn);
  }
}

TEST_CASE("a flipped bit in the signature gives badMessageCheck, not a crash") {
  auto bytes = test::ReadFile(test::OpensslFixtures() / "sd-rsa-sha256.der");
  REQUIRE(bytes.size() > 300);
  bytes[bytes.size() - 10] ^= 0x01;  // the signature value is the last field of the SignerInfo
  auto sd = ParseSignedData(bytes);
  REQUIRE(sd.ok());
  auto verified = VerifySignedData(*sd);
  REQUIRE_FALSE(verified.ok());
  CHECK(verified.error().code == ErrorCode::BadMessageCheck);
  CHECK(verified.error().fail_info() == FailInfo::BadMessageCheck);
  CHECK_FALSE(verified.error().openssl_errors.empty());
}

TEST_CASE("a changed content byte breaks the messageDigest check") {
  auto bytes = test::ReadFile(test::OpensslFixtures() / "sd-rsa-sha1.der");
  const auto envelope = test::ReadFile(test::OpensslFixtures() / "env-aes-128-cbc.der");
  auto at = std::search(bytes.begin(), bytes.end(), envelope.end() - 16, envelope.end());
  REQUIRE(at != bytes.end());
  *at ^= 0x80;
  auto sd = ParseSignedData(bytes);
  REQUIRE(sd.ok());
  CHECK(VerifySignedData(*sd).error().code == ErrorCode::BadMessageCheck);
}

TEST_CASE("EnvelopedData from openssl cms -encrypt decrypts with every cipher") {
  test::EnableDes();
  const auto csr = test::ReadFile(test::OpensslFixtures() / "csr-printable.der");
  struct Case { const char* file; ContentCipher cipher; };
  const Case cases[] = {
      {"env-aes-128-cbc.der", ContentCipher::Aes128Cbc}, {"env-aes-192-cbc.der", ContentCipher::Aes192Cbc},
      {"env-aes-256-cbc.der", ContentCipher::Aes256Cbc}, {"env-des-ede3-cbc.der", ContentCipher::DesEde3Cbc},
      {"env-des-cbc.der", ContentCipher::DesCbc},        {"env-oaep.der", ContentCipher::Aes256Cbc},
      {"env-ber.der", ContentCipher::Aes128Cbc},
  };
  for (const Case& c : cases) {
    CAPTURE(c.file);
    auto env = DecryptFixture(c.file, EnvelopePolicy{.allow_single_des = true});
    REQUIRE_MESSAGE(env.ok(), env.error().ToString());
    CHECK(env->cipher == c.cipher);
    CHECK(env->content == csr);
  }
}

TEST_CASE("single DES is badAlg when the policy refuses it") {
  test::EnableDes();
  auto env = DecryptFixture("env-des-cbc.der", EnvelopePolicy{.allow_single_des = false});
  REQUIRE_FALSE(env.ok());
  CHECK(env.error().code == ErrorCode::BadAlg);
}

TEST_CASE("an unsupported content cipher (Camellia) is badAlg") {
  auto env = DecryptFixture("env-camellia.der");
  REQUIRE_FALSE(env.ok());
  CHECK(env.error().code == ErrorCode::BadAlg);
  CHECK(env.error().detail.find("CAMELLIA") != std::string::npos);
}

TEST_CASE("an envelope for another recipient is badMessageCheck") {
  auto env = DecryptFixture("env-other.der");
  REQUIRE_FALSE(env.ok());
  CHECK(env.error().code == ErrorCode::BadMessageCheck);
}

TEST_CASE("an envelope that is not EnvelopedData is malformed") {
  auto ca = test::LoadCert(test::OpensslFixtures() / "ca.pem");
  auto key = test::LoadKey(test::OpensslFixtures() / "ca.key");
  const auto csr = test::ReadFile(test::OpensslFixtures() / "csr-printable.der");
  auto env = DecryptPkiEnvelope(csr, ca.get(), key.get(), {});
  REQUIRE_FALSE(env.ok());
  CHECK(env.error().code == ErrorCode::Malformed);
}
