// The administrators' side of the gateway over HTTP: NDES's /certsrv/mscep_admin/ page (one-time challenge
// passwords for people and scrapers) and the JSON API under /api/v1/ (challenges, pending requests, revocation).
// Everything here needs HTTP Basic credentials from the admin users file; the actions themselves are in
// admin_actions, shared with the CLI.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/gateway_config.h"
#include "gateway/audit_events.h"
#include "gateway/enrollment_request_store.h"
#include "gateway/http_server.h"
#include "gateway/issued_cert_store.h"
#include "gateway/one_time_challenge_store.h"

namespace gateway {

struct AdminEndpoint {
  std::string name;
  bool one_time = false;  // challenge.mode == "ndes-one-time": passwords can be fetched for it
  config::OneTimeChallengeConfig one_time_config;
  std::string ca_thumbprint;  // upper-case hex SHA-1 of the endpoint CA certificate's DER, shown on the NDES page
};

struct AdminDependencies {
  std::vector<AdminEndpoint> endpoints;  // in configuration order: the NDES page defaults to the first one-time one
  std::string users_file;                // re-read whenever it changes on disk
  bool require_tls = false;              // refuse requests that did not arrive over HTTPS
  OneTimeChallengeStore& challenges;
  EnrollmentRequestStore& requests;
  IssuedCertStore& certs;
  AuditSink& audit;
  std::function<void()> on_revoked;  // called after a certificate was revoked (e.g. to drop a cached CRL)
};

class AdminRoutes {
 public:
  // `clock` gives unix seconds; empty = the system clock (tests pass their own to step over expiry).
  explicit AdminRoutes(AdminDependencies deps, std::function<std::int64_t()> clock = {});
  ~AdminRoutes();
  AdminRoutes(const AdminRoutes&) = delete;
  AdminRoutes& operator=(const AdminRoutes&) = delete;

  // /certsrv/mscep_admin and below (any case, as IIS), /api/v1 and below. The SCEP handler passes these here.
  [[nodiscard]] static bool IsAdminPath(std::string_view path);

  // Thread-safe; never throws.
  [[nodiscard]] HttpResponse Handle(const HttpRequest& request);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gateway
