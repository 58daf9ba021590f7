// Reads a yaml-cpp node tree into plain struct fields, described by a small schema, collecting every error.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/gateway_config.h"
#include "config/key_lines.h"

namespace config::detail {

struct Field;

// Where a key's value goes. A pointer to a list of fields is a nested mapping.
using FieldTarget = std::variant<std::string*, bool*, int*, std::size_t*, std::vector<std::string>*,
                                 const std::vector<Field>*>;

struct Field {
  std::string_view name;
  FieldTarget target;
};

class FieldReader {
 public:
  FieldReader(std::string file_name, std::vector<ConfigError>& errors, KeyLines& lines)
      : file_name_(std::move(file_name)), errors_(errors), lines_(lines) {}

  // Reads the top-level node. A null node (empty file, only comments) leaves every default in place.
  void ReadRoot(const YAML::Node& root, std::span<const Field> fields);

 private:
  struct Where {
    std::string key;
    int line = 0;
  };

  void ReadMapping(const YAML::Node& node, const Where& where, std::span<const Field> fields);
  void ReadEntry(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                 std::span<const Field> fields, std::map<std::string, int>& seen);
  void ReadValue(const YAML::Node& value, const Where& where, const FieldTarget& target);
  void Read(const YAML::Node& value, const Where& where, std::string* out);
  void Read(const YAML::Node& value, const Where& where, bool* out);
  void Read(const YAML::Node& value, const Where& where, int* out);
  void Read(const YAML::Node& value, const Where& where, std::size_t* out);
  void Read(const YAML::Node& value, const Where& where, std::vector<std::string>* out);
  void Read(const YAML::Node& value, const Where& where, const std::vector<Field>* fields);
  bool ReadUnsigned(const YAML::Node& value, const Where& where, unsigned long long max, unsigned long long& out);
  void Report(const Where& where, std::string message);

  std::string file_name_;
  std::vector<ConfigError>& errors_;
  KeyLines& lines_;
};

// The 1-based line of a node, or 0 when yaml-cpp does not know it.
int LineOf(const YAML::Node& node);

// How a node looks in an error message: "'ten'", "a mapping", "a list", "an empty value".
std::string Describe(const YAML::Node& node);

}  // namespace config::detail
