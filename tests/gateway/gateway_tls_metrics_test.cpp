// The HTTPS listener (enrolled over by a real client, micromdm's scepclient) and the separate admin listener
// for /metrics, on a running scep-gateway.
#include <doctest/doctest.h>

#include "gateway/http_client.h"
#include "tests/support/gateway_process.h"
#include "tests/support/test_files.h"

namespace {

std::string Yaml(std::uint16_t tls_port, std::uint16_t admin_port, const test::TempDir& dir) {
  return "tls:\n  listen: 127.0.0.1:" + std::to_string(tls_port) + "\n  cert_file: " + (dir / "tls.pem").string() +
         "\n  key_file: " + (dir / "tls.key").string() + "\nmetrics:\n  listen: 127.0.0.1:" +
         std::to_string(admin_port) + "\n";
}

std::string Get(std::uint16_t port, const std::string& target, gateway::HttpClientOptions options = {}) {
  gateway::HttpClient client("127.0.0.1", port, options);
  auto resp = client.Get(target);
  REQUIRE_MESSAGE(resp.ok(), resp.error().ToString());
  return std::to_string(resp->status) + " " + resp->body;
}

}  // namespace

TEST_CASE("enrollment over HTTPS, /metrics on the admin listener only") {
  test::TempDir dir;
  REQUIRE(test::Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost"
                    " -addext subjectAltName=IP:127.0.0.1 -keyout " + (dir / "tls.key").string() + " -out " +
                    (dir / "tls.pem").string()) == 0);
  const std::uint16_t tls_port = test::FreeLoopbackPort();
  const std::uint16_t admin_port = test::FreeLoopbackPort();
  test::GatewayOptions options;
  options.config_yaml = Yaml(tls_port, admin_port, dir);
  test::GatewayProcess gw(options);

  gateway::HttpClientOptions tls{.tls = true, .ca_file = (dir / "tls.pem").string()};
  CHECK(Get(tls_port, "/scep?operation=GetCACaps", tls).find("200 POSTPKIOperation\n") == 0);

  // A real client: scepclient trusts the TLS certificate through SSL_CERT_FILE (Go's crypto/x509). It keeps its
  // csr.pem beside the key and reuses it, so each run gets a directory of its own.
  std::filesystem::create_directories(dir / "good");
  std::filesystem::create_directories(dir / "bad");
  const std::string url = "https://127.0.0.1:" + std::to_string(tls_port) + "/scep";
  std::string out;
  const int rc = test::Run("SSL_CERT_FILE=" + (dir / "tls.pem").string() + " scepclient -server-url " + url +
                               " -challenge test-challenge -private-key " + (dir / "good/key.pem").string() +
                               " -certificate " + (dir / "good/cert.pem").string() + " -cn over-https",
                           &out);
  INFO(out);
  REQUIRE(rc == 0);
  CHECK(test::Run("openssl verify -CAfile " + (gw.data_dir() / "ca.pem").string() + " " +
                  (dir / "good/cert.pem").string()) == 0);
  CHECK(test::Run("SSL_CERT_FILE=" + (dir / "tls.pem").string() + " scepclient -server-url " + url +
                  " -challenge wrong -private-key " + (dir / "bad/key.pem").string() + " -certificate " +
                  (dir / "bad/cert.pem").string() + " -cn refused") != 0);

  const std::string metrics = Get(admin_port, "/metrics");
  CHECK(metrics.find("scep_enrollments_total{result=\"issued\"} 1\n") != std::string::npos);
  CHECK(metrics.find("scep_enrollments_total{result=\"failed\",fail_info=\"badRequest\"} 1\n") != std::string::npos);
  CHECK(metrics.find("scep_requests_total{operation=\"PKIOperation\",outcome=\"success\"} 1\n") != std::string::npos);
  CHECK(metrics.find("scep_certificates_in_store 1\n") != std::string::npos);
  CHECK(Get(admin_port, "/healthz").find("200 ok") == 0);
  // Each listener serves its own things.
  CHECK(Get(admin_port, "/scep?operation=GetCACaps").find("404") == 0);
  CHECK(Get(tls_port, "/metrics", tls).find("200") != 0);
  // A plain-HTTP client on the TLS port gets no answer, and the listener goes on serving.
  gateway::HttpClient plain("127.0.0.1", tls_port, gateway::HttpClientOptions{.timeout = std::chrono::seconds(3)});
  CHECK_FALSE(plain.Get("/scep?operation=GetCACaps").ok());
  CHECK(Get(tls_port, "/healthz", tls).find("200 ok") == 0);
}
