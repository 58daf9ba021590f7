// Loading YAML into GatewayConfig: defaults, every field, and how errors name file, line and key.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "tests/support/config_errors.h"

using test::ErrorLines;

namespace {

void CheckDefaults(const config::GatewayConfig& c) {
  CHECK(c.listen == "0.0.0.0:8080");
  CHECK(c.data_dir == "./scep-data");
  CHECK(c.log.level == "info");
  CHECK(c.log.format == "text");
  CHECK(c.http.max_body_bytes == 1048576);
  CHECK(c.http.max_url_bytes == 65536);
  CHECK(c.http.read_timeout_seconds == 30);
  CHECK(c.http.worker_threads == 32);
  CHECK(c.http.io_threads == 2);
  CHECK(c.scep.allow_single_des);
  CHECK_FALSE(c.scep.include_ca_cert_in_reply);
  CHECK(c.challenge.mode == "static");
  CHECK(c.challenge.secret.empty());
  CHECK(c.ca.subject == "CN=SCEP Gateway CA");
  CHECK(c.ca.key == "rsa:3072");
  CHECK(c.ca.validity_days == 3650);
  CHECK(c.certificate.validity_days == 365);
  CHECK(c.certificate.key_usage == std::vector<std::string>{"digitalSignature", "keyEncipherment"});
  CHECK(c.certificate.extended_key_usage == std::vector<std::string>{"clientAuth"});
  CHECK(c.certificate.crl_distribution_points.empty());
  CHECK(c.certificate.ca_issuers_urls.empty());
  CHECK(c.store.path.empty());
}

constexpr const char* kFullFile = R"(# every key, none at its default
listen: "[::1]:9443"
data_dir: /var/lib/scep
log:
  level: debug
  format: json
http:
  max_body_bytes: 2048
  max_url_bytes: 16384
  read_timeout_seconds: 10
  worker_threads: 8
  io_threads: 4
scep:
  allow_single_des: false
  include_ca_cert_in_reply: true
challenge:
  mode: none
  secret: s3cret
ca:
  subject: "CN=Test CA,O=Example,C=DE"
  key: ec:p384
  validity_days: 7300
certificate:
  validity_days: 90
  key_usage: [digitalSignature]
  extended_key_usage:
    - serverAuth
    - 1.3.6.1.5.5.7.3.2
  crl_distribution_points: ["http://crl.example.com/ca.crl"]
  ca_issuers_urls: ["https://pki.example.com/ca.crt"]
store:
  path: /tmp/store.sqlite
)";

}  // namespace

TEST_CASE("an empty file, or one with only comments, gives the defaults") {
  for (const char* text : {"", "\n\n", "# nothing here\n  # still nothing\n", "---\n"}) {
    const config::LoadResult result = config::LoadConfigString(text, "scep.yaml");
    CHECK_MESSAGE(result.ok(), text);
    CheckDefaults(result.config);
  }
}

TEST_CASE("the defaults pass validation") {
  CHECK(config::ValidateConfig(config::GatewayConfig{}, "defaults").empty());
}

TEST_CASE("a section left empty keeps its defaults") {
  const config::LoadResult result = config::LoadConfigString("log:\nhttp:\n  # io_threads: 3\n", "scep.yaml");
  CHECK(result.ok());
  CheckDefaults(result.config);
}

TEST_CASE("a file with every key reads into every field") {
  const config::LoadResult result = config::LoadConfigString(kFullFile, "scep.yaml");
  REQUIRE_MESSAGE(result.ok(), (result.ok() ? "" : result.errors.front().ToString()));
  const config::GatewayConfig& c = result.config;
  CHECK(c.listen == "[::1]:9443");
  CHECK(c.data_dir == "/var/lib/scep");
  CHECK(c.log.level == "debug");
  CHECK(c.log.format == "json");
  CHECK(c.http.max_body_bytes == 2048);
  CHECK(c.http.max_url_bytes == 16384);
  CHECK(c.http.read_timeout_seconds == 10);
  CHECK(c.http.worker_threads == 8);
  CHECK(c.http.io_threads == 4);
  CHECK_FALSE(c.scep.allow_single_des);
  CHECK(c.scep.include_ca_cert_in_reply);
  CHECK(c.challenge.mode == "none");
  CHECK(c.challenge.secret == "s3cret");
  CHECK(c.ca.subject == "CN=Test CA,O=Example,C=DE");
  CHECK(c.ca.key == "ec:p384");
  CHECK(c.ca.validity_days == 7300);
  CHECK(c.certificate.validity_days == 90);
  CHECK(c.certificate.key_usage == std::vector<std::string>{"digitalSignature"});
  CHECK(c.certificate.extended_key_usage == std::vector<std::string>{"serverAuth", "1.3.6.1.5.5.7.3.2"});
  CHECK(c.certificate.crl_distribution_points == std::vector<std::string>{"http://crl.example.com/ca.crl"});
  CHECK(c.certificate.ca_issuers_urls == std::vector<std::string>{"https://pki.example.com/ca.crt"});
  CHECK(c.store.path == "/tmp/store.sqlite");
}

TEST_CASE("an empty list replaces the default list") {
  const config::LoadResult result = config::LoadConfigString("certificate:\n  extended_key_usage: []\n", "s.yaml");
  CHECK(result.ok());
  CHECK(result.config.certificate.extended_key_usage.empty());
}

TEST_CASE("unknown keys are reported at the key's line, with a suggestion when one is close") {
  const config::LoadResult result =
      config::LoadConfigString("listne: 0.0.0.0:80\nhttp:\n  io_threads: 2\n  wrker_threads: 4\nzzz: 1\n", "scep.yaml");
  CHECK(ErrorLines(result) == std::vector<std::string>{
                             "scep.yaml:1: listne: unknown key 'listne' (did you mean 'listen'?)",
                             "scep.yaml:4: http.wrker_threads: unknown key 'wrker_threads' (did you mean "
                             "'worker_threads'?)",
                             "scep.yaml:5: zzz: unknown key 'zzz'",
                         });
}

TEST_CASE("a wrong type names the value's line, what was expected and what was found") {
  const config::LoadResult result = config::LoadConfigString("ca:\n  key: rsa:2048\n  validity_days: ten\n", "scep.yaml");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].file == "scep.yaml");
  CHECK(result.errors[0].line == 3);
  CHECK(result.errors[0].key == "ca.validity_days");
  CHECK(result.errors[0].ToString() == "scep.yaml:3: ca.validity_days: expected a positive integer, got 'ten'");
  CHECK(result.config.ca.validity_days == 3650);  // the default stays
  CHECK(result.config.ca.key == "rsa:2048");      // the rest is still read
}

TEST_CASE("each kind of wrong type has its own message") {
  const config::LoadResult result = config::LoadConfigString(R"(log: verbose
http:
  max_body_bytes: -5
  worker_threads: 99999999999
scep:
  allow_single_des: yes
certificate:
  key_usage: digitalSignature
  extended_key_usage:
    - {name: clientAuth}
challenge:
  secret:
store:
  path: [a, b]
)",
                                                             "scep.yaml");
  CHECK(ErrorLines(result) ==
        std::vector<std::string>{
            "scep.yaml:1: log: expected a mapping, got 'verbose'",
            "scep.yaml:3: http.max_body_bytes: expected a positive integer, got '-5'",
            "scep.yaml:4: http.worker_threads: expected a positive integer no larger than 2147483647, got "
            "'99999999999'",
            "scep.yaml:6: scep.allow_single_des: expected true or false, got 'yes'",
            "scep.yaml:8: certificate.key_usage: expected a list of strings, got 'digitalSignature'",
            "scep.yaml:10: certificate.extended_key_usage[0]: expected a list of strings, got a mapping as an item",
            "scep.yaml:12: challenge.secret: expected a string, got an empty value (write \"\" for an empty string)",
            "scep.yaml:14: store.path: expected a string, got a list",
        });
}

TEST_CASE("booleans accept the YAML 1.2 spellings only") {
  const config::LoadResult result =
      config::LoadConfigString("scep:\n  allow_single_des: FALSE\n  include_ca_cert_in_reply: True\n", "s.yaml");
  CHECK(result.ok());
  CHECK_FALSE(result.config.scep.allow_single_des);
  CHECK(result.config.scep.include_ca_cert_in_reply);
}

TEST_CASE("syntax, type and semantic errors all come back from one load") {
  const config::LoadResult result = config::LoadConfigString(R"(listen: nowhere
log:
  level: loud
  colour: true
http:
  io_threads: many
certificate:
  validity_days: 0
)",
                                                             "gw.yaml");
  CHECK(ErrorLines(result) == std::vector<std::string>{
                             "gw.yaml:4: log.colour: unknown key 'colour'",
                             "gw.yaml:6: http.io_threads: expected a positive integer, got 'many'",
                             "gw.yaml:1: listen: expected HOST:PORT such as 0.0.0.0:8080 or [::1]:8080, got 'nowhere'",
                             "gw.yaml:3: log.level: expected one of trace|debug|info|warn|error, got 'loud'",
                             "gw.yaml:8: certificate.validity_days: must be at least 1, got 0",
                         });
}

TEST_CASE("a duplicate key is an error at its second line") {
  const config::LoadResult result = config::LoadConfigString("listen: a:1\ndata_dir: x\nlisten: b:2\n", "s.yaml");
  CHECK(ErrorLines(result) ==
        std::vector<std::string>{"s.yaml:3: listen: duplicate key 'listen' (first given on line 1)"});
}

TEST_CASE("a top level that is not a mapping is an error") {
  const config::LoadResult result = config::LoadConfigString("- listen\n- data_dir\n", "s.yaml");
  CHECK(ErrorLines(result) == std::vector<std::string>{"s.yaml:1: expected a mapping, got a list"});
}

TEST_CASE("a YAML syntax error is one error at yaml-cpp's line, made 1-based") {
  const config::LoadResult result = config::LoadConfigString("listen: a:1\nlog:\n  level: [debug,\n", "s.yaml");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].line == 4);
  CHECK(result.errors[0].key.empty());
  CHECK(result.errors[0].ToString().starts_with("s.yaml:4: invalid YAML: "));
  CheckDefaults(result.config);
}

TEST_CASE("more than one YAML document is an error") {
  const config::LoadResult result = config::LoadConfigString("listen: a:1\n---\nlisten: b:2\n", "s.yaml");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].message == "expected a single YAML document, found 2");
}

TEST_CASE("LoadConfigFile reads a file and names it in errors") {
  const std::filesystem::path path = std::filesystem::temp_directory_path() / "config_test_scep.yaml";
  {
    std::ofstream out(path);
    out << "listen: 127.0.0.1:0\nca:\n  validity_days: ten\n";
  }
  const config::LoadResult result = config::LoadConfigFile(path.string());
  std::filesystem::remove(path);
  CHECK(result.config.listen == "127.0.0.1:0");
  CHECK(ErrorLines(result) == std::vector<std::string>{path.string() +
                                                  ":3: ca.validity_days: expected a positive integer, got 'ten'"});
}

TEST_CASE("an unreadable file is one error naming the file") {
  const std::string missing = (std::filesystem::temp_directory_path() / "no-such-dir/scep.yaml").string();
  const config::LoadResult result = config::LoadConfigFile(missing);
  CHECK(ErrorLines(result) == std::vector<std::string>{missing + ": cannot read file: No such file or directory"});

  const config::LoadResult directory = config::LoadConfigFile(SCEP_SOURCE_DIR);
  CHECK(ErrorLines(directory) == std::vector<std::string>{std::string(SCEP_SOURCE_DIR) +
                                                     ": cannot read file: it is a directory"});
}

TEST_CASE("ConfigError::ToString leaves out an unknown line and an empty key") {
  CHECK(config::ConfigError{"a.yaml", 12, "ca.key", "bad"}.ToString() == "a.yaml:12: ca.key: bad");
  CHECK(config::ConfigError{"a.yaml", 0, "ca.key", "bad"}.ToString() == "a.yaml: ca.key: bad");
  CHECK(config::ConfigError{"a.yaml", 0, "", "bad"}.ToString() == "a.yaml: bad");
}

TEST_CASE("every YAML example in README.md and examples/ loads without errors") {
  std::ifstream in(std::string(SCEP_SOURCE_DIR) + "/README.md");
  REQUIRE(in);
  std::vector<std::string> blocks;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == "```yaml") {
      inside = true;
      blocks.emplace_back();
    } else if (inside && line == "```") {
      inside = false;
    } else if (inside) {
      blocks.back() += line + "\n";
    }
  }
  REQUIRE_FALSE(blocks.empty());
  for (const std::string& yaml : blocks) {
    const config::LoadResult result = config::LoadConfigString(yaml, "README.md");
    CHECK(ErrorLines(result).empty());
  }
  // The blocks really were read: the Example section's CA key, and the endpoint list of the reference.
  bool example_seen = false;
  bool endpoints_seen = false;
  for (const std::string& yaml : blocks) {
    const config::GatewayConfig c = config::LoadConfigString(yaml, "README.md").config;
    example_seen = example_seen || c.ca.key == "ec:p384";
    endpoints_seen = endpoints_seen || c.endpoints.size() >= 2;
  }
  CHECK(example_seen);
  CHECK(endpoints_seen);
  const config::LoadResult example = config::LoadConfigFile(std::string(SCEP_SOURCE_DIR) + "/examples/scep.yaml");
  CHECK(ErrorLines(example).empty());
  const config::LoadResult ndes = config::LoadConfigFile(std::string(SCEP_SOURCE_DIR) + "/examples/ndes.yaml");
  CHECK(ErrorLines(ndes).empty());
  const auto endpoints = config::Endpoints(ndes.config);
  REQUIRE(endpoints.size() == 1);
  CHECK(endpoints[0].path == "/certsrv/mscep");
  CHECK(endpoints[0].challenge.mode == "ndes-one-time");
  CHECK(endpoints[0].ra.mode == "split");
  CHECK(endpoints[0].templates.signature.has_value());
  CHECK(endpoints[0].templates.encryption.has_value());
}
