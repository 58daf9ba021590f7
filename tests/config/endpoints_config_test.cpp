// Loading the keys added for NDES parity: RA, templates, policy, CRL, renewal, admin, notifications, and the
// `endpoints:` list, whose items inherit the top-level keys wherever those are written in the file.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "tests/support/config_errors.h"

using test::ErrorLines;

namespace {

config::GatewayConfig LoadClean(const std::string& yaml) {
  const config::LoadResult result = config::LoadConfigString(yaml, "scep.yaml");
  REQUIRE_MESSAGE(result.ok(), (result.ok() ? "" : result.errors.front().ToString()));
  return result.config;
}

}  // namespace

TEST_CASE("the new sections have their documented defaults") {
  const config::GatewayConfig c = LoadClean("");
  CHECK(c.challenge.one_time.max_outstanding == 5);
  CHECK(c.challenge.one_time.validity_minutes == 60);
  CHECK(c.ra.mode == "auto");
  CHECK(c.ra.subject.empty());
  CHECK_FALSE(c.templates.signature.has_value());
  CHECK_FALSE(c.templates.encryption.has_value());
  CHECK(c.policy.subject.empty());
  CHECK(c.policy.disallowed_sans == "refuse");
  CHECK(c.policy.key_types == std::vector<std::string>{"rsa:2048", "ec:p256", "ec:p384"});
  CHECK(c.policy.max_validity_days == 0);
  CHECK(c.policy.approval == "auto");
  CHECK(c.policy.pending_expiry_hours == 168);
  CHECK(c.policy.webhook.url.empty());
  CHECK(c.policy.webhook.timeout_seconds == 5);
  CHECK(c.policy.webhook.retries == 2);
  CHECK(c.policy.webhook.on_unavailable == "deny");
  CHECK(c.crl.next_update_hours == 168);
  CHECK(c.renewal.window_days == 0);
  CHECK(c.renewal.revoke_superseded);
  CHECK(c.admin.users_file.empty());
  CHECK_FALSE(c.admin.require_tls);
  CHECK(c.notifications.webhooks.empty());
  CHECK(c.notifications.retry_seconds == 30);
  CHECK(c.endpoints.empty());
}

TEST_CASE("every new top-level key reads into its field") {
  const config::GatewayConfig c = LoadClean(R"(challenge:
  mode: ndes-one-time
  one_time: {max_outstanding: 50, validity_minutes: 30}
ra:
  mode: split
  subject: "CN=Example RA,O=Example"
policy:
  subject: ["CN=^[a-z0-9-]+\\.corp\\.example$"]
  force_subject: ["O=Example", "C=DE"]
  required_san_types: [DNS]
  san_patterns: ["DNS=^[a-z0-9-]+\\.corp\\.example$", "IP=^10\\."]
  disallowed_sans: drop
  key_types: ["rsa:3072", "ec:p521"]
  allowed_key_usages: [digitalSignature]
  allowed_extended_key_usages: [clientAuth, 1.3.6.1.4.1.311.20.2.2]
  max_validity_days: 30
  approval: manual
  pending_expiry_hours: 24
  webhook: {url: "https://hooks.example/decide", timeout_seconds: 9, retries: 0, on_unavailable: pend}
crl: {next_update_hours: 12}
renewal: {window_days: 14, revoke_superseded: false}
admin: {users_file: /etc/scep/users, require_tls: true}
notifications: {webhooks: ["http://events.example/in"], retry_seconds: 5}
tls: {listen: "0.0.0.0:8443", cert_file: c.pem, key_file: k.pem}
)");
  CHECK(c.challenge.mode == "ndes-one-time");
  CHECK(c.challenge.one_time.max_outstanding == 50);
  CHECK(c.challenge.one_time.validity_minutes == 30);
  CHECK(c.ra.mode == "split");
  CHECK(c.ra.subject == "CN=Example RA,O=Example");
  CHECK(c.policy.subject == std::vector<std::string>{"CN=^[a-z0-9-]+\\.corp\\.example$"});
  CHECK(c.policy.force_subject == std::vector<std::string>{"O=Example", "C=DE"});
  CHECK(c.policy.required_san_types == std::vector<std::string>{"DNS"});
  CHECK(c.policy.san_patterns == std::vector<std::string>{"DNS=^[a-z0-9-]+\\.corp\\.example$", "IP=^10\\."});
  CHECK(c.policy.disallowed_sans == "drop");
  CHECK(c.policy.key_types == std::vector<std::string>{"rsa:3072", "ec:p521"});
  CHECK(c.policy.allowed_key_usages == std::vector<std::string>{"digitalSignature"});
  CHECK(c.policy.allowed_extended_key_usages == std::vector<std::string>{"clientAuth", "1.3.6.1.4.1.311.20.2.2"});
  CHECK(c.policy.max_validity_days == 30);
  CHECK(c.policy.approval == "manual");
  CHECK(c.policy.pending_expiry_hours == 24);
  CHECK(c.policy.webhook.url == "https://hooks.example/decide");
  CHECK(c.policy.webhook.timeout_seconds == 9);
  CHECK(c.policy.webhook.retries == 0);
  CHECK(c.policy.webhook.on_unavailable == "pend");
  CHECK(c.crl.next_update_hours == 12);
  CHECK(c.renewal.window_days == 14);
  CHECK_FALSE(c.renewal.revoke_superseded);
  CHECK(c.admin.users_file == "/etc/scep/users");
  CHECK(c.admin.require_tls);
  CHECK(c.notifications.webhooks == std::vector<std::string>{"http://events.example/in"});
  CHECK(c.notifications.retry_seconds == 5);
}

TEST_CASE("a template exists only when its key is given; unset fields take the certificate defaults") {
  const config::GatewayConfig c = LoadClean("certificate:\n  validity_days: 90\ntemplates:\n  signature:\n"
                                            "    key_usage: [digitalSignature]\n");
  REQUIRE(c.templates.signature.has_value());
  CHECK(c.templates.signature->key_usage == std::vector<std::string>{"digitalSignature"});
  CHECK(c.templates.signature->validity_days == 365);  // the struct default, not certificate.validity_days
  CHECK(c.templates.signature->extended_key_usage == std::vector<std::string>{"clientAuth"});
  CHECK_FALSE(c.templates.encryption.has_value());

  const config::GatewayConfig bare = LoadClean("templates:\n  encryption:\n");
  CHECK_FALSE(bare.templates.signature.has_value());
  REQUIRE(bare.templates.encryption.has_value());
  CHECK(bare.templates.encryption->validity_days == 365);

  const config::LoadResult wrong = config::LoadConfigString("templates:\n  signature: yes\n", "scep.yaml");
  CHECK(ErrorLines(wrong) ==
        std::vector<std::string>{"scep.yaml:2: templates.signature: expected a mapping, got 'yes'"});
}

TEST_CASE("an endpoint inherits top-level keys written after the list, and overrides field by field") {
  const config::GatewayConfig c = LoadClean(R"(endpoints:
  - name: servers
    path: /servers
    policy:
      approval: manual
    templates:
      signature: {validity_days: 30}
    ca: {key: "ec:p256"}
  - name: laptops
    path: /laptops
    include_ca_cert_in_reply: false
policy:
  subject: ["CN=^[a-z]+$"]
  max_validity_days: 60
challenge:
  mode: none
scep:
  include_ca_cert_in_reply: true
ca:
  subject: "CN=Main CA"
templates:
  signature:
    key_usage: [digitalSignature]
    validity_days: 90
)");
  REQUIRE(c.endpoints.size() == 2);
  const config::EndpointConfig& servers = c.endpoints[0];
  CHECK(servers.name == "servers");
  CHECK(servers.path == "/servers");
  CHECK(servers.policy.approval == "manual");
  CHECK(servers.policy.subject == std::vector<std::string>{"CN=^[a-z]+$"});  // written after `endpoints:`
  CHECK(servers.policy.max_validity_days == 60);
  CHECK(servers.challenge.mode == "none");
  CHECK(servers.include_ca_cert_in_reply);
  REQUIRE(servers.templates.signature.has_value());
  CHECK(servers.templates.signature->validity_days == 30);
  CHECK(servers.templates.signature->key_usage == std::vector<std::string>{"digitalSignature"});
  REQUIRE(servers.ca.has_value());
  CHECK(servers.ca->key == "ec:p256");
  CHECK(servers.ca->subject == "CN=SCEP Gateway CA");  // an own CA starts from the defaults, not from `ca:`
  CHECK(servers.ca->validity_days == 3650);

  const config::EndpointConfig& laptops = c.endpoints[1];
  CHECK(laptops.policy.approval == "auto");
  CHECK(laptops.policy.max_validity_days == 60);
  CHECK_FALSE(laptops.include_ca_cert_in_reply);
  CHECK_FALSE(laptops.ca.has_value());
  REQUIRE(laptops.templates.signature.has_value());
  CHECK(laptops.templates.signature->validity_days == 90);
  CHECK_FALSE(laptops.templates.encryption.has_value());
  CHECK(c.policy.approval == "auto");  // the top level is untouched by an endpoint's override
}

TEST_CASE("errors inside the list name the item, the key and the line, all at once") {
  const config::LoadResult result = config::LoadConfigString(R"(endpoints:
  - name: a
    path: /a
    polcy: {}
  - name: b
    path: /b
    policy:
      approval: maybe
      webhook: {retries: many}
  - just-a-string
policy:
  aproval: manual
)",
                                                             "scep.yaml");
  CHECK(ErrorLines(result) ==
        std::vector<std::string>{
            "scep.yaml:12: policy.aproval: unknown key 'aproval' (did you mean 'approval'?)",
            "scep.yaml:4: endpoints[0].polcy: unknown key 'polcy' (did you mean 'policy'?)",
            "scep.yaml:9: endpoints[1].policy.webhook.retries: expected a positive integer, got 'many'",
            "scep.yaml:10: endpoints[2]: expected a mapping, got 'just-a-string'",
            "scep.yaml:8: endpoints[1].policy.approval: expected one of auto|manual, got 'maybe'",
            "scep.yaml:10: endpoints[2].name: every endpoint needs a name ([A-Za-z0-9._-]+)",
        });
}

TEST_CASE("endpoints must be a list of mappings") {
  CHECK(ErrorLines(config::LoadConfigString("endpoints: {name: a}\n", "s.yaml")) ==
        std::vector<std::string>{"s.yaml:1: endpoints: expected a list of mappings, got a mapping"});
  CHECK(config::LoadConfigString("endpoints:\n", "s.yaml").ok());
  CHECK(config::LoadConfigString("endpoints: []\n", "s.yaml").ok());
}

TEST_CASE("a bad top-level value that endpoints inherit is reported once, at the top level") {
  const config::LoadResult result = config::LoadConfigString(
      "endpoints:\n  - {name: a, path: /a}\n  - {name: b, path: /b, policy: {approval: never}}\npolicy:\n"
      "  approval: later\n",
      "scep.yaml");
  CHECK(ErrorLines(result) == std::vector<std::string>{
                             "scep.yaml:5: policy.approval: expected one of auto|manual, got 'later'",
                             "scep.yaml:3: endpoints[1].policy.approval: expected one of auto|manual, got 'never'",
                         });
}

TEST_CASE("Endpoints() gives the list, or one implicit default endpoint made of the top-level keys") {
  config::GatewayConfig c;
  c.challenge.mode = "ndes-one-time";
  c.policy.approval = "manual";
  c.scep.include_ca_cert_in_reply = true;
  c.templates.encryption = config::CertificateConfig{};
  c.templates.encryption->validity_days = 7;
  const std::vector<config::EndpointConfig> implicit = config::Endpoints(c);
  REQUIRE(implicit.size() == 1);
  CHECK(implicit[0].name == "default");
  CHECK(implicit[0].path == "/");
  CHECK(implicit[0].challenge.mode == "ndes-one-time");
  CHECK(implicit[0].policy.approval == "manual");
  CHECK(implicit[0].include_ca_cert_in_reply);
  REQUIRE(implicit[0].templates.encryption.has_value());
  CHECK(implicit[0].templates.encryption->validity_days == 7);
  CHECK_FALSE(implicit[0].ca.has_value());

  const config::GatewayConfig listed = LoadClean("endpoints:\n  - {name: x, path: /x}\n  - {name: y, path: /y}\n");
  const std::vector<config::EndpointConfig> both = config::Endpoints(listed);
  REQUIRE(both.size() == 2);
  CHECK(both[0].name == "x");
  CHECK(both[1].path == "/y");
}
