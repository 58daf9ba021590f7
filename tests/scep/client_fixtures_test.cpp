// PKCSReq messages captured from the real clients the interop matrix drives (interop/capture-fixtures.sh):
// micromdm scepclient, strongSwan pki --scep and certmonger, each described in tests/fixtures/<client>/README.md.
#include <algorithm>
#include <string>

#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "scep/pki_envelope.h"
#include "scep/pki_message.h"
#include "scep/pkcs_req.h"
#include "scep/rsa_enveloped_data.h"
#include "scep/rsa_pkcs10.h"
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

// The PKCS#10 request inside a client's captured PKCSReq.
Bytes ClientCsr(const char* client) {
  const auto dir = Dir(client);
  auto ca = test::LoadCert(dir / "ca.pem");
  auto key = test::LoadKey(dir / "ca.key");
  auto msg = ParsePkiMessage(test::ReadFile(dir / (std::string(client) + "-pkcsreq.der")));
  REQUIRE(msg.ok());
  test::EnableDes();
  auto inner = DecryptPkiEnvelope(msg->envelope(), ca.get(), key.get(), EnvelopePolicy{.allow_single_des = true});
  REQUIRE(inner.ok());
  return inner->content;
}

UniquePtr<X509_REQ> DecodeWithOpenssl(const Bytes& der) {
  const unsigned char* p = der.data();
  return UniquePtr<X509_REQ>(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
}

// The strongSwan request's two attributes (extensionRequest, then challengePassword) swapped into DER order, the
// signature left as it was: every field decodes to the same value, but the signed bytes changed.
Bytes SwapStrongswanAttributes(const Bytes& csr) {
  const auto at = [&csr](std::initializer_list<unsigned char> bytes) {
    return static_cast<std::size_t>(std::search(csr.begin(), csr.end(), bytes.begin(), bytes.end()) - csr.begin());
  };
  const std::size_t attributes = at({0xa0, 0x5d, 0x30, 0x3c});  // [0] { extensionRequest (60 bytes), ... }
  REQUIRE(attributes < csr.size());
  const std::size_t first = attributes + 2;
  const std::size_t second = first + 2 + 0x3c;
  REQUIRE(csr[second] == 0x30);
  const std::size_t end = second + 2 + csr[second + 1];
  REQUIRE(end == attributes + 2 + 0x5d);
  Bytes swapped(csr.begin(), csr.begin() + static_cast<long>(first));
  swapped.insert(swapped.end(), csr.begin() + static_cast<long>(second), csr.begin() + static_cast<long>(end));
  swapped.insert(swapped.end(), csr.begin() + static_cast<long>(first), csr.begin() + static_cast<long>(second));
  swapped.insert(swapped.end(), csr.begin() + static_cast<long>(end), csr.end());
  REQUIRE(swapped.size() == csr.size());
  return swapped;
}

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

TEST_CASE("every real client's PKCS#10 takes the RSA fast path, with the fields d2i_X509_REQ reads") {
  for (const ClientCase& c : kCases) {
    CAPTURE(c.client);
    const Bytes csr = ClientCsr(c.client);
    UniquePtr<X509_REQ> fast = DecodeRsaPkcs10(csr);
    UniquePtr<X509_REQ> slow = DecodeWithOpenssl(csr);
    REQUIRE(fast);
    REQUIRE(slow);
    CHECK(X509_NAME_cmp(X509_REQ_get_subject_name(fast.get()), X509_REQ_get_subject_name(slow.get())) == 0);
    CHECK(EVP_PKEY_eq(X509_REQ_get0_pubkey(fast.get()), X509_REQ_get0_pubkey(slow.get())) == 1);
    REQUIRE(X509_REQ_get_attr_count(fast.get()) == X509_REQ_get_attr_count(slow.get()));
    for (int i = 0; i < X509_REQ_get_attr_count(slow.get()); ++i) {
      const int nid = OBJ_obj2nid(X509_ATTRIBUTE_get0_object(X509_REQ_get_attr(slow.get(), i)));
      CHECK(X509_REQ_get_attr_by_NID(fast.get(), nid, -1) >= 0);
    }
    // The signature is checked over the bytes as received, and agrees with OpenSSL's check of its own decoding.
    CHECK(VerifyRsaPkcs10Signature(csr, fast.get()) == std::optional<bool>(true));
    CHECK(X509_REQ_verify(slow.get(), X509_REQ_get0_pubkey(slow.get())) == 1);
  }
}

TEST_CASE("strongSwan's unsorted attributes: only the bytes it signed verify") {
  const Bytes csr = ClientCsr("strongswan");
  UniquePtr<X509_REQ> fast = DecodeRsaPkcs10(csr);
  REQUIRE(fast);
  // Our object re-encodes in DER order, so it is not the received encoding: X509_REQ_verify on it would fail.
  CHECK(ReqToDer(fast.get()).value() != csr);
  CHECK(X509_REQ_verify(fast.get(), X509_REQ_get0_pubkey(fast.get())) != 1);
  ERR_clear_error();
  CHECK(ParsePkcsReq(csr).ok());

  // The same attributes in sorted order under strongSwan's signature: decodes exactly, signature fails.
  const Bytes sorted = SwapStrongswanAttributes(csr);
  UniquePtr<X509_REQ> sorted_fast = DecodeRsaPkcs10(sorted);
  REQUIRE(sorted_fast);
  CHECK(ReqToDer(sorted_fast.get()).value() == sorted);
  CHECK(VerifyRsaPkcs10Signature(sorted, sorted_fast.get()) == std::optional<bool>(false));
  auto parsed = ParsePkcsReq(sorted);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == ErrorCode::BadMessageCheck);
  UniquePtr<X509_REQ> sorted_slow = DecodeWithOpenssl(sorted);
  REQUIRE(sorted_slow);
  CHECK(X509_REQ_verify(sorted_slow.get(), X509_REQ_get0_pubkey(sorted_slow.get())) != 1);
  ERR_clear_error();

  // One byte of the challenge changed: still the fast path's shape, the signature fails.
  Bytes tampered = csr;
  const std::string secret = "fixture-secret";
  auto where = std::search(tampered.begin(), tampered.end(), secret.begin(), secret.end());
  REQUIRE(where != tampered.end());
  *where = 'F';
  auto refused = ParsePkcsReq(tampered);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::BadMessageCheck);
}
