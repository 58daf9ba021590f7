// Collects the errors of the semantic checks, each at the line its key came from.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "config/gateway_config.h"
#include "config/key_lines.h"

namespace config::detail {

class Checker {
 public:
  Checker(const std::string& file_name, const KeyLines& lines) : file_name_(file_name), lines_(lines) {}

  // The line is the key's own, else that of the nearest enclosing key given in the file (a value an endpoint
  // inherits, or a required key left out, points at its endpoint), else 0.
  void Fail(const std::string& key, std::string message);

  // Templates, so that a std::size_t is never squeezed into a signed type on its way to the comparison.
  template <typename T>
  void AtLeast(const std::string& key, T value, std::type_identity_t<T> min) {
    if (value < min) Fail(key, "must be at least " + std::to_string(min) + ", got " + std::to_string(value));
  }

  template <typename T>
  void Between(const std::string& key, T value, std::type_identity_t<T> min, std::type_identity_t<T> max) {
    if (value < min || value > max) {
      Fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                    std::to_string(value));
    }
  }

  void OneOf(const std::string& key, const std::string& value, std::span<const std::string_view> allowed);

  // Each item of `values` with OneOf, keyed "key[i]".
  void EachOneOf(const std::string& key, const std::vector<std::string>& values,
                 std::span<const std::string_view> allowed);

  // Each item an http:// or https:// URL, keyed "key[i]".
  void EachUrl(const std::string& key, const std::vector<std::string>& urls);

  [[nodiscard]] const std::vector<ConfigError>& errors() const { return errors_; }
  [[nodiscard]] std::vector<ConfigError> TakeErrors() { return std::move(errors_); }

 private:
  int LineOf(std::string key) const;

  const std::string& file_name_;
  const KeyLines& lines_;
  std::vector<ConfigError> errors_;
};

// "key[3]"
std::string Item(const std::string& key, std::size_t index);

}  // namespace config::detail
