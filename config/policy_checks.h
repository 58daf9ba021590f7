// Checks of a `policy` section (top level or an endpoint's).
#pragma once

#include <string>

#include "config/checker.h"
#include "config/gateway_config.h"

namespace config::detail {

// `key` is where the section sits: "policy" or "endpoints[2].policy".
void CheckPolicy(Checker& check, const PolicyConfig& policy, const std::string& key);

// "ATTRIBUTE=REGEX" subject rules (policy.subject, a template's subject), each keyed "key[i]".
void CheckSubjectPatterns(Checker& check, const std::vector<std::string>& items, const std::string& key);
// Extended key usage names or dotted OIDs, each keyed "key[i]".
void CheckExtendedKeyUsages(Checker& check, const std::vector<std::string>& usages, const std::string& key);

}  // namespace config::detail
