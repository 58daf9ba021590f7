// The RSA certificate and SignedData fast paths must give the very objects d2i_X509 and d2i_CMS_ContentInfo give,
// or nothing. Inputs: certificates and SignedData made by the openssl CLI, and pkiMessages captured from real clients.
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <openssl/err.h>

#include "scep/rsa_certificate.h"
#include "scep/rsa_signed_data.h"
#include "scep/signed_data.h"
#include "tests/scep/fixture_keys.h"

using namespace scep;

namespace {

Bytes PemToDer(const std::filesystem::path& path) {
  auto cert = test::LoadCert(path);
  REQUIRE_MESSAGE(cert, "missing fixture " << path);
  return CertToDer(cert.get()).value();
}

UniquePtr<X509> DecodeWithOpenssl(const Bytes& der) {
  const unsigned char* p = der.data();
  return UniquePtr<X509>(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

// Everything the gateway reads from a certificate is the same in both objects.
void CheckSameCertificate(X509* fast, X509* slow) {
  CHECK(X509_cmp(fast, slow) == 0);
  CHECK(X509_NAME_cmp(X509_get_subject_name(fast), X509_get_subject_name(slow)) == 0);
  CHECK(X509_NAME_cmp(X509_get_issuer_name(fast), X509_get_issuer_name(slow)) == 0);
  CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(fast), X509_get0_serialNumber(slow)) == 0);
  CHECK(ASN1_TIME_compare(X509_get0_notAfter(fast), X509_get0_notAfter(slow)) == 0);
  CHECK(X509_get_version(fast) == X509_get_version(slow));
  CHECK(X509_get_ext_count(fast) == X509_get_ext_count(slow));
  CHECK(X509_get_signature_nid(fast) == X509_get_signature_nid(slow));
  CHECK(EVP_PKEY_eq(X509_get0_pubkey(fast), X509_get0_pubkey(slow)) == 1);
  CHECK(X509_get_extension_flags(fast) == X509_get_extension_flags(slow));
  CHECK(X509_get_key_usage(fast) == X509_get_key_usage(slow));
}

std::vector<std::filesystem::path> ClientMessages() {
  const auto fixtures = test::SourceDir() / "tests/fixtures";
  std::vector<std::filesystem::path> files{fixtures / "certmonger/certmonger-pkcsreq.der",
                                           fixtures / "micromdm/micromdm-pkcsreq.der",
                                           fixtures / "strongswan/strongswan-pkcsreq.der"};
  for (const char* sscep : {"a-aes128-sha256.der", "b-3des-sha1.der", "c-aes256-sha512.der", "d-des-md5-get.der"}) {
    files.push_back(fixtures / "sscep" / sscep);
  }
  return files;
}

}  // namespace

TEST_CASE("RSA certificates made by openssl and by real CAs: the same certificate as d2i_X509") {
  const auto fixtures = test::SourceDir() / "tests/fixtures";
  const std::vector<std::filesystem::path> files{
      test::OpensslFixtures() / "signer-rsa.pem", test::OpensslFixtures() / "ca.pem",
      test::OpensslFixtures() / "other-ca.pem",   fixtures / "sscep/a-aes128-sha256.signer.pem",
      fixtures / "sscep/ca.pem",                  fixtures / "micromdm/ca.pem",
      fixtures / "strongswan/ca.pem",             fixtures / "certmonger/ca.pem"};
  for (const auto& file : files) {
    CAPTURE(file);
    const Bytes der = PemToDer(file);
    UniquePtr<X509> fast = DecodeRsaCertificate(der);
    UniquePtr<X509> slow = DecodeWithOpenssl(der);
    REQUIRE(slow);
    REQUIRE(fast);  // all RSA, all DER
    CHECK(CertToDer(fast.get()).value() == der);
    CheckSameCertificate(fast.get(), slow.get());
    // The signature still verifies over the original tbsCertificate (every fixture here is self-signed or ours).
    if (X509_NAME_cmp(X509_get_issuer_name(slow.get()), X509_get_subject_name(slow.get())) == 0) {
      CHECK(X509_verify(fast.get(), X509_get0_pubkey(slow.get())) == 1);
    }
  }
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("a certificate issued by a CA verifies against the CA through the fast path") {
  const auto dir = test::SourceDir() / "tests/fixtures/sscep";
  auto ca = test::LoadCert(dir / "ca.pem");
  REQUIRE(ca);
  // The fast copy of the CA certificate verifies under the CA key, like the d2i_X509 object.
  UniquePtr<X509> fast = DecodeRsaCertificate(CertToDer(ca.get()).value());
  REQUIRE(fast);
  CHECK(X509_verify(fast.get(), X509_get0_pubkey(ca.get())) == 1);
  // A changed signature must fail, as it would on the d2i_X509 object.
  Bytes tampered = CertToDer(ca.get()).value();
  tampered[tampered.size() - 5] ^= 0x01;
  UniquePtr<X509> broken = DecodeRsaCertificate(tampered);
  REQUIRE(broken);
  CHECK(X509_verify(broken.get(), X509_get0_pubkey(ca.get())) != 1);
  ERR_clear_error();
}

TEST_CASE("anything else is left to d2i_X509") {
  CHECK_FALSE(DecodeRsaCertificate(PemToDer(test::OpensslFixtures() / "signer-ec.pem")));
  Bytes rsa = PemToDer(test::OpensslFixtures() / "signer-rsa.pem");
  CHECK_FALSE(DecodeRsaCertificate(Bytes(rsa.begin(), rsa.end() - 1)));  // truncated
  rsa.push_back(0);
  CHECK_FALSE(DecodeRsaCertificate(rsa));  // trailing byte
  CHECK_FALSE(DecodeRsaCertificate({}));
  const Bytes indefinite{0x30, 0x80, 0x00, 0x00};  // BER
  CHECK_FALSE(DecodeRsaCertificate(indefinite));
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("SignedData made by openssl cms -sign with an RSA signer: the same structure as d2i_CMS_ContentInfo") {
  for (const char* name : {"sd-rsa-md5.der", "sd-rsa-sha1.der", "sd-rsa-sha256.der", "sd-rsa-sha512.der",
                           "sd-rsa-keyid.der", "sd-rsa-pss.der"}) {
    CAPTURE(name);
    const Bytes der = test::ReadFile(test::OpensslFixtures() / name);
    REQUIRE(!der.empty());
    UniquePtr<CMS_ContentInfo> fast = DecodeSignedDataWithRsaCerts(der);
    REQUIRE(fast);
    CHECK(CmsToDer(fast.get()).value() == der);
    auto parsed = ParseSignedData(der);  // takes the fast path
    REQUIRE(parsed);
    CHECK(VerifySignedData(*parsed).ok());
    auto signer = test::LoadCert(test::OpensslFixtures() / "signer-rsa.pem");
    REQUIRE(signer);
    CheckSameCertificate(parsed->signer_cert, signer.get());
  }
}

TEST_CASE("SignedData the fast path leaves to d2i_CMS_ContentInfo: BER, EC signers, odd input") {
  for (const char* name : {"sd-rsa-ber.der", "sd-ec.der", "sd-ec-sha384-ber-keyid.der", "env-aes-128-cbc.der"}) {
    CAPTURE(name);
    const Bytes der = test::ReadFile(test::OpensslFixtures() / name);
    REQUIRE(!der.empty());
    CHECK_FALSE(DecodeSignedDataWithRsaCerts(der));
  }
  Bytes der = test::ReadFile(test::OpensslFixtures() / "sd-rsa-sha256.der");
  CHECK_FALSE(DecodeSignedDataWithRsaCerts(Bytes(der.begin(), der.end() - 1)));
  der.push_back(0);
  CHECK_FALSE(DecodeSignedDataWithRsaCerts(der));
  CHECK_FALSE(DecodeSignedDataWithRsaCerts({}));
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("pkiMessages from real clients: the fast path's result equals d2i_CMS_ContentInfo's, and verifies") {
  int fast_count = 0;
  for (const auto& file : ClientMessages()) {
    CAPTURE(file);
    const Bytes der = test::ReadFile(file);
    REQUIRE(!der.empty());
    const unsigned char* p = der.data();
    UniquePtr<CMS_ContentInfo> slow(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    REQUIRE(slow);
    UniquePtr<CMS_ContentInfo> fast = DecodeSignedDataWithRsaCerts(der);
    if (!fast) continue;  // e.g. BER from a client: the slow path, as before
    ++fast_count;
    CHECK(CmsToDer(fast.get()).value() == CmsToDer(slow.get()).value());
    auto parsed = ParseSignedData(der);
    REQUIRE(parsed);
    CHECK(VerifySignedData(*parsed).ok());
    STACK_OF(X509)* slow_certs = CMS_get1_certs(slow.get());
    UniquePtr<STACK_OF(X509)> owned(slow_certs);
    REQUIRE(sk_X509_num(slow_certs) >= 1);
    bool found = false;
    for (int i = 0; i < sk_X509_num(slow_certs); ++i) {
      if (X509_cmp(sk_X509_value(slow_certs, i), parsed->signer_cert) == 0) {
        CheckSameCertificate(parsed->signer_cert, sk_X509_value(slow_certs, i));
        found = true;
      }
    }
    CHECK(found);
  }
  MESSAGE(fast_count << " of " << ClientMessages().size() << " client messages took the fast path");
  CHECK(fast_count > 0);
}
