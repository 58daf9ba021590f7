#include "config/value_shapes.h"

#include <cctype>

namespace config::detail {
namespace {

constexpr std::string_view kDnExample = "expected a distinguished name like 'CN=SCEP Gateway CA,O=Example'";

bool IsAsciiLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string Join(std::span<const std::string_view> words) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += "|";
    out += word;
  }
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) text.remove_suffix(1);
  return text;
}

bool Contains(std::span<const std::string_view> words, std::string_view word) {
  for (std::string_view candidate : words) {
    if (candidate == word) return true;
  }
  return false;
}

bool IsDottedOid(std::string_view text) {
  if (text.size() < 3 || text[0] < '0' || text[0] > '2' || text[1] != '.') return false;
  bool arc_has_digit = true;
  for (char c : text) {
    if (c == '.') {
      if (!arc_has_digit) return false;
      arc_has_digit = false;
    } else if (IsAsciiDigit(c)) {
      arc_has_digit = true;
    } else {
      return false;
    }
  }
  return arc_has_digit;
}

bool IsHttpUrl(std::string_view text) {
  std::string lower;
  for (char c : text.substr(0, 8)) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::size_t scheme = 0;
  if (lower.starts_with("http://")) scheme = 7;
  if (lower.starts_with("https://")) scheme = 8;
  if (scheme == 0 || text.size() == scheme) return false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0 || std::iscntrl(static_cast<unsigned char>(c)) != 0) {
      return false;
    }
  }
  return true;
}

bool IsAttributeType(std::string_view text) {
  if (IsDottedOid(text)) return true;
  if (text.empty() || !IsAsciiLetter(text.front())) return false;
  for (char c : text) {
    if (!IsAsciiLetter(c) && !IsAsciiDigit(c)) return false;
  }
  return true;
}

std::string DnShapeProblem(std::string_view dn) {
  if (Trim(dn).empty()) return std::string(kDnExample) + ", got an empty value";
  std::size_t start = 0;
  int part = 1;
  for (std::size_t i = 0; i <= dn.size(); ++i) {
    if (i < dn.size() && dn[i] == '\\') {
      ++i;  // skip the escaped character
      continue;
    }
    if (i < dn.size() && dn[i] != ',') continue;
    const std::string_view rdn = Trim(dn.substr(start, i - start));
    const std::size_t equals = rdn.find('=');
    const std::string_view type = equals == std::string_view::npos ? "" : Trim(rdn.substr(0, equals));
    const std::string_view value = equals == std::string_view::npos ? "" : Trim(rdn.substr(equals + 1));
    const bool type_ok = !type.empty() && type.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                 "0123456789.") == std::string_view::npos;
    if (!type_ok || value.empty()) {
      return std::string(kDnExample) + "; part " + std::to_string(part) + " '" + std::string(rdn) +
             "' is not KEY=VALUE";
    }
    start = i + 1;
    ++part;
  }
  return "";
}

}  // namespace config::detail
