#include "gateway/admin_cli.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <ctime>
#include <iostream>

#include "gateway/admin_actions.h"
#include "gateway/admin_users.h"

namespace gateway::cli {
namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "scep-gateway: %s\n", what.c_str());
  return 1;
}

std::string Date(std::int64_t unix_seconds) {
  if (unix_seconds == 0) return "-";
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// The stores of the data dir, without notification delivery: that stays with the serving gateway, which also
// delivers the lines this process appends to the audit file.
scep::Result<Stores> Open(const ConfigOverrides& overrides, config::GatewayConfig* cfg_out = nullptr) {
  auto cfg = LoadEffectiveConfig(overrides);
  if (!cfg) return cfg.error();
  cfg->notifications.webhooks.clear();
  if (cfg_out != nullptr) *cfg_out = *cfg;
  return OpenStores(*cfg);
}

void PrintRequest(const EnrollmentRequest& r) {
  std::printf("id:             %lld\n", static_cast<long long>(r.id));
  std::printf("status:         %s\n", to_string(r.status).c_str());
  std::printf("endpoint:       %s\n", r.endpoint.c_str());
  std::printf("transaction:    %s\n", r.transaction_id.c_str());
  std::printf("subject:        %s\n", r.subject.c_str());
  std::printf("sans:           %s\n", r.sans.c_str());
  std::printf("client:         %s\n", r.client_address.c_str());
  std::printf("reason:         %s\n", r.reason.c_str());
  std::printf("created:        %s\n", Date(r.created_at).c_str());
  std::printf("expires:        %s\n", Date(r.expires_at).c_str());
  std::printf("decided:        %s by %s\n", Date(r.decided_at).c_str(), r.decided_by.empty() ? "-" : r.decided_by.c_str());
  std::printf("serial:         %s\n", r.serial.empty() ? "-" : r.serial.c_str());
}

int Decided(const scep::Result<RequestDecision>& decision, std::int64_t id, const char* verb) {
  if (!decision) return Fail(decision.error().ToString());
  switch (decision->outcome) {
    case DecisionOutcome::Decided:
      std::printf("request %lld %s\n", static_cast<long long>(id), verb);
      return 0;
    case DecisionOutcome::Unknown: return Fail("no request " + std::to_string(id));
    case DecisionOutcome::NotPending:
      return Fail("request " + std::to_string(id) + " is not pending (it is " + to_string(decision->request.status) +
                  ")");
  }
  return 1;
}

}  // namespace

int CertsList(const ConfigOverrides& overrides) {
  auto stores = Open(overrides);
  if (!stores) return Fail(stores.error().ToString());
  auto certs = stores->certs->List();
  if (!certs) return Fail(certs.error().ToString());
  std::printf("%-32s  %-7s  %-20s  %-20s  %s\n", "SERIAL", "STATUS", "NOT_AFTER", "TRANSACTION", "SUBJECT / SANS");
  for (const auto& c : *certs) {
    std::printf("%-32s  %-7s  %-20s  %-20.20s  %s%s%s\n", c.serial.c_str(), to_string(c.status).c_str(),
                Date(c.not_after).c_str(), c.transaction_id.c_str(), c.subject.c_str(), c.sans.empty() ? "" : "  ",
                c.sans.c_str());
  }
  std::printf("%zu certificate(s)\n", certs->size());
  return 0;
}

int CertsRevoke(const ConfigOverrides& overrides, const std::string& serial, const std::string& reason) {
  auto stores = Open(overrides);
  if (!stores) return Fail(stores.error().ToString());
  auto revoked = RevokeCertificate(*stores->certs, *stores->audit, serial, reason, "cli", Now());
  if (!revoked) return Fail(revoked.error().ToString());
  switch (revoked->outcome) {
    case RevokeOutcome::Revoked:
      std::printf("revoked %s (%s)\n", revoked->cert.serial.c_str(), reason.c_str());
      return 0;
    case RevokeOutcome::AlreadyRevoked:
      std::printf("%s was already revoked (%s); nothing changed\n", revoked->cert.serial.c_str(),
                  RevocationReasonName(revoked->cert.revocation_reason).c_str());
      return 0;
    case RevokeOutcome::UnknownSerial: return Fail("no certificate with serial " + serial);
    case RevokeOutcome::UnknownReason:
      return Fail("unknown reason '" + reason + "'; expected one of " + RevocationReasonNames());
  }
  return 1;
}

int UsersAdd(const ConfigOverrides& overrides, const std::string& name) {
  auto cfg = LoadEffectiveConfig(overrides);
  if (!cfg) return Fail(cfg.error().detail);
  std::string password;
  if (!std::getline(std::cin, password)) return Fail("expected the password on standard input");
  if (!password.empty() && password.back() == '\r') password.pop_back();
  // `users add` may come before the first `serve`: make the data dir as serve would (owner only).
  const std::filesystem::path dir = std::filesystem::path(UsersFile(*cfg)).parent_path();
  std::error_code ec;
  if (!dir.empty() && std::filesystem::create_directories(dir, ec)) ::chmod(dir.c_str(), 0700);
  auto added = AddAdminUser(UsersFile(*cfg), name, password);
  if (!added) return Fail(added.error().ToString());
  std::printf("user %s saved in %s\n", name.c_str(), UsersFile(*cfg).c_str());
  return 0;
}

int UsersList(const ConfigOverrides& overrides) {
  auto cfg = LoadEffectiveConfig(overrides);
  if (!cfg) return Fail(cfg.error().detail);
  auto users = AdminUsers::Load(UsersFile(*cfg));
  if (!users) return Fail(users.error().ToString());
  for (const std::string& name : users->names()) std::printf("%s\n", name.c_str());
  return 0;
}

int UsersRemove(const ConfigOverrides& overrides, const std::string& name) {
  auto cfg = LoadEffectiveConfig(overrides);
  if (!cfg) return Fail(cfg.error().detail);
  auto removed = RemoveAdminUser(UsersFile(*cfg), name);
  if (!removed) return Fail(removed.error().ToString());
  if (!*removed) return Fail("no user " + name);
  std::printf("user %s removed\n", name.c_str());
  return 0;
}

int RequestsList(const ConfigOverrides& overrides, const std::optional<std::string>& status) {
  std::optional<RequestStatus> filter;
  if (status) {
    filter = ParseRequestStatus(*status);
    if (!filter) return Fail("--status: expected pending, approved, denied or issued, got '" + *status + "'");
  }
  auto stores = Open(overrides);
  if (!stores) return Fail(stores.error().ToString());
  // A request past its expiry is denied now rather than shown as pending.
  if (auto expired = stores->requests->ExpirePending(Now()); !expired) return Fail(expired.error().ToString());
  auto list = stores->requests->List(filter);
  if (!list) return Fail(list.error().ToString());
  std::printf("%-6s  %-8s  %-12s  %-20s  %-20s  %s\n", "ID", "STATUS", "ENDPOINT", "CREATED", "TRANSACTION", "SUBJECT");
  for (const auto& r : *list) {
    std::printf("%-6lld  %-8s  %-12s  %-20s  %-20.20s  %s\n", static_cast<long long>(r.id),
                to_string(r.status).c_str(), r.endpoint.c_str(), Date(r.created_at).c_str(), r.transaction_id.c_str(),
                r.subject.c_str());
  }
  std::printf("%zu request(s)\n", list->size());
  return 0;
}

int RequestsShow(const ConfigOverrides& overrides, std::int64_t id) {
  auto stores = Open(overrides);
  if (!stores) return Fail(stores.error().ToString());
  auto found = stores->requests->FindById(id);
  if (!found) return Fail(found.error().ToString());
  if (!*found) return Fail("no request " + std::to_string(id));
  PrintRequest(**found);
  return 0;
}

int RequestsApprove(const ConfigOverrides& overrides, std::int64_t id) {
  auto stores = Open(overrides);
  if (!stores) return Fail(stores.error().ToString());
  return Decided(ApproveRequest(*stores->requests, *stores->audit, id, "cli", Now()), id,
                 "approved: the certificate is issued when the client polls next");
}

int RequestsDeny(const ConfigOverrides& overrides, std::int64_t id, const std::string& reason) {
  auto stores = Open(overrides);
  if (!stores) return Fail(stores.error().ToString());
  return Decided(DenyRequest(*stores->requests, *stores->audit, id, reason, "cli", Now()), id, "denied");
}

}  // namespace gateway::cli
