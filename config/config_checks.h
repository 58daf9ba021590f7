// Semantic checks on a GatewayConfig: ranges, allowed values, shapes and rules between fields.
#pragma once

#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "config/key_lines.h"

namespace config::detail {

// Every problem found in `config`; each error's line comes from `lines` (0 when the key is not there).
std::vector<ConfigError> CheckConfig(const GatewayConfig& config, const std::string& file_name,
                                     const KeyLines& lines);

}  // namespace config::detail
