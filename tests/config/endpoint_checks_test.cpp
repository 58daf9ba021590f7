// The rules of the `endpoints:` list: names, paths, reserved paths, and every endpoint's own keys.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "config/gateway_config.h"
#include "tests/support/config_errors.h"

using test::ErrorLines;
using test::LoadErrorLines;

TEST_CASE("endpoint names are unique and made of [A-Za-z0-9._-]") {
  CHECK(LoadErrorLines("endpoints:\n  - {name: A.b_c-9, path: /a}\n  - {name: x, path: /x}\n").empty());
  CHECK(LoadErrorLines("endpoints:\n  - name: a\n    path: /a\n  - name: a\n    path: /b\n") ==
        std::vector<std::string>{"scep.yaml:4: endpoints[1].name: duplicate name 'a' (also endpoints[0])"});
  CHECK(LoadErrorLines("endpoints:\n  - name: \"a b\"\n") ==
        std::vector<std::string>{"scep.yaml:2: endpoints[0].name: expected letters, digits, '.', '_' or '-', got 'a b'"});
  CHECK(LoadErrorLines("endpoints:\n  - path: /a\n") ==
        std::vector<std::string>{"scep.yaml:2: endpoints[0].name: every endpoint needs a name ([A-Za-z0-9._-]+)"});
}

TEST_CASE("endpoint paths are '/' or /x/y, unique, and outside the reserved paths") {
  CHECK(LoadErrorLines("endpoints:\n  - {name: root, path: /}\n  - {name: a, path: /certsrv/mscep}\n"
              "  - {name: b, path: /crls}\n  - {name: c, path: /apix/y}\n")
            .empty());
  CHECK(LoadErrorLines("endpoints:\n  - {name: a, path: a}\n") ==
        std::vector<std::string>{"scep.yaml:2: endpoints[0].path: expected a path starting with '/', got 'a'"});
  CHECK(LoadErrorLines("endpoints:\n  - {name: a, path: /a/}\n") ==
        std::vector<std::string>{"scep.yaml:2: endpoints[0].path: must not end with '/', got '/a/'"});
  CHECK(LoadErrorLines("endpoints:\n  - {name: a, path: \"/a?x=1\"}\n  - {name: b, path: \"/b#c\"}\n") ==
        std::vector<std::string>{
            "scep.yaml:2: endpoints[0].path: must not hold '?', '#', spaces or control characters, got '/a?x=1'",
            "scep.yaml:3: endpoints[1].path: must not hold '?', '#', spaces or control characters, got '/b#c'",
        });
  CHECK(LoadErrorLines("endpoints:\n  - name: a\n    path: /x\n  - name: b\n    path: /x\n") ==
        std::vector<std::string>{"scep.yaml:5: endpoints[1].path: duplicate path '/x' (also endpoints[0])"});
  // Two endpoints without a path both sit at "/"; the second is pointed at by its item's line.
  CHECK(LoadErrorLines("endpoints:\n  - name: a\n  - name: b\n") ==
        std::vector<std::string>{"scep.yaml:3: endpoints[1].path: duplicate path '/' (also endpoints[0])"});
  const std::vector<std::pair<std::string, std::string>> reserved{
      {"/certsrv/mscep_admin", "/certsrv/mscep_admin"}, {"/certsrv/mscep_admin/x", "/certsrv/mscep_admin"},
      {"/api", "/api"}, {"/api/v1", "/api"}, {"/crl", "/crl"}, {"/crl/main", "/crl"},
      {"/healthz", "/healthz"}, {"/metrics", "/metrics"}};
  for (const auto& [path, under] : reserved) {
    CHECK(LoadErrorLines("endpoints:\n  - {name: a, path: \"" + path + "\"}\n") ==
          std::vector<std::string>{"scep.yaml:2: endpoints[0].path: '" + path + "' is under " + under +
                                   ", which the gateway keeps for its admin pages, CRLs and probes"});
  }
}

TEST_CASE("each endpoint's own keys get the top-level checks, keyed under endpoints[i]") {
  const std::vector<std::string> lines = LoadErrorLines(R"(endpoints:
  - name: a
    path: /a
    challenge:
      mode: webhook
    ra: {mode: none}
    ca:
      key: "ec:p256"
      validity_days: 400
    certificate: {validity_days: 500}
    templates:
      signature:
        extended_key_usage: [clientauth]
  - name: b
    path: /b
    policy:
      key_types: ["rsa:512"]
      subject: ["CN=*"]
    ca: {subject: "nonsense"}
)");
  REQUIRE(lines.size() == 7);
  CHECK(lines[0] == "scep.yaml:5: endpoints[0].challenge.mode: mode webhook needs policy.webhook.url");
  CHECK(lines[1] ==
        "scep.yaml:6: endpoints[0].ra.mode: an EC CA cannot decrypt SCEP requests: use ra.mode auto, single or split");
  CHECK(lines[2] == "scep.yaml:10: endpoints[0].certificate.validity_days: must not exceed ca.validity_days (400), "
                    "got 500");
  CHECK(lines[3] == "scep.yaml:13: endpoints[0].templates.signature.extended_key_usage[0]: expected one of "
                    "serverAuth|clientAuth|codeSigning|emailProtection|timeStamping|OCSPSigning|ipsecIKE or a dotted "
                    "OID such as 1.3.6.1.5.5.7.3.2, got 'clientauth' (did you mean 'clientAuth'?)");
  CHECK(lines[4] == "scep.yaml:19: endpoints[1].ca.subject: expected a distinguished name like 'CN=SCEP Gateway "
                    "CA,O=Example'; part 1 'nonsense' is not KEY=VALUE");
  CHECK(lines[5].starts_with("scep.yaml:18: endpoints[1].policy.subject[0]: invalid regular expression '*': "));
  CHECK(lines[6] == "scep.yaml:17: endpoints[1].policy.key_types[0]: expected rsa:BITS (1024 to 16384) or one of "
                    "ec:p256|ec:p384|ec:p521, got 'rsa:512'");
}

TEST_CASE("an endpoint inheriting values that fail only with its own CA is reported at the endpoint") {
  // The top-level ra.mode none is fine with the RSA gateway CA, but not with this endpoint's EC CA.
  CHECK(LoadErrorLines("ra: {mode: none}\nendpoints:\n  - name: ec\n    path: /ec\n    ca: {key: \"ec:p384\"}\n") ==
        std::vector<std::string>{"scep.yaml:3: endpoints[0].ra.mode: an EC CA cannot decrypt SCEP requests: use "
                                 "ra.mode auto, single or split"});
  // An endpoint fixing what the top level gets wrong does not hide the top-level error: those are the defaults.
  CHECK(LoadErrorLines("ca: {key: \"ec:p256\"}\nra: {mode: none}\n"
                       "endpoints:\n  - {name: a, path: /a, ra: {mode: auto}}\n") ==
        std::vector<std::string>{"scep.yaml:2: ra.mode: an EC CA cannot decrypt SCEP requests: use ra.mode auto, "
                                 "single or split"});
}

TEST_CASE("ValidateConfig checks endpoints built in code, with line 0") {
  config::GatewayConfig c;
  config::EndpointConfig a;
  a.name = "a";
  a.path = "/api/scep";
  a.policy.approval = "later";
  config::EndpointConfig b = a;
  b.path = "/b";
  b.ca = config::CaConfig{};
  b.ca->key = "ec:p256";
  b.ra.mode = "none";
  c.endpoints = {a, b};
  CHECK(ErrorLines(config::ValidateConfig(c, "cli")) ==
        std::vector<std::string>{
            "cli: endpoints[0].policy.approval: expected one of auto|manual, got 'later'",
            "cli: endpoints[1].ra.mode: an EC CA cannot decrypt SCEP requests: use ra.mode auto, single or split",
            "cli: endpoints[1].policy.approval: expected one of auto|manual, got 'later'",
            "cli: endpoints[0].path: '/api/scep' is under /api, which the gateway keeps for its admin pages, CRLs and "
            "probes",
            "cli: endpoints[1].name: duplicate name 'a' (also endpoints[0])",
        });
}
