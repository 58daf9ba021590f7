// Building a running gateway from its configuration: data dir, challenge, CA, store, service.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "ca-backend/embedded_ca.h"
#include "config/gateway_config.h"
#include "gateway/scep_service.h"
#include "gateway/sqlite_cert_store.h"

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

// Creates the embedded CA from cfg.ca in the data dir unless one is there already.
[[nodiscard]] scep::Result<bool> EnsureCa(const config::GatewayConfig& cfg);

struct Gateway {
  config::GatewayConfig config;
  std::unique_ptr<ca::EmbeddedCa> ca;
  std::unique_ptr<SqliteCertStore> store;
  std::unique_ptr<ChallengeVerifier> challenge;
  std::unique_ptr<ScepService> service;
  std::string challenge_note;       // what to tell the operator about the challenge at start-up (no secret)
  std::string generated_challenge;  // set on the first start only, to be shown once on the terminal, not logged
};

[[nodiscard]] scep::Result<std::unique_ptr<Gateway>> BuildGateway(const config::GatewayConfig& cfg);

}  // namespace gateway
