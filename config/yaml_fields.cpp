#include "config/yaml_fields.h"

#include <charconv>
#include <climits>
#include <cstdint>
#include <string_view>

#include "config/did_you_mean.h"

namespace config::detail {
namespace {

constexpr std::size_t kMaxShownChars = 60;

std::string JoinKey(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

bool IsBoolText(std::string_view text, std::string_view word) {
  if (text.size() != word.size()) return false;
  // YAML 1.2 core schema spellings only: "true", "True", "TRUE" (no yes/no/on/off).
  std::string upper(word);
  for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
  std::string title(word);
  title[0] = upper[0];
  return text == word || text == upper || text == title;
}

}  // namespace

int LineOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (text.size() <= kMaxShownChars) return "'" + text + "'";
      return "'" + text.substr(0, kMaxShownChars) + "...'";
    }
    default:
      return "an empty value";
  }
}

void FieldReader::ReadRoot(const YAML::Node& root, std::span<const Field> fields) {
  if (root.IsNull()) return;
  ReadMapping(root, Where{"", LineOf(root)}, fields);
}

void FieldReader::ReadMapping(const YAML::Node& node, const Where& where, std::span<const Field> fields) {
  if (node.IsNull()) return;  // "log:" with everything below commented out
  if (!node.IsMap()) {
    Report(where, "expected a mapping, got " + Describe(node));
    return;
  }
  std::map<std::string, int> seen;  // key name -> line, to spot duplicates
  std::vector<Deferred> deferred;
  for (auto it = node.begin(); it != node.end(); ++it) {
    ReadEntry(it->first, it->second, where.key, fields, seen, deferred);
  }
  for (const Deferred& list : deferred) Read(list.value, list.where, list.list);
}

void FieldReader::ReadEntry(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                            std::span<const Field> fields, std::map<std::string, int>& seen,
                            std::vector<Deferred>& deferred) {
  const int key_line = LineOf(key);
  if (!key.IsScalar()) {
    Report(Where{path, key_line}, "expected a key name, got " + Describe(key));
    return;
  }
  const std::string& name = key.Scalar();
  const Where where{JoinKey(path, name), key_line};
  const auto [previous, inserted] = seen.emplace(name, key_line);
  if (!inserted) {
    Report(where, "duplicate key '" + name + "' (first given on line " + std::to_string(previous->second) + ")");
    return;
  }
  for (const Field& field : fields) {
    if (field.name != name) continue;
    // A null value has the mark of whatever follows it, often the next line: point at the key instead.
    const int value_line = value.IsNull() || LineOf(value) == 0 ? key_line : LineOf(value);
    const Where value_where{where.key, value_line};
    lines_[where.key] = value_line;
    if (const auto* list = std::get_if<const MappingList*>(&field.target)) {
      deferred.push_back(Deferred{value, value_where, *list});
    } else {
      ReadValue(value, value_where, field.target);
    }
    return;
  }
  std::vector<std::string_view> names;
  for (const Field& field : fields) names.push_back(field.name);
  Report(where, "unknown key '" + name + "'" + DidYouMean(name, names));
}

void FieldReader::ReadValue(const YAML::Node& value, const Where& where, const FieldTarget& target) {
  std::visit([&](auto* out) { Read(value, where, out); }, target);
}

void FieldReader::Read(const YAML::Node& value, const Where& where, std::string* out) {
  if (value.IsScalar()) {
    *out = value.Scalar();
  } else if (value.IsNull()) {
    Report(where, "expected a string, got an empty value (write \"\" for an empty string)");
  } else {
    Report(where, "expected a string, got " + Describe(value));
  }
}

void FieldReader::Read(const YAML::Node& value, const Where& where, bool* out) {
  if (value.IsScalar() && IsBoolText(value.Scalar(), "true")) {
    *out = true;
  } else if (value.IsScalar() && IsBoolText(value.Scalar(), "false")) {
    *out = false;
  } else {
    Report(where, "expected true or false, got " + Describe(value));
  }
}

void FieldReader::Read(const YAML::Node& value, const Where& where, int* out) {
  unsigned long long number = 0;
  if (ReadUnsigned(value, where, INT_MAX, number)) *out = static_cast<int>(number);
}

void FieldReader::Read(const YAML::Node& value, const Where& where, std::size_t* out) {
  unsigned long long number = 0;
  if (ReadUnsigned(value, where, SIZE_MAX, number)) *out = static_cast<std::size_t>(number);
}

bool FieldReader::ReadUnsigned(const YAML::Node& value, const Where& where, unsigned long long max,
                               unsigned long long& out) {
  const std::string text = value.IsScalar() ? value.Scalar() : "";
  const bool digits_only = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits_only) {
    Report(where, "expected a positive integer, got " + Describe(value));
    return false;
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size() || out > max) {
    Report(where, "expected a positive integer no larger than " + std::to_string(max) + ", got " + Describe(value));
    return false;
  }
  return true;
}

void FieldReader::Read(const YAML::Node& value, const Where& where, std::vector<std::string>* out) {
  if (value.IsNull()) {
    Report(where, "expected a list of strings, got an empty value (write [] for an empty list)");
    return;
  }
  if (!value.IsSequence()) {
    Report(where, "expected a list of strings, got " + Describe(value));
    return;
  }
  std::vector<std::string> items;
  std::size_t index = 0;
  for (auto it = value.begin(); it != value.end(); ++it, ++index) {
    const YAML::Node item = *it;
    const Where item_where{where.key + "[" + std::to_string(index) + "]", LineOf(item) ? LineOf(item) : where.line};
    lines_[item_where.key] = item_where.line;
    if (item.IsScalar()) {
      items.push_back(item.Scalar());
    } else {
      Report(item_where, "expected a list of strings, got " + Describe(item) + " as an item");
    }
  }
  *out = std::move(items);
}

void FieldReader::Read(const YAML::Node& value, const Where& where, const std::vector<Field>* fields) {
  ReadMapping(value, where, *fields);
}

void FieldReader::Read(const YAML::Node& value, const Where& where, const OptionalMapping* mapping) {
  if (!value.IsNull() && !value.IsMap()) {
    Report(where, "expected a mapping, got " + Describe(value));
    return;
  }
  // The key alone ("signature:" with nothing below) still sets the value, with its defaults.
  ReadMapping(value, where, mapping->emplace());
}

void FieldReader::Read(const YAML::Node& value, const Where& where, const MappingList* list) {
  if (value.IsNull()) return;  // "endpoints:" with every item commented out
  if (!value.IsSequence()) {
    Report(where, "expected a list of mappings, got " + Describe(value));
    return;
  }
  list->resize(value.size());
  std::size_t index = 0;
  for (auto it = value.begin(); it != value.end(); ++it, ++index) {
    const YAML::Node item = *it;
    const Where item_where{where.key + "[" + std::to_string(index) + "]", LineOf(item) ? LineOf(item) : where.line};
    lines_[item_where.key] = item_where.line;
    ReadMapping(item, item_where, list->item(index));
  }
}

void FieldReader::Report(const Where& where, std::string message) {
  errors_.push_back(ConfigError{file_name_, where.line, where.key, std::move(message)});
}

}  // namespace config::detail
