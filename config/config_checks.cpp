#include "config/config_checks.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "config/checker.h"
#include "config/endpoint_checks.h"
#include "config/top_level_endpoint.h"
#include "config/value_sets.h"

namespace config {
namespace detail {
namespace {

constexpr std::array<std::string_view, 5> kLogLevels{"trace", "debug", "info", "warn", "error"};
constexpr std::array<std::string_view, 2> kLogFormats{"text", "json"};

void CheckListeners(Checker& check, const GatewayConfig& config) {
  const TlsConfig& tls = config.tls;
  if (!tls.listen.empty() && !ParseHostPort(tls.listen)) {
    check.Fail("tls.listen", "expected HOST:PORT such as 0.0.0.0:8443, got '" + tls.listen + "'");
  }
  if (!tls.listen.empty() && (tls.cert_file.empty() || tls.key_file.empty())) {
    check.Fail("tls.listen", "an HTTPS listener needs tls.cert_file and tls.key_file");
  }
  if (tls.listen.empty() && (!tls.cert_file.empty() || !tls.key_file.empty())) {
    check.Fail("tls.cert_file", "tls.cert_file and tls.key_file need tls.listen");
  }
  if (config.admin.require_tls && tls.listen.empty()) {
    check.Fail("admin.require_tls", "needs tls.listen: without an HTTPS listener the admin pages and API are unreachable");
  }
  if (!config.metrics.listen.empty() && !ParseHostPort(config.metrics.listen)) {
    check.Fail("metrics.listen", "expected HOST:PORT such as 127.0.0.1:9100, got '" + config.metrics.listen + "'");
  }
}

void CheckTopLevel(Checker& check, const GatewayConfig& config) {
  // An empty `listen` turns plain HTTP off, which only makes sense with an HTTPS listener.
  if (config.listen.empty() && config.tls.listen.empty()) {
    check.Fail("listen", "must not be empty unless tls.listen is set");
  } else if (!config.listen.empty() && !ParseHostPort(config.listen)) {
    check.Fail("listen", "expected HOST:PORT such as 0.0.0.0:8080 or [::1]:8080, got '" + config.listen + "'");
  }
  if (config.data_dir.empty()) check.Fail("data_dir", "must not be empty");
  check.OneOf("log.level", config.log.level, kLogLevels);
  check.OneOf("log.format", config.log.format, kLogFormats);
  check.AtLeast("http.max_body_bytes", config.http.max_body_bytes, 1024);
  check.AtLeast("http.max_url_bytes", config.http.max_url_bytes, 8192);
  check.Between("http.read_timeout_seconds", config.http.read_timeout_seconds, 1, 3600);
  check.Between("http.worker_threads", config.http.worker_threads, 1, 1024);
  check.Between("http.io_threads", config.http.io_threads, 1, 64);
}

void CheckServices(Checker& check, const GatewayConfig& config) {
  check.Between("crl.next_update_hours", config.crl.next_update_hours, 1, 87600);
  check.AtLeast("renewal.window_days", config.renewal.window_days, 0);
  check.EachUrl("notifications.webhooks", config.notifications.webhooks);
  check.Between("notifications.retry_seconds", config.notifications.retry_seconds, 1, 3600);
}

// An endpoint error that repeats a top-level one about a value the endpoint did not give itself: the endpoint
// inherited the value, and the top-level error already names the line to fix.
bool IsInherited(const ConfigError& error, const std::string& prefix, const std::vector<ConfigError>& top_level,
                 const KeyLines& lines) {
  if (lines.contains(error.key)) return false;
  const std::string own_key = error.key.substr(prefix.size() + 1);
  return std::any_of(top_level.begin(), top_level.end(), [&](const ConfigError& top) {
    return top.key == own_key && top.message == error.message;
  });
}

void CheckEndpoints(Checker& check, const GatewayConfig& config, const std::string& file_name,
                    const KeyLines& lines, std::vector<ConfigError>& out) {
  for (std::size_t i = 0; i < config.endpoints.size(); ++i) {
    const EndpointConfig& endpoint = config.endpoints[i];
    const std::string prefix = Item("endpoints", i);
    Checker own(file_name, lines);
    if (endpoint.ca) CheckCa(own, *endpoint.ca, Key(prefix, "ca"));
    CheckEndpointKeys(own, endpoint, endpoint.ca ? *endpoint.ca : config.ca, prefix);
    for (ConfigError& error : own.TakeErrors()) {
      if (!IsInherited(error, prefix, check.errors(), lines)) out.push_back(std::move(error));
    }
  }
  Checker list(file_name, lines);
  CheckEndpointNamesAndPaths(list, config.endpoints);
  for (ConfigError& error : list.TakeErrors()) out.push_back(std::move(error));
}

}  // namespace

std::vector<ConfigError> CheckConfig(const GatewayConfig& config, const std::string& file_name,
                                     const KeyLines& lines) {
  Checker check(file_name, lines);
  CheckTopLevel(check, config);
  CheckListeners(check, config);
  CheckCa(check, config.ca, "ca");
  // The top-level keys are every endpoint's defaults, so they must make a valid endpoint on their own.
  CheckEndpointKeys(check, TopLevelEndpoint(config), config.ca, "");
  CheckServices(check, config);
  std::vector<ConfigError> endpoint_errors;
  CheckEndpoints(check, config, file_name, lines, endpoint_errors);
  std::vector<ConfigError> errors = check.TakeErrors();
  errors.insert(errors.end(), std::make_move_iterator(endpoint_errors.begin()),
                std::make_move_iterator(endpoint_errors.end()));
  return errors;
}

}  // namespace detail

std::vector<ConfigError> ValidateConfig(const GatewayConfig& config, const std::string& file_name) {
  return detail::CheckConfig(config, file_name, detail::KeyLines{});
}

}  // namespace config
