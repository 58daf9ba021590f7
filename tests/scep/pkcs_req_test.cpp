// PKCS#10 requests made by `openssl req` (tests/scep/make_openssl_fixtures.sh).
#include <doctest/doctest.h>

#include "scep/pkcs_req.h"
#include "tests/scep/fixture_keys.h"

using namespace scep;

TEST_CASE("challengePassword as PrintableString, UTF8String and BMPString") {
  struct Case { const char* file; const char* password; const char* key_type; };
  const Case cases[] = {
      {"csr-printable.der", "secret-123", "RSA"},
      {"csr-utf8.der", "s\xc3\xa9" "cret-utf8", "RSA"},
      {"csr-bmp.der", "\xce\xa9mega-\xe2\x82\xac" "uro", "EC"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.file);
    auto csr = ParsePkcsReq(test::ReadFile(test::OpensslFixtures() / c.file));
    REQUIRE_MESSAGE(csr.ok(), csr.error().ToString());
    CHECK(csr->challenge_password == std::optional<std::string>(c.password));
    CHECK(csr->key.type == c.key_type);
  }
}

TEST_CASE("subject, SANs, requested key usage and key details") {
  auto csr = ParsePkcsReq(test::ReadFile(test::OpensslFixtures() / "csr-bmp.der"));
  REQUIRE(csr.ok());
  CHECK(csr->subject == "CN=csr-bmp.example,O=Fixtures");
  CHECK(csr->sans.dns == std::vector<std::string>{"csr-bmp.example"});
  CHECK(csr->sans.ip == std::vector<std::string>{"192.0.2.7"});
  CHECK(csr->sans.email == std::vector<std::string>{"ops@example.com"});
  CHECK(csr->sans.uri == std::vector<std::string>{"https://example.com/csr-bmp"});
  CHECK(csr->key_usage == std::optional<std::uint32_t>(X509v3_KU_DIGITAL_SIGNATURE));
  CHECK(csr->key.bits == 256);
  CHECK(csr->key.curve == "prime256v1");
}

TEST_CASE("a CSR with a broken self-signature is badMessageCheck; garbage is badRequest") {
  auto bytes = test::ReadFile(test::OpensslFixtures() / "csr-printable.der");
  bytes[bytes.size() - 3] ^= 0x10;
  auto broken = ParsePkcsReq(bytes);
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().code == ErrorCode::BadMessageCheck);

  auto garbage = ParsePkcsReq(AsBytes("not a csr"));
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().code == ErrorCode::BadRequest);
}
