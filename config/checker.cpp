#include "config/checker.h"

#include "config/did_you_mean.h"
#include "config/value_shapes.h"

namespace config::detail {

std::string Item(const std::string& key, std::size_t index) { return key + "[" + std::to_string(index) + "]"; }

void Checker::Fail(const std::string& key, std::string message) {
  errors_.push_back(ConfigError{file_name_, LineOf(key), key, std::move(message)});
}

int Checker::LineOf(std::string key) const {
  while (!key.empty()) {
    if (const auto found = lines_.find(key); found != lines_.end()) return found->second;
    const std::size_t cut = key.find_last_of(".[");
    key.resize(cut == std::string::npos ? 0 : cut);
  }
  return 0;
}

void Checker::OneOf(const std::string& key, const std::string& value, std::span<const std::string_view> allowed) {
  if (Contains(allowed, value)) return;
  Fail(key, "expected one of " + Join(allowed) + ", got '" + value + "'" + DidYouMean(value, allowed));
}

void Checker::EachOneOf(const std::string& key, const std::vector<std::string>& values,
                        std::span<const std::string_view> allowed) {
  for (std::size_t i = 0; i < values.size(); ++i) OneOf(Item(key, i), values[i], allowed);
}

void Checker::EachUrl(const std::string& key, const std::vector<std::string>& urls) {
  for (std::size_t i = 0; i < urls.size(); ++i) {
    if (IsHttpUrl(urls[i])) continue;
    Fail(Item(key, i), "expected an http:// or https:// URL, got '" + urls[i] + "'");
  }
}

}  // namespace config::detail
