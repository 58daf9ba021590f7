// The semantic rules, each at least once: through a file (errors carry the value's line) and through
// ValidateConfig on structs (line 0).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "tests/support/config_errors.h"

using test::OnlyError;

TEST_CASE("listen must be HOST:PORT") {
  CHECK(OnlyError("listen: localhost:0\n").empty());
  CHECK(OnlyError("listen: \"[::]:443\"\n").empty());
  CHECK(OnlyError("data_dir: d\nlisten: 8080\n") ==
        "scep.yaml:2: listen: expected HOST:PORT such as 0.0.0.0:8080 or [::1]:8080, got '8080'");
}

TEST_CASE("data_dir must not be empty") {
  CHECK(OnlyError("data_dir: \"\"\n") == "scep.yaml:1: data_dir: must not be empty");
}

TEST_CASE("log.level and log.format come from their sets") {
  CHECK(OnlyError("log: {level: trace, format: json}\n").empty());
  CHECK(OnlyError("log:\n  level: warning\n") ==
        "scep.yaml:2: log.level: expected one of trace|debug|info|warn|error, got 'warning' (did you mean 'warn'?)");
  CHECK(OnlyError("log:\n  format: yaml\n") == "scep.yaml:2: log.format: expected one of text|json, got 'yaml'");
}

TEST_CASE("http sizes, timeouts and thread counts have bounds") {
  CHECK(OnlyError("http: {max_body_bytes: 1024, max_url_bytes: 8192, read_timeout_seconds: 3600, "
                  "worker_threads: 1024, io_threads: 64}\n")
            .empty());
  CHECK(OnlyError("http: {max_body_bytes: 18446744073709551615, max_url_bytes: 18446744073709551615}\n").empty());
  CHECK(OnlyError("http:\n  max_body_bytes: 1023\n") == "scep.yaml:2: http.max_body_bytes: must be at least 1024, got 1023");
  CHECK(OnlyError("http:\n  max_url_bytes: 100\n") == "scep.yaml:2: http.max_url_bytes: must be at least 8192, got 100");
  CHECK(OnlyError("http:\n  read_timeout_seconds: 0\n") ==
        "scep.yaml:2: http.read_timeout_seconds: must be between 1 and 3600, got 0");
  CHECK(OnlyError("http:\n  read_timeout_seconds: 3601\n") ==
        "scep.yaml:2: http.read_timeout_seconds: must be between 1 and 3600, got 3601");
  CHECK(OnlyError("http:\n  worker_threads: 1025\n") ==
        "scep.yaml:2: http.worker_threads: must be between 1 and 1024, got 1025");
  CHECK(OnlyError("http:\n  io_threads: 0\n") == "scep.yaml:2: http.io_threads: must be between 1 and 64, got 0");
}

TEST_CASE("challenge.mode is static, ndes-one-time, webhook or none") {
  CHECK(OnlyError("challenge: {mode: none}\n").empty());
  CHECK(OnlyError("challenge: {mode: ndes-one-time}\n").empty());
  CHECK(OnlyError("challenge:\n  mode: Static\n") ==
        "scep.yaml:2: challenge.mode: expected one of static|ndes-one-time|webhook|none, got 'Static' (did you mean "
        "'static'?)");
}

TEST_CASE("ca.key is one of the supported key types") {
  for (const char* key : {"rsa:2048", "rsa:3072", "rsa:4096", "ec:p256", "ec:p384"}) {
    CHECK(OnlyError(std::string("ca: {key: \"") + key + "\"}\n").empty());
  }
  CHECK(OnlyError("ca:\n  key: rsa:1024\n") ==
        "scep.yaml:2: ca.key: expected one of rsa:2048|rsa:3072|rsa:4096|ec:p256|ec:p384, got 'rsa:1024'");
}

TEST_CASE("ca.subject has the shape KEY=VALUE,KEY=VALUE") {
  CHECK(OnlyError("ca:\n  subject: \"CN=Gateway CA, O=Example\\\\, Inc., C=US, 2.5.4.97=X\"\n").empty());
  CHECK(OnlyError("ca:\n  subject: \"\"\n") ==
        "scep.yaml:2: ca.subject: expected a distinguished name like 'CN=SCEP Gateway CA,O=Example', got an empty "
        "value");
  CHECK(OnlyError("ca:\n  subject: \"CN=Gateway CA,Example\"\n") ==
        "scep.yaml:2: ca.subject: expected a distinguished name like 'CN=SCEP Gateway CA,O=Example'; part 2 "
        "'Example' is not KEY=VALUE");
  CHECK(OnlyError("ca:\n  subject: \"CN=\"\n") ==
        "scep.yaml:2: ca.subject: expected a distinguished name like 'CN=SCEP Gateway CA,O=Example'; part 1 'CN=' "
        "is not KEY=VALUE");
  CHECK_FALSE(OnlyError("ca:\n  subject: \"CN=A,,O=B\"\n").empty());
}

TEST_CASE("validity days are positive, and a certificate does not outlive its CA") {
  CHECK(OnlyError("ca:\n  validity_days: 0\n") == "scep.yaml:2: ca.validity_days: must be at least 1, got 0");
  CHECK(OnlyError("certificate:\n  validity_days: 0\n") ==
        "scep.yaml:2: certificate.validity_days: must be at least 1, got 0");
  CHECK(OnlyError("ca:\n  validity_days: 100\ncertificate:\n  validity_days: 100\n").empty());
  CHECK(OnlyError("ca:\n  validity_days: 100\ncertificate:\n  validity_days: 101\n") ==
        "scep.yaml:4: certificate.validity_days: must not exceed ca.validity_days (100), got 101");
}

TEST_CASE("key_usage items come from their set, each error at the item's line") {
  CHECK(OnlyError("certificate:\n  key_usage: [digitalSignature, nonRepudiation, keyEncipherment, "
                  "dataEncipherment, keyAgreement]\n")
            .empty());
  CHECK(OnlyError("certificate:\n  key_usage:\n    - digitalSignature\n    - keyCertSign\n") ==
        "scep.yaml:4: certificate.key_usage[1]: expected one of "
        "digitalSignature|nonRepudiation|keyEncipherment|dataEncipherment|keyAgreement, got 'keyCertSign'");
}

TEST_CASE("extended_key_usage items are known names or dotted OIDs") {
  CHECK(OnlyError("certificate:\n  extended_key_usage: [serverAuth, clientAuth, codeSigning, emailProtection, "
                  "timeStamping, OCSPSigning, ipsecIKE, 1.3.6.1.4.1.311.20.2.2, 2.5]\n")
            .empty());
  CHECK(OnlyError("certificate:\n  extended_key_usage:\n    - clientauth\n") ==
        "scep.yaml:3: certificate.extended_key_usage[0]: expected one of "
        "serverAuth|clientAuth|codeSigning|emailProtection|timeStamping|OCSPSigning|ipsecIKE or a dotted OID such as "
        "1.3.6.1.5.5.7.3.2, got 'clientauth' (did you mean 'clientAuth'?)");
  for (const char* bad : {"3.1", "1.", "1..2", ".1.2", "1", "1.2a"}) {
    CHECK_MESSAGE(!OnlyError(std::string("certificate:\n  extended_key_usage: [\"") + bad + "\"]\n").empty(), bad);
  }
}

TEST_CASE("CRL distribution points and CA issuers are http or https URLs") {
  CHECK(OnlyError("certificate:\n  crl_distribution_points: [\"http://a/b.crl\", \"HTTPS://a/b.crl\"]\n"
                  "  ca_issuers_urls: [\"https://a/ca.crt\"]\n")
            .empty());
  CHECK(OnlyError("certificate:\n  crl_distribution_points:\n    - http://ok/x.crl\n    - ldap://dir/x.crl\n") ==
        "scep.yaml:4: certificate.crl_distribution_points[1]: expected an http:// or https:// URL, got "
        "'ldap://dir/x.crl'");
  CHECK(OnlyError("certificate:\n  ca_issuers_urls: [\"https://\"]\n") ==
        "scep.yaml:2: certificate.ca_issuers_urls[0]: expected an http:// or https:// URL, got 'https://'");
  CHECK_FALSE(OnlyError("certificate:\n  ca_issuers_urls: [\"http://a b/\"]\n").empty());
}

TEST_CASE("ValidateConfig checks structs changed after loading, with line 0") {
  config::GatewayConfig c;
  c.listen = "[::1]";
  c.http.io_threads = 65;
  c.certificate.validity_days = 4000;
  c.certificate.ca_issuers_urls = {"ftp://x"};
  std::vector<std::string> lines;
  for (const config::ConfigError& error : config::ValidateConfig(c, "cli")) lines.push_back(error.ToString());
  CHECK(lines == std::vector<std::string>{
                     "cli: listen: expected HOST:PORT such as 0.0.0.0:8080 or [::1]:8080, got '[::1]'",
                     "cli: http.io_threads: must be between 1 and 64, got 65",
                     "cli: certificate.validity_days: must not exceed ca.validity_days (3650), got 4000",
                     "cli: certificate.ca_issuers_urls[0]: expected an http:// or https:// URL, got 'ftp://x'",
                 });
}
