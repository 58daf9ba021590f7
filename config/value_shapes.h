// Small tests on the shape of configuration values, shared by the checks.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace config::detail {

// "a|b|c"
std::string Join(std::span<const std::string_view> words);

std::string_view Trim(std::string_view text);

bool Contains(std::span<const std::string_view> words, std::string_view word);

// A dotted OID such as 1.3.6.1.5.5.7.3.2: at least two arcs, the first 0, 1 or 2.
bool IsDottedOid(std::string_view text);

// http:// or https:// followed by something, with no spaces or control characters.
bool IsHttpUrl(std::string_view text);

// A DN attribute type as written in a subject: a short name such as CN or emailAddress, or a dotted OID.
bool IsAttributeType(std::string_view text);

// "" when `dn` has the shape KEY=VALUE{,KEY=VALUE} (a backslash escapes a comma), else what is wrong with it.
std::string DnShapeProblem(std::string_view dn);

}  // namespace config::detail
