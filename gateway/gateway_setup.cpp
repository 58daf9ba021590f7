#include "gateway/gateway_setup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "scep/algorithms.h"

namespace gateway {
namespace {

scep::Error Fail(std::string detail) { return scep::MakeError(scep::ErrorCode::Internal, std::move(detail)); }

std::string JoinErrors(const std::vector<config::ConfigError>& errors) {
  std::string text;
  for (const auto& e : errors) text += (text.empty() ? "" : "\n") + e.ToString();
  return text;
}

// The generated challenge lives in the data dir (mode 0600), so it survives restarts and only root/owner reads it.
scep::Result<std::string> LoadOrCreateChallenge(const std::string& data_dir, bool* created) {
  const std::string path = data_dir + "/challenge";
  std::ifstream in(path);
  std::string secret;
  if (in && std::getline(in, secret) && !secret.empty()) return secret;
  unsigned char random[16];
  if (RAND_bytes(random, sizeof random) != 1) return Fail("no random bytes for the challenge");
  secret = scep::ToHex(random);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Fail("cannot write " + path);
  const std::string line = secret + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Fail("cannot write " + path);
  *created = true;
  return secret;
}

scep::Result<void> MakeChallenge(Gateway& gw) {
  const auto& c = gw.config.challenge;
  if (c.mode == "none") {
    gw.challenge = MakeNoChallenge();
    gw.challenge_note = "challenge mode 'none': ANY client can enroll. Use this only in a lab.";
    return {};
  }
  if (!c.secret.empty()) {
    gw.challenge = MakeStaticChallenge(c.secret);
    gw.challenge_note = "challenge mode 'static' with the configured secret";
    return {};
  }
  bool created = false;
  auto secret = LoadOrCreateChallenge(gw.config.data_dir, &created);
  if (!secret) return secret.error();
  gw.challenge = MakeStaticChallenge(*secret);
  gw.challenge_note = "challenge mode 'static' with the password kept in " + gw.config.data_dir + "/challenge";
  if (created) gw.generated_challenge = *secret;
  return {};
}

ScepServiceOptions ServiceOptions(const config::GatewayConfig& cfg) {
  ScepServiceOptions o;
  o.cert_template.validity_days = cfg.certificate.validity_days;
  o.cert_template.key_usage = cfg.certificate.key_usage;
  o.cert_template.extended_key_usage = cfg.certificate.extended_key_usage;
  o.cert_template.crl_distribution_points = cfg.certificate.crl_distribution_points;
  o.cert_template.ca_issuers_urls = cfg.certificate.ca_issuers_urls;
  o.allow_single_des = cfg.scep.allow_single_des;
  o.include_ca_cert_in_reply = cfg.scep.include_ca_cert_in_reply;
  return o;
}

}  // namespace

scep::Result<config::GatewayConfig> LoadEffectiveConfig(const ConfigOverrides& overrides) {
  config::GatewayConfig cfg;
  std::string file = "(defaults)";
  if (overrides.config_file) {
    file = *overrides.config_file;
    auto loaded = config::LoadConfigFile(file);
    if (!loaded.ok()) return Fail(JoinErrors(loaded.errors));
    cfg = std::move(loaded.config);
  }
  if (overrides.listen) cfg.listen = *overrides.listen;
  if (overrides.data_dir) cfg.data_dir = *overrides.data_dir;
  if (overrides.log_format) cfg.log.format = *overrides.log_format;
  if (overrides.challenge) {
    cfg.challenge.mode = "static";
    cfg.challenge.secret = *overrides.challenge;
  }
  if (auto errors = config::ValidateConfig(cfg, file); !errors.empty()) return Fail(JoinErrors(errors));
  return cfg;
}

std::string StorePath(const config::GatewayConfig& cfg) {
  return cfg.store.path.empty() ? cfg.data_dir + "/store.sqlite" : cfg.store.path;
}

scep::Result<bool> EnsureCa(const config::GatewayConfig& cfg) {
  if (ca::EmbeddedCa::Exists(cfg.data_dir)) return false;
  auto key = ca::ParseKeySpec(cfg.ca.key);
  if (!key) return Fail("ca.key: unknown key type '" + cfg.ca.key + "'");
  ca::CaInitOptions init{cfg.ca.subject, *key, cfg.ca.validity_days};
  if (auto made = ca::EmbeddedCa::Init(cfg.data_dir, init); !made) return made.error();
  return true;
}

scep::Result<std::unique_ptr<Gateway>> BuildGateway(const config::GatewayConfig& cfg) {
  auto gw = std::make_unique<Gateway>();
  gw->config = cfg;
  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) return Fail("cannot create data dir " + cfg.data_dir + ": " + ec.message());
  ::chmod(cfg.data_dir.c_str(), 0700);
  auto created = EnsureCa(cfg);
  if (!created) return created.error();
  if (*created) spdlog::info("created the embedded CA ({}, {}) in {}", cfg.ca.subject, cfg.ca.key, cfg.data_dir);
  auto ca = ca::EmbeddedCa::Open(cfg.data_dir);
  if (!ca) return ca.error();
  gw->ca = std::move(*ca);
  auto store = SqliteCertStore::Open(StorePath(cfg));
  if (!store) return store.error();
  gw->store = std::move(*store);
  if (auto challenge = MakeChallenge(*gw); !challenge) return challenge.error();
  if (cfg.scep.allow_single_des) {
    if (auto des = scep::EnableSingleDes(); !des) return des.error();
    spdlog::warn("single DES is accepted (scep.allow_single_des: true): OpenSSL's legacy provider is loaded for "
                 "old devices and micromdm's scepclient; set it to false to refuse DES with badAlg");
  }
  gw->service = std::make_unique<ScepService>(*gw->ca, *gw->store, *gw->challenge, ServiceOptions(cfg));
  return gw;
}

}  // namespace gateway
