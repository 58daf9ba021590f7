// scep-gateway: the command line. serve, ca init, certs, users, requests, healthcheck.
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "gateway/admin_actions.h"
#include "gateway/admin_cli.h"
#include "gateway/admin_routes.h"
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

gateway::RouteTable Routes(gateway::Gateway& gw, gateway::AdminRoutes* admin) {
  gateway::RouteTable routes;
  for (const auto& ep : gw.endpoints) {
    routes.endpoints.push_back({ep->config.name, ep->config.path, ep->ca_name, ep->service.get()});
  }
  routes.admin = admin;
  return routes;
}

std::string Thumbprint(const X509* cert) {
  auto der = scep::CertToDer(cert);
  std::string hex = der ? scep::ToHex(scep::Sha1(*der)) : std::string();
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return hex;
}

std::unique_ptr<gateway::AdminRoutes> MakeAdminRoutes(gateway::Gateway& gw) {
  std::vector<gateway::AdminEndpoint> endpoints;
  for (const auto& ep : gw.endpoints) {
    endpoints.push_back({ep->config.name, ep->config.challenge.mode == "ndes-one-time",
                         ep->config.challenge.one_time, Thumbprint(ep->ca->ca_cert())});
  }
  gateway::AdminDependencies deps{std::move(endpoints), gateway::UsersFile(gw.config), gw.config.admin.require_tls,
                                  *gw.stores.challenges, *gw.stores.requests, *gw.stores.certs, *gw.stores.audit,
                                  // CRLs are re-read from the store on each fetch; nothing cached to drop.
                                  [] {}};
  return std::make_unique<gateway::AdminRoutes>(std::move(deps));
}

// One server per listener: HTTPS (with tls.listen), the admin listener for /metrics, and plain HTTP (unless
// `listen` is empty) last, so that a health probe on the plain port answers only once every listener is up.
scep::Result<Servers> StartListeners(gateway::Gateway& gw, gateway::AdminRoutes& admin,
                                     gateway::GatewayMetrics& metrics) {
  const config::GatewayConfig& cfg = gw.config;
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
    auto ok = start(std::move(options), gateway::MakeScepHandler(Routes(gw, &admin), metrics, metrics_beside_scep),
                    "SCEP over HTTPS", cfg.tls.listen);
    if (!ok) return ok.error();
  }
  if (separate_admin) {
    auto ok = start(ListenerOptions(cfg, cfg.metrics.listen),
                    gateway::MakeMetricsHandler(*gw.endpoints.front()->service, metrics), "admin (/metrics, /healthz)",
                    cfg.metrics.listen);
    if (!ok) return ok.error();
  }
  if (!cfg.listen.empty()) {
    auto ok = start(ListenerOptions(cfg, cfg.listen),
                    gateway::MakeScepHandler(Routes(gw, &admin), metrics, metrics_beside_scep), "SCEP over HTTP",
                    cfg.listen);
    if (!ok) return ok.error();
  }
  return servers;
}

void LogEndpoints(const gateway::Gateway& gw) {
  for (const auto& ep : gw.endpoints) {
    const auto& published = ep->ca->scep_identity().published;
    const std::string line = fmt::format("endpoint {} at {}: CA '{}', GetCACert publishes {} certificate(s); {}",
                                         ep->config.name, ep->config.path,
                                         scep::NameToString(X509_get_subject_name(ep->ca->ca_cert())),
                                         published.size(), ep->challenge_note);
    if (ep->challenge->mode() == "none") {
      spdlog::warn("{}", line);
    } else {
      spdlog::info("{}", line);
    }
  }
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
  auto admin = MakeAdminRoutes(**gw);
  auto servers = StartListeners(**gw, *admin, metrics);
  if (!servers) return Fail(servers.error().detail);
  spdlog::info("scep-gateway {} ready (data dir {}, {} endpoint(s))", kVersion, cfg->data_dir,
               (*gw)->endpoints.size());
  LogEndpoints(**gw);
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
  auto created = gateway::EnsureCa(cfg->data_dir, cfg->ca);
  if (!created) return Fail(created.error().ToString());
  auto opened = ca::EmbeddedCa::Open(cfg->data_dir);
  if (!opened) return Fail(opened.error().ToString());
  std::printf("created CA '%s' (%s, %d days) in %s\n",
              scep::NameToString(X509_get_subject_name((*opened)->ca_cert())).c_str(), cfg->ca.key.c_str(),
              cfg->ca.validity_days, cfg->data_dir.c_str());
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

  auto* certs = app.add_subcommand("certs", "Inspect and revoke issued certificates");
  certs->require_subcommand(1);
  gateway::ConfigOverrides certs_flags;
  auto* certs_list = certs->add_subcommand("list", "List issued certificates");
  AddConfigFlags(certs_list, certs_flags);
  std::string revoke_serial, revoke_reason = "unspecified";
  auto* certs_revoke = certs->add_subcommand("revoke", "Revoke a certificate (it appears on the next CRL)");
  AddConfigFlags(certs_revoke, certs_flags);
  certs_revoke->add_option("SERIAL", revoke_serial, "Serial number in hex, as `certs list` shows it")->required();
  certs_revoke->add_option("--reason", revoke_reason, "CRLReason: " + gateway::RevocationReasonNames());

  auto* users = app.add_subcommand("users", "Manage the administrators of the admin pages and API");
  users->require_subcommand(1);
  gateway::ConfigOverrides users_flags;
  std::string user_name;
  auto* users_add = users->add_subcommand("add", "Add a user or replace a password (password read from stdin)");
  AddConfigFlags(users_add, users_flags);
  users_add->add_option("NAME", user_name, "User name")->required();
  auto* users_list = users->add_subcommand("list", "List the users");
  AddConfigFlags(users_list, users_flags);
  auto* users_remove = users->add_subcommand("remove", "Remove a user");
  AddConfigFlags(users_remove, users_flags);
  users_remove->add_option("NAME", user_name, "User name")->required();

  auto* requests = app.add_subcommand("requests", "Enrollment requests held for approval");
  requests->require_subcommand(1);
  gateway::ConfigOverrides requests_flags;
  std::optional<std::string> request_status;
  std::int64_t request_id = 0;
  std::string deny_reason;
  auto* requests_list = requests->add_subcommand("list", "List requests");
  AddConfigFlags(requests_list, requests_flags);
  requests_list->add_option("--status", request_status, "pending|approved|denied|issued");
  auto* requests_show = requests->add_subcommand("show", "Show one request");
  auto* requests_approve = requests->add_subcommand("approve", "Approve a pending request");
  auto* requests_deny = requests->add_subcommand("deny", "Deny a pending request");
  for (auto* cmd : {requests_show, requests_approve, requests_deny}) {
    AddConfigFlags(cmd, requests_flags);
    cmd->add_option("ID", request_id, "Request id, as `requests list` shows it")->required();
  }
  requests_deny->add_option("--reason", deny_reason, "Why (the client's FAILURE and the audit file say it)")
      ->required();

  std::string health_address = "127.0.0.1:8080";
  auto* health = app.add_subcommand("healthcheck", "GET /healthz of a running gateway; exit 0 when healthy");
  health->add_option("--address", health_address, "HOST:PORT of the gateway (default 127.0.0.1:8080)");

  CLI11_PARSE(app, argc, argv);
  if (serve->parsed()) return Serve(serve_flags);
  if (ca_init->parsed()) return CaInit(ca_flags, subject, key, days);
  if (certs_list->parsed()) return gateway::cli::CertsList(certs_flags);
  if (certs_revoke->parsed()) return gateway::cli::CertsRevoke(certs_flags, revoke_serial, revoke_reason);
  if (users_add->parsed()) return gateway::cli::UsersAdd(users_flags, user_name);
  if (users_list->parsed()) return gateway::cli::UsersList(users_flags);
  if (users_remove->parsed()) return gateway::cli::UsersRemove(users_flags, user_name);
  if (requests_list->parsed()) return gateway::cli::RequestsList(requests_flags, request_status);
  if (requests_show->parsed()) return gateway::cli::RequestsShow(requests_flags, request_id);
  if (requests_approve->parsed()) return gateway::cli::RequestsApprove(requests_flags, request_id);
  if (requests_deny->parsed()) return gateway::cli::RequestsDeny(requests_flags, request_id, deny_reason);
  if (health->parsed()) return Healthcheck(health_address);
  return 1;
}
