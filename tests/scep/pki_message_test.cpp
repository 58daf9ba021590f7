// Whole pkiMessages captured from a real client (sscep 0.10.0, see tests/fixtures/sscep/README.md).
#include <doctest/doctest.h>

#include "scep/message_content.h"
#include "scep/pki_envelope.h"
#include "scep/pki_message.h"
#include "scep/pkcs_req.h"
#include "tests/scep/fixture_keys.h"

using namespace scep;

namespace {

struct Decoded {
  PkiMessage message;
  DecryptedEnvelope inner;
};

Decoded DecodeSscep(const std::string& name) {
  auto dir = test::SscepFixtures();
  auto ca = test::LoadCert(dir / "ca.pem");
  auto key = test::LoadKey(dir / "ca.key");
  REQUIRE(ca);
  REQUIRE(key);
  auto msg = ParsePkiMessage(test::ReadFile(dir / (name + ".der")));
  REQUIRE_MESSAGE(msg.ok(), msg.error().ToString());
  auto verified = VerifyPkiMessage(*msg);
  REQUIRE_MESSAGE(verified.ok(), verified.error().ToString());
  CHECK(msg->envelope() == test::ReadFile(dir / (name + ".envelope.der")));
  test::EnableDes();
  auto inner = DecryptPkiEnvelope(msg->envelope(), ca.get(), key.get(), EnvelopePolicy{.allow_single_des = true});
  REQUIRE_MESSAGE(inner.ok(), inner.error().ToString());
  CHECK(inner->content == test::ReadFile(dir / (name + ".inner.der")));
  return {std::move(*msg), std::move(*inner)};
}

}  // namespace

TEST_CASE("sscep PKCSReq messages: attributes, digest, cipher and CSR") {
  struct Case { const char* name; const char* txid; Digest digest; ContentCipher cipher; const char* cn; };
  const Case cases[] = {
      {"a-aes128-sha256", "85214CF684D5A5B1940F5E72A084BC21", Digest::Sha256, ContentCipher::Aes128Cbc,
       "CN=sscep-a-aes128-sha256,O=Fixtures"},
      {"b-3des-sha1", "7C1F46069E30611195CD05BACAF3A3E6", Digest::Sha1, ContentCipher::DesEde3Cbc,
       "CN=sscep-b-3des-sha1,O=Fixtures"},
      {"c-aes256-sha512", "2DD0DF65BEF0E46746D7D2EF6F915D5E", Digest::Sha512, ContentCipher::Aes256Cbc,
       "CN=sscep-c-aes256-sha512,O=Fixtures"},
      {"d-des-md5-get", "86AD1DFEC2196D9C916CBEA51F93BA6D", Digest::Md5, ContentCipher::DesCbc,
       "CN=sscep-d-des-md5-get,O=Fixtures"},
      {"g-renewal", "CDB96E9EA5F27069F6B60106B0E74EE4", Digest::Sha256, ContentCipher::Aes128Cbc,
       "CN=sscep-g-renewal,O=Fixtures"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    auto d = DecodeSscep(c.name);
    CHECK(d.message.message_type == MessageType::PkcsReq);
    CHECK(d.message.transaction_id == c.txid);
    CHECK(d.message.sender_nonce.size() == 16);
    CHECK(d.message.signed_data.digest == c.digest);
    CHECK(d.inner.cipher == c.cipher);
    auto csr = ParsePkcsReq(d.inner.content);
    REQUIRE_MESSAGE(csr.ok(), csr.error().ToString());
    CHECK(csr->subject == c.cn);
    CHECK(csr->challenge_password == std::optional<std::string>("fixture-secret"));
    CHECK(csr->key.type == "RSA");
    CHECK(csr->key.bits == 2048);
  }
}

TEST_CASE("sscep case a carries its SAN; case g is signed by the CA-issued device certificate") {
  auto a = DecodeSscep("a-aes128-sha256");
  auto csr = ParsePkcsReq(a.inner.content);
  REQUIRE(csr.ok());
  CHECK(csr->sans.ToString() == "DNS:sscep-a.fixtures.test");

  auto g = DecodeSscep("g-renewal");
  auto device = test::LoadCert(test::SscepFixtures() / "device.pem");
  CHECK(X509_cmp(g.message.signer_cert(), device.get()) == 0);
}

TEST_CASE("sscep GetCert and GetCRL carry IssuerAndSerialNumber") {
  for (const char* name : {"e-getcert", "f-getcrl"}) {
    CAPTURE(name);
    auto d = DecodeSscep(name);
    CHECK(d.message.message_type == (std::string(name) == "e-getcert" ? MessageType::GetCert : MessageType::GetCrl));
    CHECK(d.message.transaction_id == "SSCEP transactionId");
    auto ias = ParseIssuerAndSerial(d.inner.content);
    REQUIRE_MESSAGE(ias.ok(), ias.error().ToString());
    CHECK(ias->serial_hex == "02");
    CHECK(NameToString(ias->issuer.get()) == "CN=Fixture SCEP CA,O=Fixtures");
  }
}

TEST_CASE("sscep GetCertInitial carries IssuerAndSubject") {
  auto d = DecodeSscep("h-getcertinitial");
  CHECK(d.message.message_type == MessageType::CertPoll);
  CHECK(d.message.transaction_id == "85214CF684D5A5B1940F5E72A084BC21");
  auto ias = ParseIssuerAndSubject(d.inner.content);
  REQUIRE_MESSAGE(ias.ok(), ias.error().ToString());
  CHECK(NameToString(ias->issuer.get()) == "CN=Fixture SCEP CA,O=Fixtures");
  CHECK(NameToString(ias->subject.get()) == "CN=sscep-a-aes128-sha256,O=Fixtures");
  auto again = EncodeIssuerAndSubject(ias->issuer.get(), ias->subject.get());
  REQUIRE(again.ok());
  CHECK(*again == d.inner.content);
}

TEST_CASE("not a pkiMessage: truncated, random, empty, wrong CMS type, no SCEP attributes") {
  const auto good = test::ReadFile(test::SscepFixtures() / "a-aes128-sha256.der");
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{10}, good.size() / 2, good.size() - 1}) {
    CAPTURE(cut);
    auto msg = ParsePkiMessage(ByteView(good).first(cut));
    REQUIRE_FALSE(msg.ok());
    CHECK(msg.error().code == ErrorCode::Malformed);
    CHECK_FALSE(msg.error().fail_info().has_value());
  }
  Bytes random(2000);
  for (std::size_t i = 0; i < random.size(); ++i) random[i] = static_cast<std::uint8_t>((i * 7919u + 13u) % 251u);
  CHECK(ParsePkiMessage(random).error().code == ErrorCode::Malformed);
  random[0] = 0x30;  // looks like a SEQUENCE, then nonsense
  CHECK(ParsePkiMessage(random).error().code == ErrorCode::Malformed);
  // EnvelopedData is CMS, but not SignedData.
  CHECK(ParsePkiMessage(test::ReadFile(test::SscepFixtures() / "a-aes128-sha256.envelope.der")).error().code ==
        ErrorCode::Malformed);
  // A valid SignedData made by openssl cms without SCEP attributes.
  auto plain = ParsePkiMessage(test::ReadFile(test::OpensslFixtures() / "sd-rsa-sha256.der"));
  REQUIRE_FALSE(plain.ok());
  CHECK(plain.error().detail.find("messageType") != std::string::npos);
}

TEST_CASE("a flipped signature bit in a real pkiMessage: parsed, then badMessageCheck") {
  auto bytes = test::ReadFile(test::SscepFixtures() / "b-3des-sha1.der");
  bytes[bytes.size() - 5] ^= 0x04;
  auto msg = ParsePkiMessage(bytes);
  REQUIRE(msg.ok());  // the attributes are still readable, so a signed FAILURE can be sent
  CHECK(msg->transaction_id == "7C1F46069E30611195CD05BACAF3A3E6");
  auto verified = VerifyPkiMessage(*msg);
  REQUIRE_FALSE(verified.ok());
  CHECK(verified.error().fail_info() == FailInfo::BadMessageCheck);
}

TEST_CASE("a real pkiMessage decrypted with the wrong CA key is badMessageCheck") {
  auto msg = ParsePkiMessage(test::ReadFile(test::SscepFixtures() / "a-aes128-sha256.der"));
  REQUIRE(msg.ok());
  auto other = test::LoadCert(test::OpensslFixtures() / "ca.pem");
  auto other_key = test::LoadKey(test::OpensslFixtures() / "ca.key");
  auto inner = DecryptPkiEnvelope(msg->envelope(), other.get(), other_key.get(), {});
  REQUIRE_FALSE(inner.ok());
  CHECK(inner.error().code == ErrorCode::BadMessageCheck);
}
