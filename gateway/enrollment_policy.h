// The local half of the CA's decision: which template a request gets (by its requested keyUsage, as NDES picks
// Signature/Encryption/GeneralPurpose templates), whether it passes the endpoint's rules, and what the CA changes
// (forced RDNs, dropped SANs, capped validity). No I/O: the webhook is policy_webhook.h, the store is elsewhere.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ca-backend/cert_issuer.h"
#include "config/gateway_config.h"
#include "scep/pkcs_req.h"

namespace gateway {

enum class Decision { Issue, Deny, Pend };
[[nodiscard]] std::string to_string(Decision decision);  // "issue", "deny", "pend"

struct PolicyDecision {
  Decision decision = Decision::Issue;
  std::string reason;               // Deny: which rule refused ("subject CN 'x' does not match ^...$"); Pend: why
  std::string template_kind;        // "signature", "encryption", "general"
  ca::CertTemplate cert_template;   // what to issue with, policy changes applied
};

// The RFC 5280 names of the keyUsage bits set in `bits` (X509v3_KU_* values), in RFC order.
[[nodiscard]] std::vector<std::string> KeyUsageNames(std::uint32_t bits);

class EnrollmentPolicy {
 public:
  // The endpoint's config has been validated (regexes compile, names are known).
  explicit EnrollmentPolicy(const config::EndpointConfig& endpoint);
  EnrollmentPolicy(EnrollmentPolicy&&) noexcept;
  ~EnrollmentPolicy();

  // Thread-safe. Deny with the first rule that fails; Pend when `approval: manual`; Issue otherwise.
  [[nodiscard]] PolicyDecision Evaluate(const scep::CertificationRequest& csr) const;

 private:
  struct Rules;
  std::unique_ptr<Rules> rules_;
};

}  // namespace gateway
