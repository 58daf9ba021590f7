// The endpoint that the top-level keys describe: the implicit "default" endpoint, and the starting point of every
// endpoint listed under `endpoints:`.
#pragma once

#include "config/gateway_config.h"

namespace config::detail {

// The top-level challenge, ra, certificate, templates, policy and scep.include_ca_cert_in_reply, at path "/" with
// no name and no CA of its own.
[[nodiscard]] EndpointConfig TopLevelEndpoint(const GatewayConfig& config);

}  // namespace config::detail
