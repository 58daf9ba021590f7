// PKCSReq messages captured from the real clients the interop matrix drives (interop/capture-fixtures.sh):
// micromdm scepclient, strongSwan pki --scep and certmonger, each described in tests/fixtures/<client>/README.md.
#include <doctest/doctest.h>

#include "scep/pki_envelope.h"
#include "scep/pki_message.h"
#include "scep/pkcs_req.h"
#include "scep/rsa_enveloped_data.h"
#include "tests/scep/fixture_keys.h"

using namespace scep;

namespace {

struct ClientCase {
  const char* client;
  const char* txid;
  Digest digest;
  ContentCipher cipher;
  const char* subject;
  const char* sans;
};

// The values the capture recorded in each README.md.
const ClientCase kCases[] = {
    {"micromdm", "CLcvndTEAthT3N6sQE8aMyXJGNc=", Digest::Sha1, ContentCipher::DesCbc,
     "CN=micromdm-fixture,OU=Interop,O=Fixtures,C=US", ""},
    {"strongswan", "ECC67D87A293B08182FF06C367CE3E8B517A8B9C", Digest::Sha256, ContentCipher::DesEde3Cbc,
     "CN=strongswan-fixture,O=Fixtures", "DNS:strongswan-fixture.fixtures.test"},
    {"certmonger", "8849750279798468791712888171788350290476709518029844322006802032921389752493", Digest::Sha256,
     ContentCipher::Aes256Cbc, "O=Fixtures,CN=certmonger-fixture", "DNS:certmonger-fixture.fixtures.test"},
};

std::filesystem::path Dir(const char* client) { return test::SourceDir() / "tests/fixtures" / client; }

}  // namespace

TEST_CASE("real client PKCSReq captures: type, transactionID, digest, cipher, subject, SANs and challenge") {
  for (const ClientCase& c : kCases) {
    CAPTURE(c.client);
    const auto dir = Dir(c.client);
    auto ca = test::LoadCert(dir / "ca.pem");
    auto key = test::LoadKey(dir / "ca.key");
    REQUIRE(ca);
    REQUIRE(key);

    auto msg = ParsePkiMessage(test::ReadFile(dir / (std::string(c.client) + "-pkcsreq.der")));
    REQUIRE_MESSAGE(msg.ok(), msg.error().ToString());
    auto verified = VerifyPkiMessage(*msg);
    REQUIRE_MESSAGE(verified.ok(), verified.error().ToString());
    CHECK(msg->message_type == MessageType::PkcsReq);
    CHECK(msg->transaction_id == c.txid);
    CHECK(msg->sender_nonce.size() == 16);
    CHECK(msg->signed_data.digest == c.digest);

    test::EnableDes();  // micromdm always sends single DES
    CHECK(ReadRsaEnvelope(msg->envelope(), ca.get()).has_value());  // the fast path, not CMS_decrypt
    auto inner = DecryptPkiEnvelope(msg->envelope(), ca.get(), key.get(), EnvelopePolicy{.allow_single_des = true});
    REQUIRE_MESSAGE(inner.ok(), inner.error().ToString());
    CHECK(inner->cipher == c.cipher);

    auto csr = ParsePkcsReq(inner->content);
    REQUIRE_MESSAGE(csr.ok(), csr.error().ToString());
    CHECK(csr->subject == c.subject);
    CHECK(csr->sans.ToString() == c.sans);
    CHECK(csr->challenge_password == std::optional<std::string>("fixture-secret"));
    CHECK(csr->key.type == "RSA");
    CHECK(csr->key.bits == 2048);
  }
}

TEST_CASE("micromdm signs with a separate 'SCEP SIGNER' certificate, the others with the CSR's subject") {
  for (const ClientCase& c : kCases) {
    CAPTURE(c.client);
    auto msg = ParsePkiMessage(test::ReadFile(Dir(c.client) / (std::string(c.client) + "-pkcsreq.der")));
    REQUIRE(msg.ok());
    REQUIRE(msg->signer_cert() != nullptr);
    const std::string signer = NameToString(X509_get_subject_name(msg->signer_cert()));
    if (std::string(c.client) == "micromdm") {
      CHECK(signer == "CN=SCEP SIGNER,O=Fixtures");
    } else {
      CHECK(signer == c.subject);
    }
  }
}

TEST_CASE("without single DES allowed, micromdm's message is refused with badAlg") {
  const auto dir = Dir("micromdm");
  auto ca = test::LoadCert(dir / "ca.pem");
  auto key = test::LoadKey(dir / "ca.key");
  auto msg = ParsePkiMessage(test::ReadFile(dir / "micromdm-pkcsreq.der"));
  REQUIRE(msg.ok());
  auto inner = DecryptPkiEnvelope(msg->envelope(), ca.get(), key.get(), EnvelopePolicy{.allow_single_des = false});
  REQUIRE_FALSE(inner.ok());
  CHECK(inner.error().fail_info() == FailInfo::BadAlg);
}
