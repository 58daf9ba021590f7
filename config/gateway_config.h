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

// NDES-style one-time passwords (challenge.mode ndes-one-time).
struct OneTimeChallengeConfig {
  int max_outstanding = 5;    // 1..10000: unused, unexpired passwords per endpoint; beyond it "cache is full"
  int validity_minutes = 60;  // 1..10080
};

struct ChallengeConfig {
  // static: one shared secret; ndes-one-time: passwords fetched from /certsrv/mscep_admin/ or the JSON API, each
  // good for one enrollment; webhook: policy.webhook decides (it receives the challenge); none: anyone (labs only).
  std::string mode = "static";  // static|ndes-one-time|webhook|none
  std::string secret;           // static: empty = generated once and kept in the data dir
  OneTimeChallengeConfig one_time;
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
  // The template's own subject rules, "CN=regex" as policy.subject, checked besides it when this template is chosen.
  std::vector<std::string> subject;
  // auto|manual for requests that get this template; empty = policy.approval.
  std::string approval;
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

// Registration authority certificates (NDES publishes CA + a signing RA + an encryption RA).
struct RaConfig {
  // auto: an RA only when the CA key cannot decrypt (EC CA), as before; none: CA-only (refused for an EC CA);
  // single: one RA with digitalSignature+keyEncipherment; split: a signing RA and an encryption RA, as NDES does.
  std::string mode = "auto";  // auto|none|single|split
  std::string subject;        // RA subject DN; empty = "CN=<CA common name> RA" (split adds " Signing"/" Encryption")
};

// A webhook that decides enrollments (and can validate dynamic challenges). Empty url = none.
struct WebhookConfig {
  std::string url;                      // http:// or https:// URL; POST JSON, answer {"decision": ..., "reason": ...}
  int timeout_seconds = 5;              // 1..300, per attempt
  int retries = 2;                      // 0..10 further attempts after a failed one (transport error or 5xx)
  std::string on_unavailable = "deny";  // issue|deny|pend: the answer when every attempt failed
};

// What a request must look like, and what the CA may change. Empty lists mean "no rule".
struct PolicyConfig {
  std::vector<std::string> subject;             // "CN=^[a-z0-9-]+\\.corp\\.example$": that RDN must be present, every value matching
  std::vector<std::string> force_subject;       // "O=Example": replaces (or adds) that RDN in the issued certificate
  std::vector<std::string> required_san_types;  // DNS|IP|email|URI: at least one SAN of each
  std::vector<std::string> san_patterns;        // "DNS=regex" ...: allowed SANs; none listed = any SAN allowed
  std::string disallowed_sans = "refuse";       // refuse|drop: a SAN no pattern allows
  std::vector<std::string> key_types{"rsa:2048", "ec:p256", "ec:p384"};  // rsa:N = RSA of at least N bits
  std::vector<std::string> allowed_key_usages;           // requested keyUsage names; empty = any
  std::vector<std::string> allowed_extended_key_usages;  // requested EKU names or OIDs; empty = any
  int max_validity_days = 0;                    // 0 = no cap beyond the template (and the CA's own expiry)
  std::string approval = "auto";                // auto|manual: manual = PENDING until an admin decides
  int pending_expiry_hours = 168;               // 1..87600: a pending request is denied after this
  WebhookConfig webhook;
};

// Certificate profiles chosen by the CSR's requested keyUsage, as NDES's SignatureTemplate / EncryptionTemplate /
// GeneralPurposeTemplate. A kind not given uses `certificate` (the general-purpose template).
struct TemplatesConfig {
  std::optional<CertificateConfig> signature;   // CSR asks for signature usages only
  std::optional<CertificateConfig> encryption;  // CSR asks for encipherment/agreement usages only
};

struct CrlConfig {
  int next_update_hours = 168;  // 1..87600: nextUpdate of CRLs served by GetCRL and /crl/<ca>.crl
};

struct RenewalConfig {
  int window_days = 0;             // 0 = any time; N = only within N days of the old certificate's notAfter
  bool revoke_superseded = true;   // revoke the renewed certificate (reason superseded) once the new one is stored
};

struct AdminConfig {
  std::string users_file;    // empty = <data_dir>/users (scep-gateway users add|list|remove)
  bool require_tls = false;  // true: the admin pages and APIs answer only over the HTTPS listener
};

struct NotificationsConfig {
  std::vector<std::string> webhooks;  // http(s) URLs that receive every event (issued, denied, pending, revoked)
  int retry_seconds = 30;             // 1..3600: wait between delivery attempts of a failed event
};

// One SCEP service under a path prefix. Every key not given here takes the top-level value of the same name.
struct EndpointConfig {
  std::string name;        // [A-Za-z0-9._-]+, unique; GetCACert?message=NAME selects this endpoint
  std::string path = "/";  // path prefix, "/" or "/x/y" (no trailing slash); the longest matching prefix wins
  ChallengeConfig challenge;
  RaConfig ra;
  CertificateConfig certificate;
  TemplatesConfig templates;
  PolicyConfig policy;
  bool include_ca_cert_in_reply = false;
  // Given: this endpoint has its own embedded CA in <data_dir>/endpoints/<name>/; absent: the gateway's CA.
  std::optional<CaConfig> ca;
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
  RaConfig ra;
  TemplatesConfig templates;
  PolicyConfig policy;
  CrlConfig crl;
  RenewalConfig renewal;
  AdminConfig admin;
  NotificationsConfig notifications;
  // Empty: one endpoint named "default" at "/" made of the top-level keys (see Endpoints()).
  std::vector<EndpointConfig> endpoints;
};

// The endpoints to serve: cfg.endpoints, or the single implicit "default" endpoint at "/" built from the top-level
// challenge, ra, certificate, templates, policy and scep.include_ca_cert_in_reply.
[[nodiscard]] std::vector<EndpointConfig> Endpoints(const GatewayConfig& cfg);

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
