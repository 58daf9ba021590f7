// The words some configuration values are chosen from, shared by the checks of several sections.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace config::detail {

// policy.approval and a template's approval.
inline constexpr std::array<std::string_view, 2> kApprovals{"auto", "manual"};
inline constexpr std::array<std::string_view, 5> kKeyUsages{"digitalSignature", "nonRepudiation", "keyEncipherment",
                                                            "dataEncipherment", "keyAgreement"};
inline constexpr std::array<std::string_view, 7> kExtendedKeyUsages{
    "serverAuth", "clientAuth", "codeSigning", "emailProtection", "timeStamping", "OCSPSigning", "ipsecIKE"};

// "base.name", or "name" when base is empty (a top-level key).
inline std::string Key(const std::string& base, std::string_view name) {
  return base.empty() ? std::string(name) : base + "." + std::string(name);
}

}  // namespace config::detail
