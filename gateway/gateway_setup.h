// Building a running gateway from its configuration: data dir, challenge, CA, store, service.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "ca-backend/embedded_ca.h"
#include "config/gateway_config.h"
#include "gateway/audit_log.h"
#include "gateway/scep_service.h"
#include "gateway/sqlite_cert_store.h"
#include "gateway/sqlite_challenge_store.h"
#include "gateway/sqlite_request_store.h"

namespace gateway {

// Command-line flags that override the config file.
struct ConfigOverrides {
  std::optional<std::string> config_file;
  std::optional<std::string> listen;
  std::optional<std::string> data_dir;
  std::optional<std::string> challenge;
  std::optional<std::string> log_format;
};

// The config file (if any) with the flags applied and everything validated. On failure returns every problem,
// one per line, each naming file, line and key.
[[nodiscard]] scep::Result<config::GatewayConfig> LoadEffectiveConfig(const ConfigOverrides& overrides);

[[nodiscard]] std::string StorePath(const config::GatewayConfig& cfg);

// Creates the embedded CA from `ca` in `dir` unless one is there already.
[[nodiscard]] scep::Result<bool> EnsureCa(const std::string& dir, const config::CaConfig& ca);

// One SCEP endpoint and everything that is its own: CA (or a view of the shared one with its RA mode), challenge,
// policy, webhook, service.
struct Endpoint {
  config::EndpointConfig config;
  std::string ca_name;  // "ca" for the gateway's CA, the endpoint name for its own; its CRL is /crl/<ca_name>.crl
  std::unique_ptr<ca::EmbeddedCa> ca;
  std::unique_ptr<ChallengeVerifier> challenge;
  std::unique_ptr<EnrollmentPolicy> policy;
  std::unique_ptr<PolicyWebhook> webhook;
  std::unique_ptr<ScepService> service;
  std::string challenge_note;  // what to tell the operator at start-up (no secret)
};

// The stores of one gateway: all in one SQLite file. Opened by `serve` and by the admin subcommands alike.
struct Stores {
  std::unique_ptr<AuditLog> audit;  // first: destroyed last, after the certificate store's writer that appends to it
  std::unique_ptr<SqliteCertStore> certs;
  std::unique_ptr<SqliteChallengeStore> challenges;
  std::unique_ptr<SqliteRequestStore> requests;
};
[[nodiscard]] scep::Result<Stores> OpenStores(const config::GatewayConfig& cfg);

struct Gateway {
  config::GatewayConfig config;
  Stores stores;
  std::vector<std::unique_ptr<Endpoint>> endpoints;  // in config order; the first answers unmatched paths
  std::string generated_challenge;  // set on the first start only, to be shown once on the terminal, not logged
};

[[nodiscard]] scep::Result<std::unique_ptr<Gateway>> BuildGateway(const config::GatewayConfig& cfg);

[[nodiscard]] std::string UsersFile(const config::GatewayConfig& cfg);

}  // namespace gateway
