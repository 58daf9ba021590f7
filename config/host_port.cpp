#include <cctype>
#include <charconv>

#include "config/gateway_config.h"

namespace config {
namespace {

bool IsHostNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
}

// Hex digits, colons and dots (for an embedded IPv4 tail), optionally "%zone" after.
bool LooksLikeIpv6(std::string_view host) {
  const std::size_t percent = host.find('%');
  const std::string_view address = host.substr(0, percent);
  if (address.find(':') == std::string_view::npos) return false;
  for (char c : address) {
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0 && c != ':' && c != '.') return false;
  }
  if (percent == std::string_view::npos) return true;
  const std::string_view zone = host.substr(percent + 1);
  if (zone.empty()) return false;
  for (char c : zone) {
    if (!IsHostNameChar(c)) return false;
  }
  return true;
}

std::optional<std::uint16_t> ParsePort(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::optional<HostPort> ParseHostPort(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    if (!LooksLikeIpv6(host)) return std::nullopt;
  } else {
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);  // a second colon (bare IPv6) makes the port invalid
    if (host.empty()) return std::nullopt;
    for (char c : host) {
      if (!IsHostNameChar(c)) return std::nullopt;
    }
  }
  const std::optional<std::uint16_t> port = ParsePort(port_text);
  if (!port) return std::nullopt;
  return HostPort{std::string(host), *port};
}

}  // namespace config
