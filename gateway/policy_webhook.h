// The external half of the CA's decision: POST the request's facts as JSON to a site's own service (an MDM, an
// inventory, a challenge validator like step-ca's SCEPCHALLENGE webhook) and follow its answer
// {"decision": "issue"|"deny"|"pend", "reason": "..."}. Timeout and retries from config; when every attempt
// fails (transport error, 5xx, unparsable answer) the configured on_unavailable decision applies.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/gateway_config.h"
#include "gateway/enrollment_policy.h"

namespace gateway {

// What the hook is told. JSON keys: endpoint, transaction_id, message_type, subject, sans (list of "DNS:x"),
// key_type, key_bits, key_usage (list of names), challenge, client_address, renewal, csr (PEM).
struct WebhookQuestion {
  std::string endpoint;
  std::string transaction_id;
  std::string message_type;
  std::string subject;
  std::vector<std::string> sans;
  std::string key_type;
  int key_bits = 0;
  std::vector<std::string> key_usage;
  std::string challenge;  // as the CSR carried it ("" when none)
  std::string client_address;
  bool renewal = false;
  std::string csr_pem;
};

struct WebhookAnswer {
  Decision decision = Decision::Deny;
  std::string reason;    // from the hook, or "webhook unavailable: ..." when on_unavailable applied
  bool unavailable = false;
};

// An http:// or https:// URL taken apart for HttpClient (also used by the audit log's notification webhooks).
struct WebhookUrl {
  bool tls = false;
  std::string host;     // without the brackets of an IPv6 literal
  std::uint16_t port = 0;  // 80 / 443 when the URL has none
  std::string target;   // path and query; "/" when the URL has no path
};
// nullopt when `url` is not an absolute http(s) URL with a host.
[[nodiscard]] std::optional<WebhookUrl> ParseWebhookUrl(std::string_view url);

class PolicyWebhook {
 public:
  explicit PolicyWebhook(config::WebhookConfig config);
  // Thread-safe; blocks for at most (retries + 1) * timeout plus short back-offs.
  [[nodiscard]] WebhookAnswer Ask(const WebhookQuestion& question) const;

 private:
  config::WebhookConfig config_;
};

}  // namespace gateway
