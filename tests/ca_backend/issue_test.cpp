// EmbeddedCa::Issue and MakeCrl against requests made by the `openssl` CLI, with the results judged by the same
// CLI (`openssl verify`, `openssl crl`), so our code is not the only one checking our code.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ca-backend/embedded_ca.h"
#include "scep/der.h"
#include "tests/support/test_files.h"

namespace {

namespace fs = std::filesystem;
using test::RunForOutput;
using test::TempDir;

// A key and CSR made by the openssl CLI, with a subjectAltName in the extension request.
scep::UniquePtr<X509_REQ> MakeCsr(const TempDir& tmp, const std::string& newkey) {
  const std::string der_path = tmp.File("req.der");
  const auto [rc, out] = RunForOutput("openssl req -new -newkey " + newkey + " -nodes -keyout " + tmp.File("req.key") +
                                      " -subj '/C=NL/O=Example/CN=device1' -addext"
                                      " 'subjectAltName=DNS:device1.example.com,IP:10.0.0.1,email:ops@example.com'"
                                      " -outform DER -out " + der_path);
  REQUIRE_MESSAGE(rc == 0, out);
  const std::string der = test::ReadText(der_path);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  scep::UniquePtr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  REQUIRE(req);
  return req;
}

std::unique_ptr<ca::EmbeddedCa> MakeCa(const TempDir& tmp, ca::KeySpec key, int days = 3650) {
  ca::CaInitOptions options;
  options.subject = "CN=Issuing CA,O=Example,C=NL";
  options.key = key;
  options.validity_days = days;
  auto init = ca::EmbeddedCa::Init(tmp.path(), options);
  REQUIRE_MESSAGE(init.ok(), init.error().ToString());
  auto opened = ca::EmbeddedCa::Open(tmp.path());
  REQUIRE_MESSAGE(opened.ok(), opened.error().ToString());
  return std::move(*opened);
}

std::string Verify(const TempDir& tmp, const X509* cert, const std::string& extra = "") {
  auto pem = scep::CertToPem(cert);
  REQUIRE(pem.ok());
  test::WriteText(tmp.File("cert.pem"), *pem);
  const auto [rc, out] =
      RunForOutput("openssl verify " + extra + " -CAfile " + tmp.File("ca.pem") + " " + tmp.File("cert.pem"));
  CHECK_MESSAGE(rc == 0, out);
  return out;
}

// Seconds from now until `t`.
long SecondsLeft(const ASN1_TIME* t) {
  int days = 0;
  int seconds = 0;
  REQUIRE(ASN1_TIME_diff(&days, &seconds, nullptr, t) == 1);
  return days * 86400L + seconds;
}

// `t` is `seconds` from now, give or take the time the test has been running.
bool AboutFromNow(const ASN1_TIME* t, long seconds) {
  const long left = SecondsLeft(t);
  return left <= seconds && left > seconds - 120;
}

TEST_CASE("Issue copies subject, key and SANs from the CSR and the rest from the template") {
  TempDir tmp;
  auto issuer = MakeCa(tmp, ca::KeySpec::Rsa2048);
  auto csr = MakeCsr(tmp, "rsa:2048");
  ca::CertTemplate tmpl;
  tmpl.extended_key_usage = {"clientAuth", "serverAuth"};
  tmpl.crl_distribution_points = {"http://pki.example.com/ca.crl"};
  tmpl.ca_issuers_urls = {"http://pki.example.com/ca.crt"};
  auto cert = issuer->Issue(csr.get(), tmpl);
  REQUIRE_MESSAGE(cert.ok(), cert.error().ToString());
  X509* x = cert->get();

  Verify(tmp, x, "-purpose sslclient");
  Verify(tmp, x, "-purpose sslserver");
  const auto [rc, text] = RunForOutput("openssl x509 -noout -text -in " + tmp.File("cert.pem"));
  REQUIRE(rc == 0);
  CHECK(text.find("DNS:device1.example.com, IP Address:10.0.0.1, email:ops@example.com") != std::string::npos);
  CHECK(text.find("URI:http://pki.example.com/ca.crl") != std::string::npos);
  CHECK(text.find("CA Issuers - URI:http://pki.example.com/ca.crt") != std::string::npos);
  CHECK(text.find("sha256WithRSAEncryption") != std::string::npos);

  CHECK(X509_NAME_cmp(X509_get_subject_name(x), X509_REQ_get_subject_name(csr.get())) == 0);
  CHECK(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(issuer->ca_cert())) == 0);
  // The key is copied as encoded; a re-parsed certificate decodes it to the request's key.
  auto der = scep::CertToDer(x);
  REQUIRE(der.ok());
  auto reparsed = scep::CertFromDer(*der);
  REQUIRE(reparsed.ok());
  CHECK(EVP_PKEY_eq(X509_get0_pubkey(reparsed->get()), X509_REQ_get0_pubkey(csr.get())) == 1);
  CHECK(X509_check_ca(x) == 0);
  const int bc = X509_get_ext_by_NID(x, NID_basic_constraints, -1);
  REQUIRE(bc >= 0);
  CHECK(X509_EXTENSION_get_critical(X509_get_ext(x, bc)) == 1);
  CHECK(X509_get_key_usage(x) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  CHECK(X509_EXTENSION_get_critical(X509_get_ext(x, X509_get_ext_by_NID(x, NID_key_usage, -1))) == 1);
  CHECK(X509_get_extended_key_usage(x) == (XKU_SSL_CLIENT | XKU_SSL_SERVER));
  CHECK(ASN1_STRING_cmp(X509_get0_authority_key_id(x),
                        X509_get0_subject_key_id(const_cast<X509*>(issuer->ca_cert()))) == 0);
  REQUIRE(X509_get0_subject_key_id(x) != nullptr);
  CHECK(ASN1_STRING_length(X509_get0_serialNumber(x)) == 16);
  CHECK(ASN1_STRING_type(X509_get0_serialNumber(x)) == V_ASN1_INTEGER);  // V_ASN1_NEG_INTEGER if negative
  CHECK(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
  CHECK(AboutFromNow(X509_get0_notAfter(x), 365 * 86400L));
}

TEST_CASE("serials are distinct, including under concurrent Issue calls") {
  TempDir tmp;
  auto issuer = MakeCa(tmp, ca::KeySpec::Rsa2048);
  auto csr = MakeCsr(tmp, "ec -pkeyopt ec_paramgen_curve:P-256");
  const ca::CertTemplate tmpl;
  std::vector<std::vector<std::string>> serials(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < serials.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto cert = issuer->Issue(csr.get(), tmpl);
        if (!cert.ok()) return;  // counted below: doctest assertions are not thread-safe
        if (X509_verify(cert->get(), X509_get0_pubkey(issuer->ca_cert())) != 1) return;
        serials[t].push_back(scep::SerialHex(cert->get()));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> distinct;
  for (const auto& list : serials) {
    CHECK(list.size() == 25);
    distinct.insert(list.begin(), list.end());
  }
  CHECK(distinct.size() == 100);
}

TEST_CASE("validity never extends past the CA's") {
  TempDir tmp;
  auto issuer = MakeCa(tmp, ca::KeySpec::EcP256, 30);
  auto csr = MakeCsr(tmp, "rsa:2048");
  auto cert = issuer->Issue(csr.get(), ca::CertTemplate{});
  REQUIRE(cert.ok());
  CHECK(ASN1_TIME_compare(X509_get0_notAfter(cert->get()), X509_get0_notAfter(issuer->ca_cert())) == 0);
  Verify(tmp, cert->get());

  ca::CertTemplate short_lived;
  short_lived.validity_days = 7;
  auto week = issuer->Issue(csr.get(), short_lived);
  REQUIRE(week.ok());
  CHECK(AboutFromNow(X509_get0_notAfter(week->get()), 7 * 86400L));
}

TEST_CASE("EC CAs sign with the digest that matches their curve") {
  for (const auto& [key, name] : {std::pair{ca::KeySpec::EcP256, "ecdsa-with-SHA256"},
                                  std::pair{ca::KeySpec::EcP384, "ecdsa-with-SHA384"}}) {
    CAPTURE(name);
    TempDir tmp;
    auto issuer = MakeCa(tmp, key);
    auto csr = MakeCsr(tmp, "rsa:2048");
    auto cert = issuer->Issue(csr.get(), ca::CertTemplate{});
    REQUIRE(cert.ok());
    Verify(tmp, cert->get(), "-purpose sslclient");
    CHECK(std::string(OBJ_nid2ln(X509_get_signature_nid(cert->get()))) == name);
  }
}

TEST_CASE("a template naming an unknown usage is a BadRequest") {
  TempDir tmp;
  auto issuer = MakeCa(tmp, ca::KeySpec::EcP256);
  auto csr = MakeCsr(tmp, "rsa:2048");
  ca::CertTemplate bad_eku;
  bad_eku.extended_key_usage = {"clientAuth", "teleportation"};
  auto cert = issuer->Issue(csr.get(), bad_eku);
  REQUIRE_FALSE(cert.ok());
  CHECK(cert.error().code == scep::ErrorCode::BadRequest);
  CHECK(cert.error().detail.find("teleportation") != std::string::npos);

  ca::CertTemplate bad_ku;
  bad_ku.key_usage = {"digitalSignature", "keyCertSigning"};
  auto cert2 = issuer->Issue(csr.get(), bad_ku);
  REQUIRE_FALSE(cert2.ok());
  CHECK(cert2.error().code == scep::ErrorCode::BadRequest);

  ca::CertTemplate oid_eku;  // dotted OIDs are fine, known or not
  oid_eku.extended_key_usage = {"1.3.6.1.5.5.7.3.17", "1.2.3.4.5"};
  oid_eku.key_usage = {};
  auto cert3 = issuer->Issue(csr.get(), oid_eku);
  REQUIRE_MESSAGE(cert3.ok(), cert3.error().ToString());
  CHECK(X509_get_ext_by_NID(cert3->get(), NID_key_usage, -1) < 0);

  ca::CertTemplate bad_url;
  bad_url.crl_distribution_points = {"http://a.example/x,y.crl"};
  CHECK_FALSE(issuer->Issue(csr.get(), bad_url).ok());
  CHECK_FALSE(issuer->Issue(nullptr, ca::CertTemplate{}).ok());
}

TEST_CASE("MakeCrl lists revoked serials with their reasons and verifies against the CA") {
  TempDir tmp;
  auto issuer = MakeCa(tmp, ca::KeySpec::Rsa2048);
  auto csr = MakeCsr(tmp, "rsa:2048");
  auto a = issuer->Issue(csr.get(), ca::CertTemplate{});
  auto b = issuer->Issue(csr.get(), ca::CertTemplate{});
  REQUIRE((a.ok() && b.ok()));
  const std::vector<ca::RevokedCert> revoked{{scep::SerialHex(a->get()), 1700000000, 1},  // keyCompromise
                                             {scep::SerialHex(b->get()), 1700000100, 4}};  // superseded
  auto crl = issuer->MakeCrl(revoked, std::chrono::hours(24));
  REQUIRE_MESSAGE(crl.ok(), crl.error().ToString());
  auto der = scep::CrlToDer(crl->get());
  REQUIRE(der.ok());
  test::WriteText(tmp.File("crl.der"), scep::AsString(*der));

  const auto [rc, out] =
      RunForOutput("openssl crl -inform DER -in " + tmp.File("crl.der") + " -CAfile " + tmp.File("ca.pem") + " -noout");
  CHECK_MESSAGE(rc == 0, out);
  CHECK(out.find("verify OK") != std::string::npos);
  const auto [rc2, text] = RunForOutput("openssl crl -inform DER -in " + tmp.File("crl.der") + " -noout -text");
  REQUIRE(rc2 == 0);
  CHECK(text.find("Version 2") != std::string::npos);
  CHECK(text.find("Serial Number: " + scep::SerialHex(a->get())) != std::string::npos);
  CHECK(text.find("Serial Number: " + scep::SerialHex(b->get())) != std::string::npos);
  CHECK(text.find("Key Compromise") != std::string::npos);
  CHECK(text.find("Superseded") != std::string::npos);
  CHECK(text.find("X509v3 CRL Number") != std::string::npos);
  CHECK(text.find("X509v3 Authority Key Identifier") != std::string::npos);
  CHECK(text.find("Nov 14 22:13:20 2023 GMT") != std::string::npos);  // 1700000000
  CHECK(AboutFromNow(X509_CRL_get0_nextUpdate(crl->get()), 86400L));
  CHECK(AboutFromNow(X509_CRL_get0_lastUpdate(crl->get()), 0));

  // A revoked certificate now fails `openssl verify -crl_check`.
  auto pem = scep::CertToPem(a->get());
  REQUIRE(pem.ok());
  test::WriteText(tmp.File("revoked.pem"), *pem);
  REQUIRE(test::Run("openssl crl -inform DER -in " + tmp.File("crl.der") + " -out " + tmp.File("crl.pem")) == 0);
  const auto [rc3, out3] = RunForOutput("openssl verify -crl_check -CAfile " + tmp.File("ca.pem") + " -CRLfile " +
                                        tmp.File("crl.pem") + " " + tmp.File("revoked.pem"));
  CHECK(rc3 != 0);
  CHECK_MESSAGE(out3.find("certificate revoked") != std::string::npos, out3);
}

TEST_CASE("an empty CRL, and bad entries") {
  TempDir tmp;
  auto issuer = MakeCa(tmp, ca::KeySpec::EcP256);
  auto empty = issuer->MakeCrl({}, std::chrono::hours(1));
  REQUIRE(empty.ok());
  const STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(empty->get());
  CHECK((entries == nullptr || sk_X509_REVOKED_num(entries) == 0));
  CHECK(X509_CRL_verify(empty->get(), X509_get0_pubkey(issuer->ca_cert())) == 1);

  const std::vector<ca::RevokedCert> not_hex{{"XYZ", 0, 0}};
  auto r1 = issuer->MakeCrl(not_hex, std::chrono::hours(1));
  REQUIRE_FALSE(r1.ok());
  CHECK(r1.error().code == scep::ErrorCode::BadRequest);
  const std::vector<ca::RevokedCert> reason7{{"01", 0, 7}};
  CHECK_FALSE(issuer->MakeCrl(reason7, std::chrono::hours(1)).ok());
  CHECK_FALSE(issuer->MakeCrl({}, std::chrono::seconds(0)).ok());
}

std::string OpensslText(const TempDir& tmp, const X509* cert) {
  auto pem = scep::CertToPem(cert);
  REQUIRE(pem.ok());
  test::WriteText(tmp.File("shown.pem"), *pem);
  const auto [rc, text] = RunForOutput("openssl x509 -noout -text -in " + tmp.File("shown.pem"));
  REQUIRE(rc == 0);
  return text;
}

int EntryType(const X509_NAME* name, int nid) {
  const int at = X509_NAME_get_index_by_NID(name, nid, -1);
  REQUIRE(at >= 0);
  return ASN1_STRING_type(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at)));
}

TEST_CASE("force_subject rewrites the CSR's subject") {
  TempDir tmp;
  auto issuer = MakeCa(tmp, ca::KeySpec::Rsa2048);
  auto csr = MakeCsr(tmp, "rsa:2048");  // C=NL, O=Example, CN=device1
  ca::CertTemplate tmpl;
  tmpl.force_subject = {{"O", "Forced Org"}, {"OU", "Devices"}, {"C", "DE"}};
  auto cert = issuer->Issue(csr.get(), tmpl);
  REQUIRE_MESSAGE(cert.ok(), cert.error().ToString());
  const X509_NAME* subject = X509_get_subject_name(cert->get());
  // O and C replaced in place, OU (absent from the CSR) appended.
  CHECK(scep::NameToString(subject) == "OU=Devices,CN=device1,O=Forced Org,C=DE");
  CHECK(EntryType(subject, NID_organizationName) == V_ASN1_UTF8STRING);
  CHECK(EntryType(subject, NID_countryName) == V_ASN1_PRINTABLESTRING);
  Verify(tmp, cert->get());
  // The CSR's SANs are still copied when subject_alt_names is not set.
  CHECK(OpensslText(tmp, cert->get()).find("DNS:device1.example.com") != std::string::npos);

  ca::CertTemplate bad;
  bad.force_subject = {{"favouriteColour", "blue"}};
  auto refused = issuer->Issue(csr.get(), bad);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == scep::ErrorCode::BadRequest);
  bad.force_subject = {{"C", "Netherlands"}};
  CHECK(issuer->Issue(csr.get(), bad).error().code == scep::ErrorCode::BadRequest);
}

TEST_CASE("subject_alt_names replaces the CSR's subjectAltName") {
  TempDir tmp;
  auto issuer = MakeCa(tmp, ca::KeySpec::EcP256);
  auto csr = MakeCsr(tmp, "rsa:2048");
  ca::CertTemplate tmpl;
  tmpl.subject_alt_names = std::vector<std::string>{"DNS:a.example.com", "IP:10.0.0.2", "IP:2001:db8::1",
                                                    "email:ops@example.org", "URI:https://x.example/p?q=1",
                                                    "dns:lower.example"};
  auto cert = issuer->Issue(csr.get(), tmpl);
  REQUIRE_MESSAGE(cert.ok(), cert.error().ToString());
  Verify(tmp, cert->get());
  const std::string text = OpensslText(tmp, cert->get());
  CHECK_MESSAGE(text.find("DNS:a.example.com, IP Address:10.0.0.2, IP Address:2001:DB8:0:0:0:0:0:1, "
                          "email:ops@example.org, URI:https://x.example/p?q=1, DNS:lower.example") !=
                    std::string::npos,
                text);
  CHECK(text.find("device1.example.com") == std::string::npos);
  const int san = X509_get_ext_by_NID(cert->get(), NID_subject_alt_name, -1);
  REQUIRE(san >= 0);
  CHECK(X509_EXTENSION_get_critical(X509_get_ext(cert->get(), san)) == 0);

  SUBCASE("an empty list issues none") {
    tmpl.subject_alt_names = std::vector<std::string>{};
    auto bare = issuer->Issue(csr.get(), tmpl);
    REQUIRE(bare.ok());
    CHECK(X509_get_ext_by_NID(bare->get(), NID_subject_alt_name, -1) < 0);
  }
  SUBCASE("with an empty subject the extension is critical") {
    scep::UniquePtr<X509_REQ> anonymous(X509_REQ_dup(csr.get()));
    scep::UniquePtr<X509_NAME> empty(X509_NAME_new());
    REQUIRE(X509_REQ_set_subject_name(anonymous.get(), empty.get()) == 1);
    tmpl.subject_alt_names = std::vector<std::string>{"DNS:only.example"};
    auto only_san = issuer->Issue(anonymous.get(), tmpl);
    REQUIRE(only_san.ok());
    CHECK(X509_NAME_entry_count(X509_get_subject_name(only_san->get())) == 0);
    const int at = X509_get_ext_by_NID(only_san->get(), NID_subject_alt_name, -1);
    REQUIRE(at >= 0);
    CHECK(X509_EXTENSION_get_critical(X509_get_ext(only_san->get(), at)) == 1);
  }
  SUBCASE("malformed entries are BadRequest") {
    for (const char* bad : {"DNS:", "DNS:a b.example", "IP:10.0.0", "IP:10.0.0.1 x", "IP:1.2.3.4.5", "IP:1.2.3.4.",
                            "IP:300.1.1.1", "IP:::g", "IP:", "email:nobody", "email:@example.com", "URI:no-scheme",
                            "URI:https://a b", "UPN:a@b", "a.example.com", ""}) {
      CAPTURE(bad);
      tmpl.subject_alt_names = std::vector<std::string>{"DNS:fine.example", bad};
      auto refused = issuer->Issue(csr.get(), tmpl);
      REQUIRE_FALSE(refused.ok());
      CHECK(refused.error().code == scep::ErrorCode::BadRequest);
    }
  }
}

}  // namespace
