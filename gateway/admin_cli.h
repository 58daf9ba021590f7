// The administrators' subcommands of scep-gateway: they work on the data dir directly (the same SQLite file and
// audit file a running gateway uses), so they also work while it runs. Each returns the process exit status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "gateway/gateway_setup.h"

namespace gateway::cli {

int CertsList(const ConfigOverrides& overrides);
int CertsRevoke(const ConfigOverrides& overrides, const std::string& serial, const std::string& reason);

// The password comes from standard input (first line), so it never shows in `ps` or the shell history.
int UsersAdd(const ConfigOverrides& overrides, const std::string& name);
int UsersList(const ConfigOverrides& overrides);
int UsersRemove(const ConfigOverrides& overrides, const std::string& name);

int RequestsList(const ConfigOverrides& overrides, const std::optional<std::string>& status);
int RequestsShow(const ConfigOverrides& overrides, std::int64_t id);
int RequestsApprove(const ConfigOverrides& overrides, std::int64_t id);
int RequestsDeny(const ConfigOverrides& overrides, std::int64_t id, const std::string& reason);

}  // namespace gateway::cli
