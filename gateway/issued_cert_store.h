// The durable record of every certificate the gateway has issued. The SCEP service writes here before it replies,
// so a client that received a certificate can always find it again (GetCertInitial retries, CRL building, audit).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scep/result.h"

namespace gateway {

enum class CertStatus { Issued, Revoked };

// The spelling is also what the SQL backends store, so it must not change.
inline std::string to_string(CertStatus status) {
  switch (status) {
    case CertStatus::Issued: return "issued";
    case CertStatus::Revoked: return "revoked";
  }
  return "unknown(" + std::to_string(static_cast<int>(status)) + ")";
}

struct IssuedCert {
  std::string serial;               // upper-case hex, unique
  std::string issuer;               // CA subject DN
  std::string subject;              // "CN=router1,O=Example"
  std::string sans;                 // "DNS:a.example,IP:10.0.0.1"
  std::int64_t not_before = 0;      // unix seconds
  std::int64_t not_after = 0;       // unix seconds
  std::int64_t issued_at = 0;       // unix seconds
  std::string transaction_id;       // SCEP transactionID (opaque string)
  std::string request_fingerprint;  // hex SHA-256 identifying the request (for idempotent retries)
  std::string message_type;         // "PKCSReq", "RenewalReq"
  std::vector<std::uint8_t> der;    // the certificate
  CertStatus status = CertStatus::Issued;
  std::int64_t revoked_at = 0;      // unix seconds, 0 while issued
  int revocation_reason = 0;        // RFC 5280 CRLReason

  bool operator==(const IssuedCert&) const = default;
};

// Small on purpose: a PostgreSQL implementation for several replicas will follow behind the same interface.
class IssuedCertStore {
 public:
  virtual ~IssuedCertStore() = default;

  // Returns only once the row is durably committed (fsync'd). Thread-safe; concurrent calls are group-committed.
  // A serial that is already stored is an error: serials identify certificates.
  [[nodiscard]] virtual scep::Result<void> Put(const IssuedCert& cert) = 0;
  // Put, and `audit_line` (an AuditEventToJson line) goes to the store's audit sink in the same group commit: after
  // the row is committed (a line never names a certificate that is not stored) and before returning, with one write
  // and one flush for the whole batch instead of one more round per request. Without a sink it is Put.
  [[nodiscard]] virtual scep::Result<void> PutAndAudit(const IssuedCert& cert, std::string_view audit_line) = 0;
  // The most recently issued certificate for a SCEP transactionID (renewals may reuse one).
  [[nodiscard]] virtual scep::Result<std::optional<IssuedCert>> FindByTransaction(
      std::string_view transaction_id) = 0;
  [[nodiscard]] virtual scep::Result<std::optional<IssuedCert>> FindBySerial(std::string_view serial) = 0;
  // Ordered by issued_at, then serial.
  [[nodiscard]] virtual scep::Result<std::vector<IssuedCert>> List() = 0;
  // Ordered by revoked_at, then serial.
  [[nodiscard]] virtual scep::Result<std::vector<IssuedCert>> ListRevoked() = 0;
  // Durable like Put. False if the serial is unknown. Revoking twice keeps the first date and reason.
  [[nodiscard]] virtual scep::Result<bool> Revoke(std::string_view serial, int reason, std::int64_t at) = 0;
  [[nodiscard]] virtual scep::Result<std::int64_t> Count() = 0;
  // For /healthz: can we read, and is the writer alive.
  [[nodiscard]] virtual scep::Result<void> Check() = 0;
};

}  // namespace gateway
