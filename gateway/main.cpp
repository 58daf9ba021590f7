// scep-gateway: the command line. serve, ca init, certs list.
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "gateway/gateway_setup.h"
#include "gateway/http_client.h"
#include "gateway/http_routes.h"
#include "gateway/http_server.h"
#include "gateway/metrics.h"
#include "gateway/request_log.h"

namespace {

constexpr const char* kVersion = "0.1.0";

void AddConfigFlags(CLI::App* cmd, gateway::ConfigOverrides& o) {
  cmd->add_option("--config", o.config_file, "YAML configuration file (optional; built-in defaults otherwise)");
  cmd->add_option("--data-dir", o.data_dir, "Directory for the CA, the store and the generated challenge");
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "scep-gateway: %s\n", what.c_str());
  return 1;
}

gateway::HttpServerOptions ListenerOptions(const config::GatewayConfig& cfg, const std::string& listen) {
  const auto hp = config::ParseHostPort(listen);  // validated with the config
  gateway::HttpServerOptions http;
  http.host = hp->host;
  http.port = hp->port;
  http.max_body_bytes = cfg.http.max_body_bytes;
  http.max_url_bytes = cfg.http.max_url_bytes;
  http.io_threads = cfg.http.io_threads;
  http.worker_threads = cfg.http.worker_threads;
  http.read_timeout = std::chrono::seconds(cfg.http.read_timeout_seconds);
  return http;
}

using Servers = std::vector<std::unique_ptr<gateway::HttpServer>>;

// One server per listener: HTTPS (with tls.listen), the admin listener for /metrics, and plain HTTP (unless
// `listen` is empty) last, so that a health probe on the plain port answers only once every listener is up.
scep::Result<Servers> StartListeners(const config::GatewayConfig& cfg, gateway::ScepService& service,
                                     gateway::GatewayMetrics& metrics) {
  Servers servers;
  const bool separate_admin = cfg.metrics.enabled && !cfg.metrics.listen.empty();
  auto start = [&servers](gateway::HttpServerOptions options, gateway::HttpHandler handler, const char* what,
                          const std::string& listen) -> scep::Result<void> {
    servers.push_back(std::make_unique<gateway::HttpServer>(std::move(options), std::move(handler)));
    if (auto started = servers.back()->Start(); !started) {
      return scep::MakeError(scep::ErrorCode::Internal, std::string("cannot listen on ") + listen + ": " +
                                                             started.error().detail);
    }
    // The bound address, not the configured one: with port 0 this is how scripts learn the port.
    const auto hp = config::ParseHostPort(listen);
    const bool v6 = hp->host.find(':') != std::string::npos;
    spdlog::info("{} listening on {}{}{}:{}", what, v6 ? "[" : "", hp->host, v6 ? "]" : "", servers.back()->port());
    return {};
  };
  const bool metrics_beside_scep = cfg.metrics.enabled && !separate_admin;
  if (!cfg.tls.listen.empty()) {
    auto options = ListenerOptions(cfg, cfg.tls.listen);
    options.tls = gateway::TlsFiles{cfg.tls.cert_file, cfg.tls.key_file};
    auto ok = start(std::move(options), gateway::MakeScepHandler(service, metrics, metrics_beside_scep),
                    "SCEP over HTTPS", cfg.tls.listen);
    if (!ok) return ok.error();
  }
  if (separate_admin) {
    auto ok = start(ListenerOptions(cfg, cfg.metrics.listen), gateway::MakeAdminHandler(service, metrics),
                    "admin (/metrics, /healthz)", cfg.metrics.listen);
    if (!ok) return ok.error();
  }
  if (!cfg.listen.empty()) {
    auto ok = start(ListenerOptions(cfg, cfg.listen), gateway::MakeScepHandler(service, metrics, metrics_beside_scep),
                    "SCEP over HTTP", cfg.listen);
    if (!ok) return ok.error();
  }
  return servers;
}

int Serve(const gateway::ConfigOverrides& overrides) {
  // Block the stop signals before any thread starts, so that only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto cfg = gateway::LoadEffectiveConfig(overrides);
  if (!cfg) return Fail(cfg.error().detail);
  gateway::ConfigureLogging(cfg->log);
  auto gw = gateway::BuildGateway(*cfg);
  if (!gw) return Fail(gw.error().ToString());
  gateway::GatewayMetrics metrics;
  auto servers = StartListeners(*cfg, *(*gw)->service, metrics);
  if (!servers) return Fail(servers.error().detail);
  spdlog::info("scep-gateway {} ready (data dir {}, CA {})", kVersion, cfg->data_dir,
               scep::NameToString(X509_get_subject_name((*gw)->ca->ca_cert())));
  (*gw)->challenge->mode() == "none" ? spdlog::warn("{}", (*gw)->challenge_note)
                                     : spdlog::info("{}", (*gw)->challenge_note);
  if (!(*gw)->generated_challenge.empty()) {  // shown once on the terminal, never written to the log
    const char* format = cfg->log.format == "json" ? "{\"generated_challenge_password\":\"%s\",\"kept_in\":\"%s\"}\n"
                                                   : "Generated challenge password: %s (kept in %s/challenge)\n";
    std::printf(format, (*gw)->generated_challenge.c_str(), cfg->data_dir.c_str());
    std::fflush(stdout);
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("received {}, finishing in-flight requests", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  for (auto& server : *servers) server->Stop();
  spdlog::info("stopped");
  return 0;
}

int CaInit(gateway::ConfigOverrides overrides, const std::string& subject, const std::string& key, int days) {
  auto cfg = gateway::LoadEffectiveConfig(overrides);
  if (!cfg) return Fail(cfg.error().detail);
  if (!subject.empty()) cfg->ca.subject = subject;
  if (!key.empty()) cfg->ca.key = key;
  if (days > 0) cfg->ca.validity_days = days;
  if (auto errors = config::ValidateConfig(*cfg, "command line"); !errors.empty()) return Fail(errors[0].ToString());
  if (ca::EmbeddedCa::Exists(cfg->data_dir)) return Fail("a CA already exists in " + cfg->data_dir);
  auto created = gateway::EnsureCa(*cfg);
  if (!created) return Fail(created.error().ToString());
  auto opened = ca::EmbeddedCa::Open(cfg->data_dir);
  if (!opened) return Fail(opened.error().ToString());
  std::printf("created CA '%s' (%s, %d days) in %s\n",
              scep::NameToString(X509_get_subject_name((*opened)->ca_cert())).c_str(), cfg->ca.key.c_str(),
              cfg->ca.validity_days, cfg->data_dir.c_str());
  return 0;
}

std::string Date(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

int CertsList(const gateway::ConfigOverrides& overrides) {
  auto cfg = gateway::LoadEffectiveConfig(overrides);
  if (!cfg) return Fail(cfg.error().detail);
  auto store = gateway::SqliteCertStore::Open(gateway::StorePath(*cfg));
  if (!store) return Fail(store.error().ToString());
  auto certs = (*store)->List();
  if (!certs) return Fail(certs.error().ToString());
  std::printf("%-32s  %-7s  %-20s  %-20s  %s\n", "SERIAL", "STATUS", "NOT_AFTER", "TRANSACTION", "SUBJECT / SANS");
  for (const auto& c : *certs) {
    std::printf("%-32s  %-7s  %-20s  %-20.20s  %s%s%s\n", c.serial.c_str(), gateway::to_string(c.status).c_str(),
                Date(c.not_after).c_str(), c.transaction_id.c_str(), c.subject.c_str(), c.sans.empty() ? "" : "  ",
                c.sans.c_str());
  }
  std::printf("%zu certificate(s)\n", certs->size());
  return 0;
}

// For container HEALTHCHECKs: the image needs no curl.
int Healthcheck(const std::string& address) {
  auto hp = config::ParseHostPort(address);
  if (!hp) return Fail("--address: expected HOST:PORT, got '" + address + "'");
  gateway::HttpClient client(hp->host, hp->port, std::chrono::seconds(5));
  auto resp = client.Get("/healthz");
  if (!resp) return Fail("healthz: " + resp.error().detail);
  std::printf("%d %s", resp->status, resp->body.c_str());
  return resp->status == 200 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"scep-gateway: a SCEP (RFC 8894) / NDES-compatible enrollment gateway with an embedded CA"};
  app.set_version_flag("--version", std::string("scep-gateway ") + kVersion);
  app.require_subcommand(1);

  gateway::ConfigOverrides serve_flags;
  auto* serve = app.add_subcommand("serve", "Run the SCEP HTTP service (creates the CA on first start)");
  AddConfigFlags(serve, serve_flags);
  serve->add_option("--listen", serve_flags.listen, "HOST:PORT to listen on (default 0.0.0.0:8080)");
  serve->add_option("--challenge", serve_flags.challenge, "Static challenge password (overrides the config)");
  serve->add_option("--log-format", serve_flags.log_format, "text (default) or json: one JSON object per line");

  auto* ca = app.add_subcommand("ca", "Manage the embedded CA");
  ca->require_subcommand(1);
  gateway::ConfigOverrides ca_flags;
  std::string subject, key;
  int days = 0;
  auto* ca_init = ca->add_subcommand("init", "Create the embedded CA in the data dir");
  AddConfigFlags(ca_init, ca_flags);
  ca_init->add_option("--subject", subject, "CA subject, e.g. \"CN=Example SCEP CA,O=Example\"");
  ca_init->add_option("--key", key, "rsa:2048|rsa:3072|rsa:4096|ec:p256|ec:p384 (default rsa:3072)");
  ca_init->add_option("--days", days, "CA validity in days (default 3650)")->check(CLI::PositiveNumber);

  auto* certs = app.add_subcommand("certs", "Inspect issued certificates");
  certs->require_subcommand(1);
  gateway::ConfigOverrides certs_flags;
  auto* certs_list = certs->add_subcommand("list", "List issued certificates");
  AddConfigFlags(certs_list, certs_flags);

  std::string health_address = "127.0.0.1:8080";
  auto* health = app.add_subcommand("healthcheck", "GET /healthz of a running gateway; exit 0 when healthy");
  health->add_option("--address", health_address, "HOST:PORT of the gateway (default 127.0.0.1:8080)");

  CLI11_PARSE(app, argc, argv);
  if (serve->parsed()) return Serve(serve_flags);
  if (ca_init->parsed()) return CaInit(ca_flags, subject, key, days);
  if (certs_list->parsed()) return CertsList(certs_flags);
  if (health->parsed()) return Healthcheck(health_address);
  return 1;
}
