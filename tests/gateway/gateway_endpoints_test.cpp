// Several SCEP endpoints in one gateway, end to end: own paths, own CA, own challenge mode, GetCACert&message
// selecting the endpoint, and per-CA CRLs.
#include <doctest/doctest.h>

#include <string>

#include "tests/support/gateway_process.h"
#include "tests/support/issued_cert_checks.h"
#include "tests/support/scep_test_client.h"

using scep::FailInfo;

namespace {

const std::string kTwoEndpoints = R"(
endpoints:
  - name: alpha
    path: /alpha
    challenge: {mode: static, secret: "alpha-secret"}
    ra: {mode: none}
  - name: beta
    path: /beta
    challenge: {mode: none}
    ra: {mode: single}
    ca: {subject: "CN=Beta CA,O=Integration Tests", key: "rsa:2048"}
)";

}  // namespace

TEST_CASE("an endpoint with its own CA starts on a fresh data dir") {
  std::unique_ptr<test::GatewayProcess> gw;
  try {
    gw = std::make_unique<test::GatewayProcess>(test::GatewayOptions{.challenge = "", .config_yaml = kTwoEndpoints});
  } catch (const std::exception& e) {
    FAIL_CHECK(std::string(e.what()));
    return;
  }
  CHECK(std::filesystem::exists(gw->data_dir() / "endpoints/beta/ca.pem"));
}

TEST_CASE("several endpoints: own paths, own CA, own challenge mode; GetCACert&message selects") {
  test::TempDir dir;
  // Made here so that this case tests the endpoints even while the case above fails (serve does not create
  // <data_dir>/endpoints itself yet).
  std::filesystem::create_directories(dir / "data/endpoints");
  test::GatewayProcess gw({.challenge = "",
                           .ca_subject = "CN=Alpha CA,O=Integration Tests",
                           .config_yaml = kTwoEndpoints,
                           .data_dir = dir / "data"});
  gateway::HttpClient http("127.0.0.1", gw.port());

  auto ca_of = [&](const std::string& target, std::string* content_type) -> std::string {
    auto resp = http.Get(target);
    if (!resp || resp->status != 200) return "error";
    *content_type = resp->content_type;
    if (resp->content_type == scep::kCaCertContentType) {
      auto cert = scep::CertFromDer(scep::AsBytes(resp->body));
      return cert ? test::SubjectField(cert->get(), "CN") : "bad DER";
    }
    auto p7 = scep::ParseDegenerateCerts(scep::AsBytes(resp->body));
    if (!p7) return "bad PKCS#7";
    for (auto& c : p7->certs) {
      if (X509_check_issued(c.get(), c.get()) == X509_V_OK) return test::SubjectField(c.get(), "CN");
    }
    return "no CA";
  };
  std::string type;
  CHECK(ca_of("/alpha/pkiclient.exe?operation=GetCACert", &type) == "Alpha CA");
  CHECK(type == "application/x-x509-ca-cert");  // ra: none
  CHECK(ca_of("/beta/pkiclient.exe?operation=GetCACert", &type) == "Beta CA");
  CHECK(type == "application/x-x509-ca-ra-cert");  // ra: single
  CHECK(ca_of("/alpha?operation=GetCACert&message=beta", &type) == "Beta CA");
  CHECK(ca_of("/beta?operation=GetCACert&message=alpha", &type) == "Alpha CA");
  CHECK(ca_of("/cgi-bin/pkiclient.exe?operation=GetCACert&message=beta", &type) == "Beta CA");
  // An unknown CA name is ignored, not refused: the path decides (unmatched paths go to the first endpoint).
  CHECK(ca_of("/beta?operation=GetCACert&message=NoSuchCA", &type) == "Beta CA");
  CHECK(ca_of("/cgi-bin/pkiclient.exe?operation=GetCACert&message=NoSuchCA", &type) == "Alpha CA");

  test::ScepTestClient alpha(gw.port(), "/alpha/pkiclient.exe");
  test::ScepTestClient beta(gw.port(), "/beta/pkiclient.exe");
  REQUIRE(alpha.FetchCa() == "");
  REQUIRE(beta.FetchCa() == "");

  // beta: no challenge needed, issued by Beta CA, replies signed by its RA.
  auto anyone = test::NamedDevice("beta-device", "");
  auto issued_b = beta.Enroll(anyone);
  test::CheckIssued(issued_b, anyone);
  REQUIRE(issued_b.success());
  CHECK(X509_cmp(beta.reply_signer(), beta.ca()) != 0);
  CHECK(test::ChainsTo(issued_b.cert(), beta.ca()));
  CHECK_FALSE(test::ChainsTo(issued_b.cert(), alpha.ca()));

  // alpha: the static secret is required; issued by Alpha CA, replies signed by the CA itself.
  test::CheckFailure(alpha.Enroll(test::NamedDevice("alpha-device", "")), FailInfo::BadRequest, "no challenge password");
  test::CheckFailure(alpha.Enroll(test::NamedDevice("alpha-device", "wrong")), FailInfo::BadRequest, "incorrect");
  auto with_secret = test::NamedDevice("alpha-device", "alpha-secret");
  auto issued_a = alpha.Enroll(with_secret);
  test::CheckIssued(issued_a, with_secret);
  REQUIRE(issued_a.success());
  CHECK(X509_cmp(alpha.reply_signer(), alpha.ca()) == 0);
  CHECK(test::ChainsTo(issued_a.cert(), alpha.ca()));

  // A request encrypted for beta's RA but sent to alpha cannot be opened there.
  auto misdirected = alpha.Enroll(test::NamedDevice("misdirected", "alpha-secret"), {.recipient = beta.recipient()});
  INFO(misdirected.Describe());
  CHECK(!misdirected.success());

  // Each CA has its CRL under its own name.
  for (const auto& [name, ca] : {std::pair<std::string, X509*>{"ca", alpha.ca()}, {"beta", beta.ca()}}) {
    CAPTURE(name);
    auto resp = http.Get("/crl/" + name + ".crl");
    REQUIRE(resp.ok());
    REQUIRE(resp->status == 200);
    auto crl = scep::CrlFromDer(scep::AsBytes(resp->body));
    REQUIRE(crl.ok());
    CHECK(X509_CRL_verify(crl->get(), X509_get0_pubkey(ca)) == 1);
  }
  CHECK(test::ListCerts(gw.data_dir()).count == 2);
}
