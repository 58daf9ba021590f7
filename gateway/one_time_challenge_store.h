// NDES-style one-time challenge passwords: only their SHA-256 hashes are kept, each is good for one enrollment,
// and "used" is set atomically, so two devices racing with the same password cannot both pass.
// Small on purpose, like IssuedCertStore: a PostgreSQL implementation will sit behind the same interface.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "scep/result.h"

namespace gateway {

struct OneTimeChallenge {
  std::string endpoint;         // endpoint name: a password is good only where it was issued
  std::string password_hash;    // lower-case hex SHA-256 of the password's UTF-8 bytes
  std::int64_t created_at = 0;  // unix seconds
  std::int64_t expires_at = 0;  // unix seconds
  std::string subject_pattern;  // ECMAScript regex the CSR subject ("CN=...,O=...") must match; "" = any
  std::string created_by;       // admin user name, for the audit trail
};

enum class ChallengeAddResult { Added, CacheFull };
enum class ChallengeUseResult { Accepted, Unknown, Expired, AlreadyUsed, SubjectMismatch };

class OneTimeChallengeStore {
 public:
  virtual ~OneTimeChallengeStore() = default;

  // Durable before it returns. CacheFull (nothing stored) when `max_outstanding` unused, unexpired passwords of
  // that endpoint exist already at `challenge.created_at`. Thread-safe and atomic across processes.
  [[nodiscard]] virtual scep::Result<ChallengeAddResult> Add(const OneTimeChallenge& challenge,
                                                             int max_outstanding) = 0;
  // Checks the password of `endpoint` and, if acceptable at `now` for `subject`, marks it used (durably) in the same
  // step. Exactly one of any number of concurrent callers with the same password gets Accepted.
  [[nodiscard]] virtual scep::Result<ChallengeUseResult> Use(std::string_view endpoint, std::string_view password_hash,
                                                             std::string_view subject, std::int64_t now) = 0;
  // Unused and unexpired at `now`.
  [[nodiscard]] virtual scep::Result<int> Outstanding(std::string_view endpoint, std::int64_t now) = 0;
};

}  // namespace gateway
