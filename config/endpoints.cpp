#include "config/top_level_endpoint.h"

namespace config {
namespace detail {

EndpointConfig TopLevelEndpoint(const GatewayConfig& config) {
  EndpointConfig endpoint;
  endpoint.path = "/";
  endpoint.challenge = config.challenge;
  endpoint.ra = config.ra;
  endpoint.certificate = config.certificate;
  endpoint.templates = config.templates;
  endpoint.policy = config.policy;
  endpoint.include_ca_cert_in_reply = config.scep.include_ca_cert_in_reply;
  return endpoint;
}

}  // namespace detail

std::vector<EndpointConfig> Endpoints(const GatewayConfig& cfg) {
  if (!cfg.endpoints.empty()) return cfg.endpoints;
  EndpointConfig implicit = detail::TopLevelEndpoint(cfg);
  implicit.name = "default";
  return {std::move(implicit)};
}

}  // namespace config
