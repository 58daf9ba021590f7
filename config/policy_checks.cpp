#include "config/policy_checks.h"

#include <array>
#include <charconv>
#include <optional>
#include <regex>
#include <string_view>
#include <utility>

#include "config/did_you_mean.h"
#include "config/value_sets.h"
#include "config/value_shapes.h"

namespace config::detail {
namespace {

constexpr std::array<std::string_view, 4> kSanTypes{"DNS", "IP", "email", "URI"};
constexpr std::array<std::string_view, 2> kDisallowedSans{"refuse", "drop"};
constexpr std::array<std::string_view, 3> kEcCurves{"ec:p256", "ec:p384", "ec:p521"};
constexpr std::array<std::string_view, 3> kOnUnavailable{"issue", "deny", "pend"};
constexpr int kMinRsaBits = 1024;
constexpr int kMaxRsaBits = 16384;

// "" when `pattern` compiles as an ECMAScript regular expression, else why not.
std::string RegexProblem(const std::string& pattern) {
  try {
    const std::regex compiled(pattern, std::regex::ECMAScript);
    return "";
  } catch (const std::regex_error& e) {
    return e.what();
  }
}

// KEY and VALUE of a KEY=VALUE item (split at the first '=', so a regex may hold more), or nullopt with an error
// when there is no '=' or a side is empty.
std::optional<std::pair<std::string, std::string>> SplitItem(Checker& check, const std::string& key,
                                                             const std::string& item, std::string_view shape) {
  const std::size_t equals = item.find('=');
  if (equals == std::string::npos || equals == 0 || equals + 1 == item.size()) {
    check.Fail(key, "expected " + std::string(shape) + ", got '" + item + "'");
    return std::nullopt;
  }
  return std::pair{item.substr(0, equals), item.substr(equals + 1)};
}

// subject ("CN=regex") when `regex`, force_subject ("O=value") otherwise.
void CheckSubjectRules(Checker& check, const std::vector<std::string>& items, const std::string& key, bool regex) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string item_key = Item(key, i);
    const auto parts = SplitItem(check, item_key, items[i], regex ? "ATTRIBUTE=REGEX such as 'CN=^[a-z0-9.-]+$'"
                                                                  : "ATTRIBUTE=VALUE such as 'O=Example'");
    if (!parts) continue;
    if (!IsAttributeType(parts->first)) {
      check.Fail(item_key, "expected a DN attribute such as CN, O, OU or a dotted OID before '=', got '" +
                               parts->first + "'");
    } else if (const std::string problem = regex ? RegexProblem(parts->second) : ""; !problem.empty()) {
      check.Fail(item_key, "invalid regular expression '" + parts->second + "': " + problem);
    }
  }
}

void CheckSanPatterns(Checker& check, const std::vector<std::string>& items, const std::string& key) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string item_key = Item(key, i);
    const auto parts = SplitItem(check, item_key, items[i], "TYPE=REGEX such as 'DNS=^[a-z0-9-]+\\.example\\.com$'");
    if (!parts) continue;
    if (!Contains(kSanTypes, parts->first)) {
      check.Fail(item_key, "expected one of " + Join(kSanTypes) + " before '=', got '" + parts->first + "'" +
                               DidYouMean(parts->first, kSanTypes));
    } else if (const std::string problem = RegexProblem(parts->second); !problem.empty()) {
      check.Fail(item_key, "invalid regular expression '" + parts->second + "': " + problem);
    }
  }
}

bool IsKeyType(std::string_view text) {
  if (Contains(kEcCurves, text)) return true;
  if (!text.starts_with("rsa:")) return false;
  const std::string_view digits = text.substr(4);
  int bits = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
  return ec == std::errc() && end == digits.data() + digits.size() && bits >= kMinRsaBits && bits <= kMaxRsaBits;
}

void CheckKeyTypes(Checker& check, const std::vector<std::string>& types, const std::string& key) {
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (IsKeyType(types[i])) continue;
    check.Fail(Item(key, i), "expected rsa:BITS (" + std::to_string(kMinRsaBits) + " to " +
                                 std::to_string(kMaxRsaBits) + ") or one of " + Join(kEcCurves) + ", got '" +
                                 types[i] + "'");
  }
}

void CheckWebhook(Checker& check, const WebhookConfig& webhook, const std::string& key) {
  if (!webhook.url.empty() && !IsHttpUrl(webhook.url)) {
    check.Fail(Key(key, "url"), "expected an http:// or https:// URL, got '" + webhook.url + "'");
  }
  check.Between(Key(key, "timeout_seconds"), webhook.timeout_seconds, 1, 300);
  check.Between(Key(key, "retries"), webhook.retries, 0, 10);
  check.OneOf(Key(key, "on_unavailable"), webhook.on_unavailable, kOnUnavailable);
}

}  // namespace

void CheckExtendedKeyUsages(Checker& check, const std::vector<std::string>& usages, const std::string& key) {
  for (std::size_t i = 0; i < usages.size(); ++i) {
    const std::string& usage = usages[i];
    if (Contains(kExtendedKeyUsages, usage) || IsDottedOid(usage)) continue;
    check.Fail(Item(key, i), "expected one of " + Join(kExtendedKeyUsages) +
                                 " or a dotted OID such as 1.3.6.1.5.5.7.3.2, got '" + usage + "'" +
                                 DidYouMean(usage, kExtendedKeyUsages));
  }
}

void CheckSubjectPatterns(Checker& check, const std::vector<std::string>& items, const std::string& key) {
  CheckSubjectRules(check, items, key, true);
}

void CheckPolicy(Checker& check, const PolicyConfig& policy, const std::string& key) {
  CheckSubjectRules(check, policy.subject, Key(key, "subject"), true);
  CheckSubjectRules(check, policy.force_subject, Key(key, "force_subject"), false);
  check.EachOneOf(Key(key, "required_san_types"), policy.required_san_types, kSanTypes);
  CheckSanPatterns(check, policy.san_patterns, Key(key, "san_patterns"));
  check.OneOf(Key(key, "disallowed_sans"), policy.disallowed_sans, kDisallowedSans);
  CheckKeyTypes(check, policy.key_types, Key(key, "key_types"));
  check.EachOneOf(Key(key, "allowed_key_usages"), policy.allowed_key_usages, kKeyUsages);
  CheckExtendedKeyUsages(check, policy.allowed_extended_key_usages, Key(key, "allowed_extended_key_usages"));
  check.AtLeast(Key(key, "max_validity_days"), policy.max_validity_days, 0);
  check.OneOf(Key(key, "approval"), policy.approval, kApprovals);
  check.Between(Key(key, "pending_expiry_hours"), policy.pending_expiry_hours, 1, 87600);
  CheckWebhook(check, policy.webhook, Key(key, "webhook"));
}

}  // namespace config::detail
