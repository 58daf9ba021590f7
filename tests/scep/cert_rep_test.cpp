// CertReps built by the library, checked by the openssl CLI (cms -verify, cms -decrypt, cms -cmsout -print) and
// read back by the library's own client side.
#include <doctest/doctest.h>

#include "scep/ca_caps.h"
#include "scep/cert_rep.h"
#include "scep/pki_envelope.h"
#include "scep/pki_request.h"
#include "tests/scep/fixture_keys.h"

using namespace scep;

namespace {

using test::Parties;

// A request as a client would send it, parsed and decrypted as the gateway would.
PkiMessage ParsedRequest(const Parties& p, ContentCipher cipher, Digest digest, ContentCipher* used) {
  PkiRequest req;
  req.transaction_id = "TXN-1234";
  req.content = test::ReadFile(test::OpensslFixtures() / "csr-printable.der");
  req.recipient = p.ca.get();
  req.cipher = cipher;
  req.signer = {p.device.get(), p.device_key.get()};
  req.digest = digest;
  auto der = BuildPkiRequest(req);
  REQUIRE_MESSAGE(der.ok(), der.error().ToString());
  auto msg = ParsePkiMessage(*der);
  REQUIRE(msg.ok());
  REQUIRE(VerifyPkiMessage(*msg).ok());
  auto inner = DecryptPkiEnvelope(msg->envelope(), p.ca.get(), p.ca_key.get(), {.allow_single_des = true});
  REQUIRE_MESSAGE(inner.ok(), inner.error().ToString());
  CHECK(inner->content == req.content);
  *used = inner->cipher;
  return std::move(*msg);
}

std::string Openssl(const std::string& args) {
  std::string out;
  const int rc = test::Run("openssl " + args, &out);
  INFO("openssl " << args << "\n" << out);
  CHECK(rc == 0);
  return out;
}

}  // namespace

TEST_CASE("SUCCESS: openssl verifies the signature and decrypts with the request's cipher") {
  test::EnableDes();
  Parties p;
  test::TempDir dir;
  struct Case { ContentCipher cipher; Digest digest; const char* cms_cipher; const char* cms_digest; };
  const Case cases[] = {
      {ContentCipher::Aes128Cbc, Digest::Sha256, "aes-128-cbc", "sha256"},
      {ContentCipher::Aes192Cbc, Digest::Sha384, "aes-192-cbc", "sha384"},
      {ContentCipher::Aes256Cbc, Digest::Sha512, "aes-256-cbc", "sha512"},
      {ContentCipher::DesEde3Cbc, Digest::Sha1, "des-ede3-cbc", "sha1"},
      {ContentCipher::DesCbc, Digest::Md5, "des-cbc", "sha256"},  // MD5 requests get SHA-256 replies
  };
  for (const Case& c : cases) {
    CAPTURE(c.cms_cipher);
    ContentCipher used{};
    PkiMessage request = ParsedRequest(p, c.cipher, c.digest, &used);
    CHECK(used == c.cipher);
    ReplyTo to = ReplyToRequest(request);
    to.cipher = used;
    X509* issued[] = {p.device.get()};
    auto certs = BuildDegenerateCerts(issued);
    REQUIRE(certs.ok());
    auto reply = BuildCertRepSuccess(to, {p.ca.get(), p.ca_key.get()}, *certs);
    REQUIRE_MESSAGE(reply.ok(), reply.error().ToString());
    test::WriteFile(dir / "rep.der", *reply);

    const std::string d = dir.path().string();
    const std::string fx = test::OpensslFixtures().string();
    Openssl("cms -verify -inform DER -in " + d + "/rep.der -CAfile " + fx + "/ca.pem -purpose any -out " + d +
            "/env.der");
    const std::string legacy = c.cipher == ContentCipher::DesCbc ? " -provider legacy -provider default" : "";
    Openssl("cms -decrypt -inform DER -in " + d + "/env.der -recip " + fx + "/signer-rsa.pem -inkey " + fx +
            "/rsa.key -out " + d + "/inner.der" + legacy);
    CHECK(Openssl("pkcs7 -inform DER -in " + d + "/inner.der -print_certs -noout").find("CN = signer-rsa") !=
          std::string::npos);
    const std::string printed = Openssl("cms -cmsout -print -inform DER -in " + d + "/env.der" + legacy);
    CHECK(printed.find(std::string("algorithm: ") + c.cms_cipher) != std::string::npos);
    const std::string outer = Openssl("cms -cmsout -print -inform DER -in " + d + "/rep.der");
    // strongSwan accepts nothing but rsaEncryption as the SignerInfo signatureAlgorithm.
    CHECK(outer.find("signatureAlgorithm: \n          algorithm: rsaEncryption") != std::string::npos);
    CHECK(outer.find(std::string("algorithm: ") + c.cms_digest) != std::string::npos);

    // The library's own client reads it back.
    auto parsed = ParsePkiMessage(*reply);
    REQUIRE(parsed.ok());
    REQUIRE(VerifyPkiMessage(*parsed).ok());
    CHECK(parsed->pki_status == PkiStatus::Success);
    auto opened = OpenCertRep(*parsed, p.device.get(), p.device_key.get());
    REQUIRE_MESSAGE(opened.ok(), opened.error().ToString());
    REQUIRE(opened->certs.size() == 1);
    CHECK(X509_cmp(opened->certs[0].get(), p.device.get()) == 0);
  }
}

TEST_CASE("FAILURE and PENDING: no content, nonces and transactionID right, signature verifies") {
  Parties p;
  test::TempDir dir;
  ContentCipher used{};
  PkiMessage request = ParsedRequest(p, ContentCipher::Aes128Cbc, Digest::Sha256, &used);
  const ReplyTo to = ReplyToRequest(request);

  auto failure = BuildCertRepFailure(to, {p.ca.get(), p.ca_key.get()}, FailInfo::BadRequest, "wrong challenge");
  REQUIRE(failure.ok());
  test::WriteFile(dir / "fail.der", *failure);
  Openssl("cms -verify -inform DER -in " + (dir / "fail.der").string() + " -CAfile " +
          (test::OpensslFixtures() / "ca.pem").string() + " -purpose any -out /dev/null");
  auto parsed = ParsePkiMessage(*failure);
  REQUIRE(parsed.ok());
  REQUIRE(VerifyPkiMessage(*parsed).ok());
  CHECK(parsed->message_type == MessageType::CertRep);
  CHECK(parsed->pki_status == PkiStatus::Failure);
  CHECK(parsed->fail_info == FailInfo::BadRequest);
  CHECK(parsed->fail_info_text == "wrong challenge");
  CHECK(parsed->transaction_id == "TXN-1234");
  CHECK(parsed->recipient_nonce == request.sender_nonce);
  CHECK(parsed->sender_nonce.size() == 16);
  CHECK(parsed->sender_nonce != request.sender_nonce);
  CHECK(parsed->envelope().empty());

  auto pending = BuildCertRepPending(to, {p.ca.get(), p.ca_key.get()});
  REQUIRE(pending.ok());
  auto parsed_pending = ParsePkiMessage(*pending);
  REQUIRE(parsed_pending.ok());
  CHECK(parsed_pending->pki_status == PkiStatus::Pending);
  CHECK_FALSE(parsed_pending->fail_info.has_value());
  CHECK(parsed_pending->envelope().empty());
}

TEST_CASE("an ECDSA signer signs CertReps too") {
  Parties p;
  auto ec_cert = test::LoadCert(test::OpensslFixtures() / "signer-ec.pem");
  auto ec_key = test::LoadKey(test::OpensslFixtures() / "ec.key");
  ContentCipher used{};
  PkiMessage request = ParsedRequest(p, ContentCipher::Aes256Cbc, Digest::Sha384, &used);
  auto reply = BuildCertRepFailure(ReplyToRequest(request), {ec_cert.get(), ec_key.get()}, FailInfo::BadCertId);
  REQUIRE(reply.ok());
  auto parsed = ParsePkiMessage(*reply);
  REQUIRE(parsed.ok());
  REQUIRE(VerifyPkiMessage(*parsed).ok());
  CHECK(parsed->signed_data.digest == Digest::Sha384);
  CHECK(parsed->fail_info == FailInfo::BadCertId);
}

TEST_CASE("GetCACaps lists what strongSwan, certmonger and micromdm need") {
  const std::string caps = CaCapsText(CaCaps{});
  for (const char* kw : {"POSTPKIOperation\n", "Renewal\n", "SHA-1\n", "SHA-256\n", "SHA-512\n", "AES\n", "DES3\n",
                         "SCEPStandard\n"}) {
    CHECK(caps.find(kw) != std::string::npos);
  }
  CHECK(caps.find("GetNextCACert") == std::string::npos);
}
