// What the config loader says about a YAML text, as the strings a user sees ("scep.yaml:3: key: message").
#pragma once

#include <string>
#include <vector>

#include "config/gateway_config.h"

namespace test {

inline std::vector<std::string> ErrorLines(const std::vector<config::ConfigError>& errors) {
  std::vector<std::string> out;
  for (const config::ConfigError& error : errors) out.push_back(error.ToString());
  return out;
}

inline std::vector<std::string> ErrorLines(const config::LoadResult& result) { return ErrorLines(result.errors); }

// Loads `yaml` as if it were the file scep.yaml.
inline std::vector<std::string> LoadErrorLines(const std::string& yaml) {
  return ErrorLines(config::LoadConfigString(yaml, "scep.yaml"));
}

// The one error `yaml` gives; "" when it loads cleanly, "<n> errors: | ... | ..." when it gives more than one, so
// that a check for one error also fails when others come with it.
inline std::string OnlyError(const std::string& yaml) {
  const std::vector<std::string> lines = LoadErrorLines(yaml);
  if (lines.empty()) return "";
  if (lines.size() == 1) return lines[0];
  std::string all = std::to_string(lines.size()) + " errors:";
  for (const std::string& line : lines) all += " | " + line;
  return all;
}

}  // namespace test
