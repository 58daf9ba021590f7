// EmbeddedCa::Open with each RA mode: which RA files appear, what the RA certificates say (read back from disk
// with OpenSSL), that they chain to the CA, which key decrypts and which signs, and what GetCACert publishes.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

#include "ca-backend/embedded_ca.h"
#include "scep/der.h"
#include "tests/support/test_files.h"

namespace {

namespace fs = std::filesystem;
using test::FileMode;
using test::TempDir;

constexpr const char* kCertificateRequestAgent = "1.3.6.1.4.1.311.20.2.1";

void InitCa(const std::string& dir, ca::KeySpec key) {
  ca::CaInitOptions options;
  options.subject = "CN=Test CA,O=Example,C=NL";
  options.key = key;
  auto init = ca::EmbeddedCa::Init(dir, options);
  REQUIRE_MESSAGE(init.ok(), init.error().ToString());
}

std::unique_ptr<ca::EmbeddedCa> OpenWith(const std::string& dir, ca::RaMode mode, std::string subject = "") {
  auto opened = ca::EmbeddedCa::Open(dir, ca::RaOptions{mode, std::move(subject)});
  REQUIRE_MESSAGE(opened.ok(), opened.error().ToString());
  return std::move(*opened);
}

// The certificate as another program would see it: parsed afresh from the PEM file.
scep::UniquePtr<X509> ReadCert(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string pem{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  auto cert = scep::CertFromPem(pem);
  REQUIRE_MESSAGE(cert.ok(), path);
  return std::move(*cert);
}

// Chain check with OpenSSL's own verifier, the CA as the only trust anchor.
bool ChainsTo(X509* leaf, X509* ca_cert) {
  scep::UniquePtr<X509_STORE> store(X509_STORE_new());
  scep::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  REQUIRE((store && ctx));
  REQUIRE(X509_STORE_add_cert(store.get(), ca_cert) == 1);
  REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr) == 1);
  const bool ok = X509_verify_cert(ctx.get()) == 1;
  if (!ok) MESSAGE(X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  return ok;
}

std::vector<std::string> EkuOids(X509* cert) {
  scep::UniquePtr<EXTENDED_KEY_USAGE> eku(
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr)));
  std::vector<std::string> oids;
  for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    char oid[64] = {};
    OBJ_obj2txt(oid, sizeof oid, sk_ASN1_OBJECT_value(eku.get(), i), 1);
    oids.emplace_back(oid);
  }
  return oids;
}

// Reads `file` back from `dir` and checks everything an RA certificate must be; returns it.
scep::UniquePtr<X509> CheckRaFile(const std::string& dir, const char* file, std::uint32_t usage,
                                  const std::string& subject) {
  CAPTURE(file);
  auto ca_cert = ReadCert(dir + "/ca.pem");
  auto ra = ReadCert(dir + "/" + file);
  CHECK(scep::NameToString(X509_get_subject_name(ra.get())) == subject);
  CHECK(X509_NAME_cmp(X509_get_issuer_name(ra.get()), X509_get_subject_name(ca_cert.get())) == 0);
  CHECK(X509_check_ca(ra.get()) == 0);
  const int bc = X509_get_ext_by_NID(ra.get(), NID_basic_constraints, -1);
  REQUIRE(bc >= 0);  // CA:FALSE written out, not just absent
  scep::UniquePtr<BASIC_CONSTRAINTS> constraints(
      static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(ra.get(), NID_basic_constraints, nullptr, nullptr)));
  REQUIRE(constraints);
  CHECK(constraints->ca == 0);
  CHECK(X509_get_key_usage(ra.get()) == usage);
  CHECK(X509_EXTENSION_get_critical(X509_get_ext(ra.get(), X509_get_ext_by_NID(ra.get(), NID_key_usage, -1))) == 1);
  CHECK(EkuOids(ra.get()) == std::vector<std::string>{kCertificateRequestAgent});
  CHECK(EVP_PKEY_is_a(X509_get0_pubkey(ra.get()), "RSA"));
  CHECK(EVP_PKEY_get_bits(X509_get0_pubkey(ra.get())) == 2048);
  REQUIRE(X509_get0_subject_key_id(ra.get()) != nullptr);
  REQUIRE(X509_get0_authority_key_id(ra.get()) != nullptr);
  CHECK(ASN1_STRING_cmp(X509_get0_authority_key_id(ra.get()), X509_get0_subject_key_id(ca_cert.get())) == 0);
  CHECK(ASN1_TIME_compare(X509_get0_notAfter(ra.get()), X509_get0_notAfter(ca_cert.get())) == 0);
  CHECK(X509_verify(ra.get(), X509_get0_pubkey(ca_cert.get())) == 1);
  CHECK(ChainsTo(ra.get(), ca_cert.get()));
  return ra;
}

void CheckKeyFile(const std::string& path, const X509* cert) {
  CHECK(FileMode(path) == 0600);
  std::ifstream in(path, std::ios::binary);
  const std::string pem{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  auto key = scep::KeyFromPem(pem);
  REQUIRE(key.ok());
  CHECK(X509_check_private_key(cert, key->get()) == 1);
}

bool Same(const X509* a, const X509* b) { return X509_cmp(a, b) == 0; }

TEST_CASE("CA-only: RSA CA in Auto and None mode speaks SCEP itself and writes no RA") {
  TempDir tmp;
  InitCa(tmp.path(), ca::KeySpec::Rsa2048);
  for (ca::RaMode mode : {ca::RaMode::Auto, ca::RaMode::None}) {
    auto issuer = OpenWith(tmp.path(), mode);
    const ca::ScepIdentity& id = issuer->scep_identity();
    REQUIRE(id.published.size() == 1);
    CHECK(Same(id.published[0].get(), issuer->ca_cert()));
    CHECK(Same(id.decrypt_cert.get(), issuer->ca_cert()));
    CHECK(Same(id.sign_cert.get(), issuer->ca_cert()));
    CHECK(X509_check_private_key(issuer->ca_cert(), id.decrypt_key.get()) == 1);
    CHECK(X509_check_private_key(issuer->ca_cert(), id.sign_key.get()) == 1);
  }
  for (const char* file : {"ra.pem", "ra.key", "ra-sign.pem", "ra-sign.key", "ra-enc.pem", "ra-enc.key"}) {
    CHECK_FALSE(fs::exists(tmp / file));
  }
}

TEST_CASE("Single mode gives an RSA CA one RA that decrypts and signs") {
  TempDir tmp;
  InitCa(tmp.path(), ca::KeySpec::Rsa2048);
  auto issuer = OpenWith(tmp.path(), ca::RaMode::Single);
  auto ra =
      CheckRaFile(tmp.path(), "ra.pem", KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT, "CN=Test CA RA,O=Example,C=NL");
  CheckKeyFile(tmp.File("ra.key"), ra.get());
  const ca::ScepIdentity& id = issuer->scep_identity();
  REQUIRE(id.published.size() == 2);
  CHECK(Same(id.published[0].get(), issuer->ca_cert()));
  CHECK(Same(id.published[1].get(), ra.get()));
  CHECK(Same(id.decrypt_cert.get(), ra.get()));
  CHECK(Same(id.sign_cert.get(), ra.get()));
  CHECK(X509_check_private_key(ra.get(), id.decrypt_key.get()) == 1);
  CHECK(X509_check_private_key(ra.get(), id.sign_key.get()) == 1);

  // A later Open reuses the files instead of issuing a new RA.
  auto again = OpenWith(tmp.path(), ca::RaMode::Single);
  CHECK(Same(again->scep_identity().decrypt_cert.get(), ra.get()));
}

TEST_CASE("Split mode: a signing-only and an encryption-only RA, as NDES has") {
  for (ca::KeySpec key : {ca::KeySpec::Rsa2048, ca::KeySpec::EcP256}) {
    CAPTURE(ca::to_string(key));
    TempDir tmp;
    InitCa(tmp.path(), key);
    auto issuer = OpenWith(tmp.path(), ca::RaMode::Split);
    auto sign = CheckRaFile(tmp.path(), "ra-sign.pem", KU_DIGITAL_SIGNATURE, "CN=Test CA RA Signing,O=Example,C=NL");
    auto enc = CheckRaFile(tmp.path(), "ra-enc.pem", KU_KEY_ENCIPHERMENT, "CN=Test CA RA Encryption,O=Example,C=NL");
    CheckKeyFile(tmp.File("ra-sign.key"), sign.get());
    CheckKeyFile(tmp.File("ra-enc.key"), enc.get());
    CHECK_FALSE(EVP_PKEY_eq(X509_get0_pubkey(sign.get()), X509_get0_pubkey(enc.get())) == 1);

    const ca::ScepIdentity& id = issuer->scep_identity();
    REQUIRE(id.published.size() == 3);
    CHECK(Same(id.published[0].get(), issuer->ca_cert()));
    CHECK(Same(id.published[1].get(), enc.get()));  // the first non-CA certificate is the one to encrypt to
    CHECK(Same(id.published[2].get(), sign.get()));
    CHECK(Same(id.decrypt_cert.get(), enc.get()));
    CHECK(Same(id.sign_cert.get(), sign.get()));
    CHECK(X509_check_private_key(enc.get(), id.decrypt_key.get()) == 1);
    CHECK(X509_check_private_key(sign.get(), id.sign_key.get()) == 1);

    auto again = OpenWith(tmp.path(), ca::RaMode::Split);
    CHECK(Same(again->scep_identity().decrypt_cert.get(), enc.get()));
    CHECK(Same(again->scep_identity().sign_cert.get(), sign.get()));
  }
}

TEST_CASE("an EC CA: Auto means one RA, None is refused") {
  TempDir tmp;
  InitCa(tmp.path(), ca::KeySpec::EcP256);
  auto refused = ca::EmbeddedCa::Open(tmp.path(), ca::RaOptions{ca::RaMode::None, ""});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == scep::ErrorCode::Internal);
  CHECK(refused.error().detail.find("none") != std::string::npos);
  CHECK(refused.error().detail.find("cannot") != std::string::npos);

  auto issuer = OpenWith(tmp.path(), ca::RaMode::Auto);
  auto ra =
      CheckRaFile(tmp.path(), "ra.pem", KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT, "CN=Test CA RA,O=Example,C=NL");
  REQUIRE(issuer->scep_identity().published.size() == 2);
  CHECK(Same(issuer->scep_identity().decrypt_cert.get(), ra.get()));
  CHECK(Same(issuer->scep_identity().sign_cert.get(), ra.get()));
  // Auto and Single are the same RA for an EC CA.
  CHECK(Same(OpenWith(tmp.path(), ca::RaMode::Single)->scep_identity().sign_cert.get(), ra.get()));
}

TEST_CASE("endpoints sharing one CA directory with different modes") {
  TempDir tmp;
  InitCa(tmp.path(), ca::KeySpec::Rsa2048);
  auto split = OpenWith(tmp.path(), ca::RaMode::Split);
  auto single = OpenWith(tmp.path(), ca::RaMode::Single);
  auto none = OpenWith(tmp.path(), ca::RaMode::None);
  CHECK(split->scep_identity().published.size() == 3);
  CHECK(single->scep_identity().published.size() == 2);
  CHECK(none->scep_identity().published.size() == 1);
  CHECK_FALSE(Same(single->scep_identity().decrypt_cert.get(), split->scep_identity().decrypt_cert.get()));
  CHECK(Same(split->ca_cert(), single->ca_cert()));

  SUBCASE("opened concurrently on a directory without RA files, the files still end up matching") {
    TempDir fresh;
    InitCa(fresh.path(), ca::KeySpec::Rsa2048);
    std::vector<bool> ok(4);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < ok.size(); ++i) {
      threads.emplace_back([&, i] { ok[i] = ca::EmbeddedCa::Open(fresh.path(), {ca::RaMode::Split, ""}).ok(); });
    }
    for (auto& t : threads) t.join();
    for (bool b : ok) CHECK(b);
    auto after = OpenWith(fresh.path(), ca::RaMode::Split);  // would fail if a key and certificate were mixed up
    CheckKeyFile(fresh.File("ra-enc.key"), after->scep_identity().decrypt_cert.get());
  }
}

TEST_CASE("RaOptions::subject names the RA certificates") {
  TempDir tmp;
  InitCa(tmp.path(), ca::KeySpec::Rsa2048);
  OpenWith(tmp.path(), ca::RaMode::Split, "CN=NDES RA,OU=Devices,O=Example");
  CheckRaFile(tmp.path(), "ra-sign.pem", KU_DIGITAL_SIGNATURE, "CN=NDES RA,OU=Devices,O=Example");
  CheckRaFile(tmp.path(), "ra-enc.pem", KU_KEY_ENCIPHERMENT, "CN=NDES RA,OU=Devices,O=Example");
  OpenWith(tmp.path(), ca::RaMode::Single, "CN=Single RA");
  CheckRaFile(tmp.path(), "ra.pem", KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT, "CN=Single RA");

  auto bad = ca::EmbeddedCa::Open(tmp.path(), ca::RaOptions{ca::RaMode::Single, "not a name"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == scep::ErrorCode::BadRequest);
  CHECK(bad.error().detail.find("RA subject") != std::string::npos);
}

TEST_CASE("missing RA files are issued again; foreign or miscast ones are errors") {
  TempDir tmp;
  InitCa(tmp.path(), ca::KeySpec::Rsa2048);
  auto first = OpenWith(tmp.path(), ca::RaMode::Split);
  auto old_sign = ReadCert(tmp.File("ra-sign.pem"));
  auto old_enc = ReadCert(tmp.File("ra-enc.pem"));

  SUBCASE("a lone key (a crash between the two writes) is replaced by a new pair") {
    fs::remove(tmp.File("ra-enc.pem"));
    auto reopened = OpenWith(tmp.path(), ca::RaMode::Split);
    auto enc = CheckRaFile(tmp.path(), "ra-enc.pem", KU_KEY_ENCIPHERMENT, "CN=Test CA RA Encryption,O=Example,C=NL");
    CheckKeyFile(tmp.File("ra-enc.key"), enc.get());
    CHECK_FALSE(Same(enc.get(), old_enc.get()));
    CHECK(Same(reopened->scep_identity().sign_cert.get(), old_sign.get()));  // untouched
  }
  SUBCASE("an RA issued by another CA") {
    TempDir other;
    InitCa(other.path(), ca::KeySpec::Rsa2048);
    OpenWith(other.path(), ca::RaMode::Split);
    fs::copy_file(other / "ra-sign.pem", tmp.File("ra-sign.pem"), fs::copy_options::overwrite_existing);
    fs::copy_file(other / "ra-sign.key", tmp.File("ra-sign.key"), fs::copy_options::overwrite_existing);
    auto refused = ca::EmbeddedCa::Open(tmp.path(), {ca::RaMode::Split, ""});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == scep::ErrorCode::Internal);
    CHECK(refused.error().detail.find("not issued by the CA") != std::string::npos);
    // Other modes of the same directory do not look at the split files.
    CHECK(ca::EmbeddedCa::Open(tmp.path(), {ca::RaMode::Single, ""}).ok());
  }
  SUBCASE("a signing-only RA put where the encryption RA belongs") {
    fs::copy_file(tmp.File("ra-sign.pem"), tmp.File("ra-enc.pem"), fs::copy_options::overwrite_existing);
    fs::copy_file(tmp.File("ra-sign.key"), tmp.File("ra-enc.key"), fs::copy_options::overwrite_existing);
    auto refused = ca::EmbeddedCa::Open(tmp.path(), {ca::RaMode::Split, ""});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().detail.find("key usage") != std::string::npos);
  }
  SUBCASE("a key that does not belong to its RA certificate") {
    fs::copy_file(tmp.File("ra-sign.key"), tmp.File("ra-enc.key"), fs::copy_options::overwrite_existing);
    auto refused = ca::EmbeddedCa::Open(tmp.path(), {ca::RaMode::Split, ""});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().detail.find("does not belong") != std::string::npos);
  }
}

}  // namespace
