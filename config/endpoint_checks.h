// Checks of the keys an endpoint has (challenge, ra, certificate, templates, policy, ca), at the top level or under
// `endpoints:`, and of the endpoint list itself.
#pragma once

#include <string>

#include "config/checker.h"
#include "config/gateway_config.h"

namespace config::detail {

// `key` is where the section sits: "ca" or "endpoints[1].ca".
void CheckCa(Checker& check, const CaConfig& ca, const std::string& key);

// The keys of one endpoint with the CA that issues for it. `prefix` is "" for the top-level keys or "endpoints[i]".
void CheckEndpointKeys(Checker& check, const EndpointConfig& endpoint, const CaConfig& ca, const std::string& prefix);

// Names and paths of the listed endpoints: shape, uniqueness, reserved paths.
void CheckEndpointNamesAndPaths(Checker& check, const std::vector<EndpointConfig>& endpoints);

}  // namespace config::detail
