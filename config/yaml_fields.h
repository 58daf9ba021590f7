// Reads a yaml-cpp node tree into plain struct fields, described by a small schema, collecting every error.
#pragma once

#include <cstddef>
#include <functional>
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
struct OptionalMapping;
struct MappingList;

// Where a key's value goes. A pointer to a list of fields is a nested mapping that is always there.
using FieldTarget = std::variant<std::string*, bool*, int*, std::size_t*, std::vector<std::string>*,
                                 const std::vector<Field>*, const OptionalMapping*, const MappingList*>;

struct Field {
  std::string_view name;
  FieldTarget target;
};

// A mapping held in a std::optional: the key's presence sets it. `emplace` is called once the key is seen; it makes
// the value exist (keeping one already there, so that a copied default is overridden field by field) and returns
// the fields pointing into it.
struct OptionalMapping {
  std::function<std::span<const Field>()> emplace;
};

// A list of mappings read with one schema per item. `resize` is called with the number of items before any is read
// (so that pointers into the items stay valid), then `item` gives the fields of each one. A list is read after the
// other keys of the mapping that holds it, so its items can start as copies of values written below it in the file.
struct MappingList {
  std::function<void(std::size_t count)> resize;
  std::function<std::span<const Field>(std::size_t index)> item;
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
  // A list of mappings found in a mapping, read once the mapping's other keys are.
  struct Deferred {
    YAML::Node value;
    Where where;
    const MappingList* list = nullptr;
  };

  void ReadEntry(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                 std::span<const Field> fields, std::map<std::string, int>& seen, std::vector<Deferred>& deferred);
  void ReadValue(const YAML::Node& value, const Where& where, const FieldTarget& target);
  void Read(const YAML::Node& value, const Where& where, std::string* out);
  void Read(const YAML::Node& value, const Where& where, bool* out);
  void Read(const YAML::Node& value, const Where& where, int* out);
  void Read(const YAML::Node& value, const Where& where, std::size_t* out);
  void Read(const YAML::Node& value, const Where& where, std::vector<std::string>* out);
  void Read(const YAML::Node& value, const Where& where, const std::vector<Field>* fields);
  void Read(const YAML::Node& value, const Where& where, const OptionalMapping* mapping);
  void Read(const YAML::Node& value, const Where& where, const MappingList* list);
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
