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

// The challenge of one endpoint. A static challenge without a configured secret uses the one generated once per
// data dir (shared by every such endpoint).
scep::Result<void> MakeChallenge(Gateway& gw, Endpoint& ep) {
  const auto& c = ep.config.challenge;
  if (c.mode == "none") {
    ep.challenge = MakeNoChallenge();
    ep.challenge_note = "challenge mode 'none': ANY client can enroll. Use this only in a lab.";
    return {};
  }
  if (c.mode == "ndes-one-time") {
    ep.challenge = MakeOneTimeChallenge(*gw.stores.challenges, ep.config.name);
    ep.challenge_note = "challenge mode 'ndes-one-time': passwords from /certsrv/mscep_admin/ or /api/v1/challenges";
    return {};
  }
  if (c.mode == "webhook") {
    ep.challenge = MakeWebhookChallenge();
    ep.challenge_note = "challenge mode 'webhook': " + ep.config.policy.webhook.url + " validates challenges";
    return {};
  }
  if (!c.secret.empty()) {
    ep.challenge = MakeStaticChallenge(c.secret);
    ep.challenge_note = "challenge mode 'static' with the configured secret";
    return {};
  }
  bool created = false;
  auto secret = LoadOrCreateChallenge(gw.config.data_dir, &created);
  if (!secret) return secret.error();
  ep.challenge = MakeStaticChallenge(*secret);
  ep.challenge_note = "challenge mode 'static' with the password kept in " + gw.config.data_dir + "/challenge";
  if (created) gw.generated_challenge = *secret;
  return {};
}

ca::RaOptions RaOptionsFor(const config::RaConfig& ra) {
  ca::RaOptions o;
  o.subject = ra.subject;
  if (ra.mode == "none") o.mode = ca::RaMode::None;
  if (ra.mode == "single") o.mode = ca::RaMode::Single;
  if (ra.mode == "split") o.mode = ca::RaMode::Split;
  return o;
}

ScepServiceOptions ServiceOptions(const config::GatewayConfig& cfg, const config::EndpointConfig& ep) {
  ScepServiceOptions o;
  o.endpoint = ep.name;
  o.allow_single_des = cfg.scep.allow_single_des;
  o.include_ca_cert_in_reply = ep.include_ca_cert_in_reply;
  o.crl_next_update = std::chrono::hours(cfg.crl.next_update_hours);
  o.pending_expiry = std::chrono::hours(ep.policy.pending_expiry_hours);
  o.renewal_window_days = cfg.renewal.window_days;
  o.revoke_superseded = cfg.renewal.revoke_superseded;
  return o;
}

scep::Result<std::unique_ptr<Endpoint>> BuildEndpoint(Gateway& gw, const config::EndpointConfig& ep_cfg) {
  auto ep = std::make_unique<Endpoint>();
  ep->config = ep_cfg;
  std::string ca_dir = gw.config.data_dir;
  ep->ca_name = "ca";
  if (ep_cfg.ca) {
    ca_dir = gw.config.data_dir + "/endpoints/" + ep_cfg.name;
    // EmbeddedCa::Init makes only the last directory level; the parent is the gateway's, owner-only like data_dir.
    std::error_code ec;
    if (std::filesystem::create_directories(gw.config.data_dir + "/endpoints", ec)) {
      ::chmod((gw.config.data_dir + "/endpoints").c_str(), 0700);
    }
    if (ec) return Fail("cannot create " + gw.config.data_dir + "/endpoints: " + ec.message());
    ep->ca_name = ep_cfg.name;
    auto created = EnsureCa(ca_dir, *ep_cfg.ca);
    if (!created) return created.error();
    if (*created) spdlog::info("created the CA of endpoint {} ({}) in {}", ep_cfg.name, ep_cfg.ca->subject, ca_dir);
  }
  auto ca = ca::EmbeddedCa::Open(ca_dir, RaOptionsFor(ep_cfg.ra));
  if (!ca) return scep::MakeError(ca.error().code, "endpoint " + ep_cfg.name + ": " + ca.error().ToString());
  ep->ca = std::move(*ca);
  if (auto challenge = MakeChallenge(gw, *ep); !challenge) return challenge.error();
  ep->policy = std::make_unique<EnrollmentPolicy>(ep_cfg);
  if (!ep_cfg.policy.webhook.url.empty()) ep->webhook = std::make_unique<PolicyWebhook>(ep_cfg.policy.webhook);
  ScepServiceParts parts{*ep->ca,           *gw.stores.certs, *gw.stores.requests, *ep->challenge,
                         *ep->policy,       ep->webhook.get(), *gw.stores.audit};
  ep->service = std::make_unique<ScepService>(parts, ServiceOptions(gw.config, ep_cfg));
  return ep;
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
  if (overrides.challenge) {  // every endpoint: they copied the top-level challenge when the file was read
    cfg.challenge.mode = "static";
    cfg.challenge.secret = *overrides.challenge;
    for (auto& ep : cfg.endpoints) ep.challenge = cfg.challenge;
  }
  if (auto errors = config::ValidateConfig(cfg, file); !errors.empty()) return Fail(JoinErrors(errors));
  return cfg;
}

std::string StorePath(const config::GatewayConfig& cfg) {
  return cfg.store.path.empty() ? cfg.data_dir + "/store.sqlite" : cfg.store.path;
}

scep::Result<bool> EnsureCa(const std::string& dir, const config::CaConfig& ca) {
  if (ca::EmbeddedCa::Exists(dir)) return false;
  auto key = ca::ParseKeySpec(ca.key);
  if (!key) return Fail("ca.key: unknown key type '" + ca.key + "'");
  ca::CaInitOptions init{ca.subject, *key, ca.validity_days};
  if (auto made = ca::EmbeddedCa::Init(dir, init); !made) return made.error();
  return true;
}

std::string UsersFile(const config::GatewayConfig& cfg) {
  return cfg.admin.users_file.empty() ? cfg.data_dir + "/users" : cfg.admin.users_file;
}

scep::Result<Stores> OpenStores(const config::GatewayConfig& cfg) {
  Stores stores;
  // The certificate store first: it owns the schema and migrates the file the other two then open.
  auto certs = SqliteCertStore::Open(StorePath(cfg));
  if (!certs) return certs.error();
  stores.certs = std::move(*certs);
  auto challenges = SqliteChallengeStore::Open(StorePath(cfg));
  if (!challenges) return challenges.error();
  stores.challenges = std::move(*challenges);
  auto requests = SqliteRequestStore::Open(StorePath(cfg));
  if (!requests) return requests.error();
  stores.requests = std::move(*requests);
  auto audit = AuditLog::Open(cfg.data_dir, cfg.notifications);
  if (!audit) return audit.error();
  stores.audit = std::move(*audit);
  stores.certs->AttachAudit(stores.audit.get());
  return stores;
}

scep::Result<std::unique_ptr<Gateway>> BuildGateway(const config::GatewayConfig& cfg) {
  auto gw = std::make_unique<Gateway>();
  gw->config = cfg;
  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) return Fail("cannot create data dir " + cfg.data_dir + ": " + ec.message());
  ::chmod(cfg.data_dir.c_str(), 0700);
  auto created = EnsureCa(cfg.data_dir, cfg.ca);
  if (!created) return created.error();
  if (*created) spdlog::info("created the embedded CA ({}, {}) in {}", cfg.ca.subject, cfg.ca.key, cfg.data_dir);
  auto stores = OpenStores(cfg);
  if (!stores) return stores.error();
  gw->stores = std::move(*stores);
  if (cfg.scep.allow_single_des) {
    if (auto des = scep::EnableSingleDes(); !des) return des.error();
    spdlog::warn("single DES is accepted (scep.allow_single_des: true): OpenSSL's legacy provider is loaded for "
                 "old devices and micromdm's scepclient; set it to false to refuse DES with badAlg");
  }
  for (const config::EndpointConfig& ep_cfg : config::Endpoints(cfg)) {
    auto ep = BuildEndpoint(*gw, ep_cfg);
    if (!ep) return ep.error();
    gw->endpoints.push_back(std::move(*ep));
  }
  return gw;
}

}  // namespace gateway
