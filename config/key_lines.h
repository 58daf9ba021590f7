// Where each value came from, so checks made after reading a file can name its line.
#pragma once

#include <map>
#include <string>

namespace config::detail {

// The 1-based line of every value read, by dotted key ("ca.validity_days", "certificate.key_usage[1]").
using KeyLines = std::map<std::string, int>;

}  // namespace config::detail
