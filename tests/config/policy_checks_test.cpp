// The semantic rules of the policy, RA, challenge, CRL, renewal and notification keys, each at least once.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "tests/support/config_errors.h"

using test::OnlyError;

TEST_CASE("policy.subject and force_subject are ATTRIBUTE=VALUE, split at the first '='") {
  CHECK(OnlyError("policy:\n  subject: [\"CN=^a=b$\", \"2.5.4.5=^[0-9]+$\", \"emailAddress=@example\\\\.com$\"]\n"
                  "  force_subject: [\"O=Example=Corp\", \"serialNumber=1\"]\n")
            .empty());
  CHECK(OnlyError("policy:\n  subject:\n    - \"CN\"\n") ==
        "scep.yaml:3: policy.subject[0]: expected ATTRIBUTE=REGEX such as 'CN=^[a-z0-9.-]+$', got 'CN'");
  CHECK(OnlyError("policy:\n  subject: [\"CN=\"]\n") ==
        "scep.yaml:2: policy.subject[0]: expected ATTRIBUTE=REGEX such as 'CN=^[a-z0-9.-]+$', got 'CN='");
  CHECK(OnlyError("policy:\n  force_subject: [\"=x\"]\n") ==
        "scep.yaml:2: policy.force_subject[0]: expected ATTRIBUTE=VALUE such as 'O=Example', got '=x'");
  CHECK(OnlyError("policy:\n  force_subject: [\"1O=x\"]\n") ==
        "scep.yaml:2: policy.force_subject[0]: expected a DN attribute such as CN, O, OU or a dotted OID before '=', "
        "got '1O'");
}

TEST_CASE("policy regexes must compile, and the error says why") {
  const std::string subject = OnlyError("policy:\n  subject: [\"CN=ok\", \"CN=[a-\"]\n");
  CHECK(subject.starts_with("scep.yaml:2: policy.subject[1]: invalid regular expression '[a-': "));
  CHECK(subject.size() > std::string("scep.yaml:2: policy.subject[1]: invalid regular expression '[a-': ").size());
  CHECK(OnlyError("policy:\n  san_patterns:\n    - \"DNS=(unclosed\"\n")
            .starts_with("scep.yaml:3: policy.san_patterns[0]: invalid regular expression '(unclosed': "));
  // force_subject values are literal text, never compiled.
  CHECK(OnlyError("policy:\n  force_subject: [\"O=[a-\"]\n").empty());
  // A template's own subject rules are checked the same way.
  CHECK(OnlyError("templates:\n  signature:\n    subject: [\"CN=(x\"]\n")
            .starts_with("scep.yaml:3: templates.signature.subject[0]: invalid regular expression '(x': "));
  CHECK(OnlyError("admin:\n  require_tls: true\n") ==
        "scep.yaml:2: admin.require_tls: needs tls.listen: without an HTTPS listener the admin pages and API are "
        "unreachable");
  CHECK(OnlyError("templates:\n  encryption:\n    approval: manul\n") ==
        "scep.yaml:3: templates.encryption.approval: expected one of auto|manual, got 'manul' (did you mean 'manual'?)");
  CHECK(OnlyError("certificate:\n  subject: [\"nope\"]\n") ==
        "scep.yaml:2: certificate.subject[0]: expected ATTRIBUTE=REGEX such as 'CN=^[a-z0-9.-]+$', got 'nope'");
}

TEST_CASE("SAN types come from DNS, IP, email and URI") {
  CHECK(OnlyError("policy:\n  required_san_types: [DNS, IP, email, URI]\n"
                  "  san_patterns: [\"DNS=^x$\", \"IP=^10\\\\.\", \"email=@x$\", \"URI=^https://\"]\n")
            .empty());
  CHECK(OnlyError("policy:\n  required_san_types: [dns]\n") ==
        "scep.yaml:2: policy.required_san_types[0]: expected one of DNS|IP|email|URI, got 'dns' (did you mean 'DNS'?)");
  CHECK(OnlyError("policy:\n  san_patterns: [\"UPN=x\"]\n") ==
        "scep.yaml:2: policy.san_patterns[0]: expected one of DNS|IP|email|URI before '=', got 'UPN'");
  CHECK(OnlyError("policy:\n  san_patterns: [\"DNS\"]\n") ==
        "scep.yaml:2: policy.san_patterns[0]: expected TYPE=REGEX such as 'DNS=^[a-z0-9-]+\\.example\\.com$', got "
        "'DNS'");
}

TEST_CASE("policy key types, usages and choices") {
  CHECK(OnlyError("policy:\n  key_types: [\"rsa:1024\", \"rsa:16384\", \"ec:p256\", \"ec:p384\", \"ec:p521\"]\n")
            .empty());
  for (const char* bad : {"rsa:1023", "rsa:16385", "rsa:", "rsa:2048x", "ec:p192", "dsa:2048"}) {
    CHECK(OnlyError(std::string("policy:\n  key_types: [\"") + bad + "\"]\n") ==
          std::string("scep.yaml:2: policy.key_types[0]: expected rsa:BITS (1024 to 16384) or one of "
                      "ec:p256|ec:p384|ec:p521, got '") +
              bad + "'");
  }
  CHECK(OnlyError("policy:\n  allowed_key_usages: [keyCertSign]\n") ==
        "scep.yaml:2: policy.allowed_key_usages[0]: expected one of "
        "digitalSignature|nonRepudiation|keyEncipherment|dataEncipherment|keyAgreement, got 'keyCertSign'");
  CHECK(OnlyError("policy:\n  allowed_extended_key_usages: [clientAuth, \"1.3.6.1.5.5.7.3.1\", anyPurpose]\n") ==
        "scep.yaml:2: policy.allowed_extended_key_usages[2]: expected one of "
        "serverAuth|clientAuth|codeSigning|emailProtection|timeStamping|OCSPSigning|ipsecIKE or a dotted OID such as "
        "1.3.6.1.5.5.7.3.2, got 'anyPurpose'");
  CHECK(OnlyError("policy:\n  disallowed_sans: ignore\n") ==
        "scep.yaml:2: policy.disallowed_sans: expected one of refuse|drop, got 'ignore'");
  CHECK(OnlyError("policy:\n  approval: Manual\n") ==
        "scep.yaml:2: policy.approval: expected one of auto|manual, got 'Manual' (did you mean 'manual'?)");
  CHECK(OnlyError("policy:\n  pending_expiry_hours: 0\n") ==
        "scep.yaml:2: policy.pending_expiry_hours: must be between 1 and 87600, got 0");
  CHECK(OnlyError("policy:\n  pending_expiry_hours: 87601\n") ==
        "scep.yaml:2: policy.pending_expiry_hours: must be between 1 and 87600, got 87601");
}

TEST_CASE("policy.webhook has a URL and bounded timeouts") {
  CHECK(OnlyError("policy:\n  webhook: {url: \"http://127.0.0.1:9/x\", timeout_seconds: 300, retries: 10, "
                  "on_unavailable: issue}\n")
            .empty());
  CHECK(OnlyError("policy:\n  webhook:\n    url: ftp://x\n") ==
        "scep.yaml:3: policy.webhook.url: expected an http:// or https:// URL, got 'ftp://x'");
  CHECK(OnlyError("policy:\n  webhook:\n    timeout_seconds: 0\n") ==
        "scep.yaml:3: policy.webhook.timeout_seconds: must be between 1 and 300, got 0");
  CHECK(OnlyError("policy:\n  webhook:\n    retries: 11\n") ==
        "scep.yaml:3: policy.webhook.retries: must be between 0 and 10, got 11");
  CHECK(OnlyError("policy:\n  webhook:\n    on_unavailable: retry\n") ==
        "scep.yaml:3: policy.webhook.on_unavailable: expected one of issue|deny|pend, got 'retry'");
}

TEST_CASE("challenge mode webhook needs a webhook URL; one-time limits are bounded") {
  CHECK(OnlyError("challenge:\n  mode: webhook\npolicy:\n  webhook: {url: \"https://h.example/\"}\n").empty());
  CHECK(OnlyError("challenge:\n  mode: webhook\n") ==
        "scep.yaml:2: challenge.mode: mode webhook needs policy.webhook.url");
  CHECK(OnlyError("challenge:\n  one_time: {max_outstanding: 10000, validity_minutes: 10080}\n").empty());
  CHECK(OnlyError("challenge:\n  one_time:\n    max_outstanding: 0\n") ==
        "scep.yaml:3: challenge.one_time.max_outstanding: must be between 1 and 10000, got 0");
  CHECK(OnlyError("challenge:\n  one_time:\n    validity_minutes: 10081\n") ==
        "scep.yaml:3: challenge.one_time.validity_minutes: must be between 1 and 10080, got 10081");
}

TEST_CASE("ra.mode, ra.subject, and an EC CA needs an RA") {
  for (const char* mode : {"auto", "single", "split", "none"}) {
    CHECK(OnlyError(std::string("ra: {mode: ") + mode + "}\n").empty());
  }
  CHECK(OnlyError("ra:\n  mode: double\n") ==
        "scep.yaml:2: ra.mode: expected one of auto|none|single|split, got 'double'");
  CHECK(OnlyError("ra:\n  subject: \"Example RA\"\n") ==
        "scep.yaml:2: ra.subject: expected a distinguished name like 'CN=SCEP Gateway CA,O=Example'; part 1 "
        "'Example RA' is not KEY=VALUE");
  CHECK(OnlyError("ca: {key: \"ec:p256\"}\nra:\n  mode: none\n") ==
        "scep.yaml:3: ra.mode: an EC CA cannot decrypt SCEP requests: use ra.mode auto, single or split");
  CHECK(OnlyError("ca: {key: \"ec:p384\"}\nra: {mode: split}\n").empty());
}

TEST_CASE("templates get the certificate checks under their own keys") {
  CHECK(OnlyError("templates:\n  signature:\n    key_usage: [digitalSignature, keyCertSign]\n") ==
        "scep.yaml:3: templates.signature.key_usage[1]: expected one of "
        "digitalSignature|nonRepudiation|keyEncipherment|dataEncipherment|keyAgreement, got 'keyCertSign'");
  CHECK(OnlyError("ca: {validity_days: 100}\ncertificate: {validity_days: 50}\ntemplates:\n  encryption:\n"
                  "    validity_days: 200\n") ==
        "scep.yaml:5: templates.encryption.validity_days: must not exceed ca.validity_days (100), got 200");
  CHECK(OnlyError("templates:\n  encryption: {crl_distribution_points: [\"ldap://x\"]}\n") ==
        "scep.yaml:2: templates.encryption.crl_distribution_points[0]: expected an http:// or https:// URL, got "
        "'ldap://x'");
}

TEST_CASE("crl, renewal and notifications have bounds") {
  CHECK(OnlyError("crl: {next_update_hours: 87600}\nrenewal: {window_days: 0}\n"
                  "notifications: {webhooks: [\"https://a/\"], retry_seconds: 3600}\n")
            .empty());
  CHECK(OnlyError("crl:\n  next_update_hours: 0\n") ==
        "scep.yaml:2: crl.next_update_hours: must be between 1 and 87600, got 0");
  CHECK(OnlyError("notifications:\n  webhooks:\n    - https://ok/\n    - mailto:a@b\n") ==
        "scep.yaml:4: notifications.webhooks[1]: expected an http:// or https:// URL, got 'mailto:a@b'");
  CHECK(OnlyError("notifications:\n  retry_seconds: 3601\n") ==
        "scep.yaml:2: notifications.retry_seconds: must be between 1 and 3600, got 3601");
}

TEST_CASE("ValidateConfig checks the new keys on structs, with line 0") {
  config::GatewayConfig c;
  c.policy.max_validity_days = -1;
  c.renewal.window_days = -2;
  c.policy.subject = {"CN=(x"};
  std::vector<std::string> lines;
  for (const config::ConfigError& error : config::ValidateConfig(c, "cli")) lines.push_back(error.ToString());
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].starts_with("cli: policy.subject[0]: invalid regular expression '(x': "));
  CHECK(lines[1] == "cli: policy.max_validity_days: must be at least 0, got -1");
  CHECK(lines[2] == "cli: renewal.window_days: must be at least 0, got -2");
}
