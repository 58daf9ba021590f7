// Creating and opening the embedded CA: files, permissions, the CA certificate, and the RA an EC CA needs.
// The certificates are checked with the `openssl` CLI as well, so that not only our own code judges our output.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>

#include "ca-backend/embedded_ca.h"
#include "scep/der.h"
#include "tests/support/test_files.h"

namespace {

namespace fs = std::filesystem;
using test::FileMode;
using test::TempDir;

std::unique_ptr<ca::EmbeddedCa> InitAndOpen(const std::string& dir, ca::KeySpec key) {
  ca::CaInitOptions options;
  options.subject = "CN=Test CA,O=Example,C=NL";
  options.key = key;
  auto init = ca::EmbeddedCa::Init(dir, options);
  REQUIRE_MESSAGE(init.ok(), init.error().ToString());
  auto opened = ca::EmbeddedCa::Open(dir);
  REQUIRE_MESSAGE(opened.ok(), opened.error().ToString());
  return std::move(*opened);
}

void CheckCaCertificate(const X509* cert, bool rsa, int signature_nid) {
  CHECK(scep::NameToString(X509_get_subject_name(cert)) == "CN=Test CA,O=Example,C=NL");
  CHECK(X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0);
  CHECK(X509_get_version(cert) == X509_VERSION_3);
  CHECK(X509_check_ca(const_cast<X509*>(cert)) == 1);
  const int bc = X509_get_ext_by_NID(cert, NID_basic_constraints, -1);
  REQUIRE(bc >= 0);
  CHECK(X509_EXTENSION_get_critical(X509_get_ext(cert, bc)) == 1);
  std::uint32_t usage = KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE;
  if (rsa) usage |= KU_KEY_ENCIPHERMENT;
  CHECK(X509_get_key_usage(const_cast<X509*>(cert)) == usage);
  REQUIRE(X509_get0_subject_key_id(const_cast<X509*>(cert)) != nullptr);
  REQUIRE(X509_get0_authority_key_id(const_cast<X509*>(cert)) != nullptr);
  CHECK(ASN1_STRING_cmp(X509_get0_subject_key_id(const_cast<X509*>(cert)),
                        X509_get0_authority_key_id(const_cast<X509*>(cert))) == 0);
  CHECK(X509_get_signature_nid(cert) == signature_nid);
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  CHECK(ASN1_STRING_length(serial) == 16);
  CHECK(ASN1_STRING_type(serial) == V_ASN1_INTEGER);
  // About ten years from now (validity_days = 3650 by default).
  int days = 0;
  int seconds = 0;
  REQUIRE(ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert)) == 1);
  CHECK(days >= 3649);
  CHECK(days <= 3650);
}

TEST_CASE("Init then Open, for each kind of CA key") {
  struct Case {
    ca::KeySpec key;
    bool rsa;
    int signature_nid;
  };
  for (const Case& c : {Case{ca::KeySpec::Rsa2048, true, NID_sha256WithRSAEncryption},
                        Case{ca::KeySpec::Rsa3072, true, NID_sha256WithRSAEncryption},
                        Case{ca::KeySpec::EcP256, false, NID_ecdsa_with_SHA256},
                        Case{ca::KeySpec::EcP384, false, NID_ecdsa_with_SHA384}}) {
    CAPTURE(ca::to_string(c.key));
    TempDir tmp;
    const std::string dir = tmp.File("ca");  // does not exist yet: Init creates it
    CHECK_FALSE(ca::EmbeddedCa::Exists(dir));
    auto issuer = InitAndOpen(dir, c.key);
    CHECK(ca::EmbeddedCa::Exists(dir));
    CHECK(FileMode(dir) == 0700);
    CHECK(FileMode(dir + "/ca.key") == 0600);
    CheckCaCertificate(issuer->ca_cert(), c.rsa, c.signature_nid);
    CHECK(test::Run("openssl verify -CAfile " + dir + "/ca.pem " + dir + "/ca.pem") == 0);
    CHECK(test::Run("openssl pkey -in " + dir + "/ca.key -noout") == 0);
    CHECK(fs::exists(dir + "/ra.pem") == !c.rsa);
    // A second Open sees the same CA.
    auto again = ca::EmbeddedCa::Open(dir);
    REQUIRE(again.ok());
    CHECK(X509_cmp((*again)->ca_cert(), issuer->ca_cert()) == 0);
  }
}

TEST_CASE("an RSA CA speaks SCEP itself") {
  TempDir tmp;
  auto issuer = InitAndOpen(tmp.path(), ca::KeySpec::Rsa2048);
  const ca::ScepIdentity& id = issuer->scep_identity();
  REQUIRE(id.published.size() == 1);
  CHECK(X509_cmp(id.published[0].get(), issuer->ca_cert()) == 0);
  CHECK(X509_cmp(id.decrypt_cert.get(), issuer->ca_cert()) == 0);
  CHECK(X509_cmp(id.sign_cert.get(), issuer->ca_cert()) == 0);
  CHECK(X509_check_private_key(id.decrypt_cert.get(), id.decrypt_key.get()) == 1);
  CHECK(X509_check_private_key(id.sign_cert.get(), id.sign_key.get()) == 1);
  CHECK_FALSE(fs::exists(tmp.File("ra.key")));
}

void CheckRaCertificate(const X509* ra, const X509* ca_cert) {
  CHECK(scep::NameToString(X509_get_subject_name(ra)) == "CN=Test CA RA,O=Example,C=NL");
  CHECK(X509_NAME_cmp(X509_get_issuer_name(ra), X509_get_subject_name(ca_cert)) == 0);
  CHECK(X509_check_ca(const_cast<X509*>(ra)) == 0);
  CHECK(X509_get_key_usage(const_cast<X509*>(ra)) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  const int ku = X509_get_ext_by_NID(ra, NID_key_usage, -1);
  REQUIRE(ku >= 0);
  CHECK(X509_EXTENSION_get_critical(X509_get_ext(ra, ku)) == 1);
  scep::UniquePtr<EXTENDED_KEY_USAGE> eku(
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(ra, NID_ext_key_usage, nullptr, nullptr)));
  REQUIRE(eku);
  REQUIRE(sk_ASN1_OBJECT_num(eku.get()) == 1);
  char oid[64] = {};
  OBJ_obj2txt(oid, sizeof oid, sk_ASN1_OBJECT_value(eku.get(), 0), 1);
  CHECK(std::string(oid) == "1.3.6.1.4.1.311.20.2.1");
  CHECK(EVP_PKEY_is_a(X509_get0_pubkey(ra), "RSA"));
  CHECK(EVP_PKEY_get_bits(X509_get0_pubkey(ra)) == 2048);
  CHECK(ASN1_TIME_compare(X509_get0_notAfter(ra), X509_get0_notAfter(ca_cert)) == 0);
  CHECK(ASN1_STRING_cmp(X509_get0_authority_key_id(const_cast<X509*>(ra)),
                        X509_get0_subject_key_id(const_cast<X509*>(ca_cert))) == 0);
}

TEST_CASE("an EC CA gets an RSA RA that decrypts and signs, and GetCACert publishes both") {
  TempDir tmp;
  auto issuer = InitAndOpen(tmp.path(), ca::KeySpec::EcP256);
  CHECK(FileMode(tmp.File("ra.key")) == 0600);
  CHECK(test::Run("openssl verify -CAfile " + tmp.File("ca.pem") + " " + tmp.File("ra.pem")) == 0);
  const ca::ScepIdentity& id = issuer->scep_identity();
  REQUIRE(id.published.size() == 2);
  CHECK(X509_cmp(id.published[0].get(), issuer->ca_cert()) == 0);
  const X509* ra = id.published[1].get();
  CheckRaCertificate(ra, issuer->ca_cert());
  CHECK(X509_cmp(id.decrypt_cert.get(), ra) == 0);
  CHECK(X509_cmp(id.sign_cert.get(), ra) == 0);
  CHECK(X509_check_private_key(ra, id.decrypt_key.get()) == 1);
  CHECK(X509_check_private_key(ra, id.sign_key.get()) == 1);

  SUBCASE("Open recreates missing RA files") {
    fs::remove(tmp.File("ra.pem"));
    fs::remove(tmp.File("ra.key"));
    auto reopened = ca::EmbeddedCa::Open(tmp.path());
    REQUIRE_MESSAGE(reopened.ok(), reopened.error().ToString());
    CHECK(fs::exists(tmp.File("ra.pem")));
    CHECK(FileMode(tmp.File("ra.key")) == 0600);
    REQUIRE((*reopened)->scep_identity().published.size() == 2);
    CheckRaCertificate((*reopened)->scep_identity().published[1].get(), issuer->ca_cert());
  }
  SUBCASE("Open keeps an existing RA") {
    auto reopened = ca::EmbeddedCa::Open(tmp.path());
    REQUIRE(reopened.ok());
    CHECK(X509_cmp((*reopened)->scep_identity().published[1].get(), ra) == 0);
  }
}

TEST_CASE("Init refuses a directory that already holds a CA") {
  TempDir tmp;
  auto issuer = InitAndOpen(tmp.path(), ca::KeySpec::EcP256);
  auto again = ca::EmbeddedCa::Init(tmp.path(), ca::CaInitOptions{});
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().detail.find("already exists") != std::string::npos);
  // A lone key counts too: it may be the only copy of something.
  fs::remove(tmp.File("ca.pem"));
  CHECK_FALSE(ca::EmbeddedCa::Init(tmp.path(), ca::CaInitOptions{}).ok());
}

TEST_CASE("bad options and broken directories are errors, not crashes") {
  TempDir tmp;
  ca::CaInitOptions bad_subject;
  bad_subject.subject = "this is not a name";
  auto init = ca::EmbeddedCa::Init(tmp.path(), bad_subject);
  REQUIRE_FALSE(init.ok());
  CHECK(init.error().code == scep::ErrorCode::BadRequest);
  CHECK_FALSE(fs::exists(tmp.File("ca.key")));

  ca::CaInitOptions bad_days;
  bad_days.validity_days = 0;
  CHECK_FALSE(ca::EmbeddedCa::Init(tmp.path(), bad_days).ok());

  CHECK_FALSE(ca::EmbeddedCa::Open(tmp.path()).ok());  // empty directory

  // A key that belongs to another CA.
  TempDir a;
  TempDir b;
  InitAndOpen(a.path(), ca::KeySpec::EcP256);
  InitAndOpen(b.path(), ca::KeySpec::EcP256);
  fs::copy_file(b / "ca.key", a / "ca.key", fs::copy_options::overwrite_existing);
  auto mismatched = ca::EmbeddedCa::Open(a.path());
  REQUIRE_FALSE(mismatched.ok());
  CHECK(mismatched.error().detail.find("does not belong") != std::string::npos);

  // Garbage instead of a certificate.
  std::ofstream(b / "ca.pem") << "not a certificate\n";
  CHECK_FALSE(ca::EmbeddedCa::Open(b.path()).ok());
}

}  // namespace
