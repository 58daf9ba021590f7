// An EC CA cannot receive SCEP's RSA key transport, so `ca init --key ec:p256` adds an RSA RA: GetCACert then
// answers CA + RA as certs-only PKCS#7, and clients encrypt to the RA.
#include <doctest/doctest.h>

#include "tests/support/gateway_process.h"
#include "tests/support/scep_test_client.h"

TEST_CASE("an EC CA publishes CA + RA, and an enrollment encrypted to the RA succeeds") {
  test::GatewayProcess gw({.ca_key = "ec:p256"});
  gateway::HttpClient http("127.0.0.1", gw.port());
  auto resp = http.Get("/scep?operation=GetCACert");
  REQUIRE(resp.ok());
  CHECK(resp->status == 200);
  CHECK(resp->content_type == "application/x-x509-ca-ra-cert");
  auto p7 = scep::ParseDegenerateCerts(scep::AsBytes(resp->body));
  REQUIRE(p7.ok());
  REQUIRE(p7->certs.size() == 2);

  test::ScepTestClient client(gw.port());
  REQUIRE(client.FetchCa() == "");
  X509* ca = client.ca();
  X509* ra = client.recipient();
  REQUIRE(ca != nullptr);
  REQUIRE(ra != nullptr);
  REQUIRE(X509_cmp(ca, ra) != 0);
  // The CA is the EC one on disk; the RA is RSA and issued by it.
  auto on_disk = scep::CertFromPem(test::ReadText(gw.ca_pem()));
  REQUIRE(on_disk.ok());
  CHECK(X509_cmp(ca, on_disk->get()) == 0);
  CHECK(EVP_PKEY_get_base_id(X509_get0_pubkey(ca)) == EVP_PKEY_EC);
  CHECK(EVP_PKEY_get_base_id(X509_get0_pubkey(ra)) == EVP_PKEY_RSA);
  CHECK(X509_check_issued(ca, ra) == X509_V_OK);

  auto device = test::MakeDevice(
      {.subject = {{"CN", "behind-an-ra"}}, .sans = "DNS:ra.example", .challenge = "test-challenge"});
  REQUIRE(device.error == "");
  for (auto transport : {test::Transport::Post, test::Transport::GetPercentEncoded}) {
    CAPTURE(test::to_string(transport));
    auto reply = client.Enroll(device, {.transport = transport});
    INFO(reply.Describe());
    REQUIRE(reply.success());
    CHECK(reply.signature_ok);
    CHECK(X509_cmp(reply.rep->signer_cert(), ra) == 0);  // the RSA RA signs CertReps
    REQUIRE(reply.certs.size() == 1);

    test::TempDir dir;
    auto pem = scep::CertToPem(reply.cert());
    REQUIRE(pem.ok());
    test::WriteText(dir / "cert.pem", *pem);
    std::string out;
    const int rc =
        test::Run("openssl verify -CAfile " + gw.ca_pem().string() + " " + (dir / "cert.pem").string(), &out);
    CAPTURE(out);
    CHECK(rc == 0);
    CHECK(out.find(": OK") != std::string::npos);
  }

  CHECK(test::ListCerts(gw.data_dir()).count == 2);
}
