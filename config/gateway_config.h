// The gateway's YAML configuration as plain structs, plus loading and validation.
//
// Loading never throws: every problem (syntax, unknown key, wrong type, out-of-range value) comes back at once in
// LoadResult::errors, each naming the file, the 1-based line and the dotted key. Any error must stop start-up.
// README.md ("Configuration reference") documents every key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace config {

struct LogConfig {
  std::string level = "info";   // trace|debug|info|warn|error
  std::string format = "text";  // text|json
};

struct HttpConfig {
  std::size_t max_body_bytes = 1048576;  // >= 1024
  std::size_t max_url_bytes = 65536;     // >= 8192
  int read_timeout_seconds = 30;         // 1..3600
  int worker_threads = 32;               // 1..1024
  int io_threads = 2;                    // 1..64
};

struct ScepConfig {
  bool allow_single_des = true;
  bool include_ca_cert_in_reply = false;
};

struct ChallengeConfig {
  std::string mode = "static";  // static|none
  std::string secret;           // static: empty = generated once and kept in the data dir
};

struct CaConfig {
  std::string subject = "CN=SCEP Gateway CA";  // "KEY=VALUE,KEY=VALUE"
  std::string key = "rsa:3072";                // rsa:2048|rsa:3072|rsa:4096|ec:p256|ec:p384
  int validity_days = 3650;                    // >= 1
};

struct CertificateConfig {
  int validity_days = 365;  // 1..ca.validity_days
  std::vector<std::string> key_usage{"digitalSignature", "keyEncipherment"};
  std::vector<std::string> extended_key_usage{"clientAuth"};  // names or dotted OIDs
  std::vector<std::string> crl_distribution_points;           // http:// or https:// URLs
  std::vector<std::string> ca_issuers_urls;                   // http:// or https:// URLs
};

struct TlsConfig {
  std::string listen;     // HOST:PORT of an HTTPS listener; empty = none
  std::string cert_file;  // PEM certificate (chain) for it
  std::string key_file;   // PEM private key for it
};

struct MetricsConfig {
  bool enabled = true;
  std::string listen;     // a separate admin HOST:PORT for /metrics; empty = served beside SCEP
};

struct StoreConfig {
  std::string path;  // empty = <data_dir>/store.sqlite
};

struct GatewayConfig {
  std::string listen = "0.0.0.0:8080";  // HOST:PORT; [v6]:port allowed
  std::string data_dir = "./scep-data";
  LogConfig log;
  HttpConfig http;
  ScepConfig scep;
  ChallengeConfig challenge;
  CaConfig ca;
  CertificateConfig certificate;
  StoreConfig store;
  TlsConfig tls;
  MetricsConfig metrics;
};

struct ConfigError {
  std::string file;     // as given by the caller
  int line = 0;         // 1-based, 0 = unknown
  std::string key;      // dotted path such as "ca.validity_days"; list items as "certificate.key_usage[1]"
  std::string message;  // one sentence, no trailing period

  // "scep.yaml:12: ca.validity_days: expected a positive integer, got 'ten'"; the line is left out when 0 and the
  // key when empty ("scep.yaml: cannot read file: No such file or directory").
  std::string ToString() const;
};

struct LoadResult {
  GatewayConfig config;  // defaults wherever a key was missing or wrong
  std::vector<ConfigError> errors;
  bool ok() const { return errors.empty(); }
};

// Reads, parses and validates a YAML file. An unreadable file gives one error naming the file.
[[nodiscard]] LoadResult LoadConfigFile(const std::string& path);

// Same as LoadConfigFile on text already in memory; `file_name` is only used in errors.
[[nodiscard]] LoadResult LoadConfigString(const std::string& yaml, const std::string& file_name);

// The semantic checks alone (ranges, sets, shapes, cross-field rules), for the defaults or after command-line
// overrides. Errors carry line 0.
[[nodiscard]] std::vector<ConfigError> ValidateConfig(const GatewayConfig& config, const std::string& file_name);

struct HostPort {
  std::string host;  // without brackets: "[::1]:80" gives "::1"
  std::uint16_t port = 0;
};

// "0.0.0.0:8080", "[::1]:80", "localhost:0" (port 0 = any free port). IPv6 addresses need brackets.
[[nodiscard]] std::optional<HostPort> ParseHostPort(std::string_view text);

}  // namespace config
