// Exit notifications: every decision the gateway takes about a certificate becomes one event. Events go to a
// JSON-lines audit file in the data dir (always; appended and flushed before Record returns, so it survives a
// restart) and from there to the configured webhooks, which are retried until they accept (delivery resumes from
// the audit file after a restart, so an event is never dropped silently).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "scep/result.h"

namespace gateway {

struct AuditEvent {
  std::string event;           // issued|denied|pending|approved|revoked
  std::int64_t time = 0;       // unix seconds; 0 = now
  std::string endpoint;
  std::string transaction_id;
  std::int64_t request_id = 0;  // enrollment request id (pending/approved/denied), 0 = none
  std::string serial;
  std::string subject;
  std::string sans;
  std::string reason;          // deny reason, revocation reason name, "renewal", ...
  std::string actor;           // "policy", "webhook", "admin:<name>", "cli", "expiry", "client"
  std::string client_address;
};

// One audit line without its newline: event and time (RFC 3339 UTC) always, the other fields when not empty.
[[nodiscard]] std::string AuditEventToJson(const AuditEvent& event);

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Thread-safe. An error means the audit file could not be written; the caller logs it (the decision stands).
  [[nodiscard]] virtual scep::Result<void> Record(const AuditEvent& event) = 0;
  // Thread-safe. Lines already in the file's format (AuditEventToJson, each ending in '\n'), appended with one write
  // and one flush: for writers that batch events, like the certificate store's group commit.
  [[nodiscard]] virtual scep::Result<void> RecordLines(std::string_view lines) = 0;
};

}  // namespace gateway
