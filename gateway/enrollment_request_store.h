// Enrollment requests held for a decision (policy `approval: manual`, or a webhook that answered "pend"), and what
// became of them. The SCEP service answers PENDING while a request is pending; an administrator approves or denies
// it (CLI or admin API, possibly from another process); the client's next CertPoll or re-sent PKCSReq then gets the
// certificate or a FAILURE. Small on purpose, like IssuedCertStore.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scep/result.h"

namespace gateway {

enum class RequestStatus { Pending, Approved, Denied, Issued };

// The spelling is also what the SQL backends store and what the CLI and API show, so it must not change.
inline std::string to_string(RequestStatus status) {
  switch (status) {
    case RequestStatus::Pending: return "pending";
    case RequestStatus::Approved: return "approved";
    case RequestStatus::Denied: return "denied";
    case RequestStatus::Issued: return "issued";
  }
  return "unknown(" + std::to_string(static_cast<int>(status)) + ")";
}
[[nodiscard]] std::optional<RequestStatus> ParseRequestStatus(std::string_view text);

struct EnrollmentRequest {
  std::int64_t id = 0;              // assigned by Add, > 0
  std::string endpoint;             // endpoint name
  std::string transaction_id;       // SCEP transactionID
  std::string request_fingerprint;  // as IssuedCert::request_fingerprint
  std::string message_type;         // "PKCSReq", "RenewalReq"
  std::string subject;              // of the CSR
  std::string sans;                 // of the CSR, "DNS:a,IP:b"
  std::string client_address;       // peer IP of the request that created it
  std::vector<std::uint8_t> csr;    // the PKCS#10 DER, issued from once approved
  RequestStatus status = RequestStatus::Pending;
  std::string reason;               // why it is pending / denied
  std::string decided_by;           // admin user, "webhook", "policy", "expiry"
  std::int64_t created_at = 0;      // unix seconds
  std::int64_t expires_at = 0;      // unix seconds: still pending then = denied by expiry
  std::int64_t decided_at = 0;      // unix seconds, 0 while pending
  std::string serial;               // of the certificate, once issued

  bool operator==(const EnrollmentRequest&) const = default;
};

class EnrollmentRequestStore {
 public:
  virtual ~EnrollmentRequestStore() = default;

  // Durable before it returns; returns the new id. A transactionID that already has a request is an error.
  [[nodiscard]] virtual scep::Result<std::int64_t> Add(const EnrollmentRequest& request) = 0;
  [[nodiscard]] virtual scep::Result<std::optional<EnrollmentRequest>> FindById(std::int64_t id) = 0;
  [[nodiscard]] virtual scep::Result<std::optional<EnrollmentRequest>> FindByTransaction(
      std::string_view transaction_id) = 0;
  // Ordered by id; nullopt = every status.
  [[nodiscard]] virtual scep::Result<std::vector<EnrollmentRequest>> List(std::optional<RequestStatus> status) = 0;
  // Moves a request from `from` to `to` (atomically, durably). False when the request is not in `from` (decided
  // already, or unknown): two admins approving and denying at once cannot both win.
  [[nodiscard]] virtual scep::Result<bool> Transition(std::int64_t id, RequestStatus from, RequestStatus to,
                                                      std::string_view reason, std::string_view decided_by,
                                                      std::int64_t at) = 0;
  // Approved -> Issued with the certificate's serial.
  [[nodiscard]] virtual scep::Result<bool> MarkIssued(std::int64_t id, std::string_view serial, std::int64_t at) = 0;
  // Pending requests whose expires_at <= now become Denied ("expired", decided_by "expiry"); returns how many.
  [[nodiscard]] virtual scep::Result<int> ExpirePending(std::int64_t now) = 0;
};

}  // namespace gateway
