// What an administrator can do to the gateway's state, shared by the admin HTTP API (admin_routes) and the CLI
// (`scep-gateway requests approve|deny`, `certs revoke`). No HTTP here: each action returns an outcome the caller
// turns into a status code or an exit code, and records its audit event itself so that no caller can forget it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/gateway_config.h"
#include "gateway/audit_events.h"
#include "gateway/enrollment_request_store.h"
#include "gateway/issued_cert_store.h"
#include "gateway/one_time_challenge_store.h"
#include "scep/result.h"

namespace gateway {

// ---- one-time challenge passwords (NDES) ----

struct IssuedChallenge {
  std::string password;  // 16 upper-case hex characters; shown once, only its SHA-256 is stored
  std::int64_t expires_at = 0;
};

// Makes a password from 8 random bytes, stores its hash for `endpoint` (valid for cfg.validity_minutes from `now`)
// and records an audit event "challenge_issued" when `audit` is given (never with the password or its hash).
// nullopt: the cache is full (cfg.max_outstanding unused, unexpired passwords exist already); nothing was stored.
// `subject_pattern` must already be a valid ECMAScript regex ("" = any subject).
[[nodiscard]] scep::Result<std::optional<IssuedChallenge>> IssueOneTimeChallenge(
    OneTimeChallengeStore& store, AuditSink* audit, std::string_view endpoint,
    const config::OneTimeChallengeConfig& cfg, std::string_view created_by, std::string_view subject_pattern,
    std::int64_t now);

// Lower-case hex SHA-256 of the password's bytes: what OneTimeChallengeStore keeps and compares.
[[nodiscard]] std::string OneTimeChallengeHash(std::string_view password);

// ---- pending enrollment requests ----

enum class DecisionOutcome {
  Decided,     // the request moved from pending to approved/denied; the event is recorded
  Unknown,     // no request with that id
  NotPending,  // decided already (or expired); `request.status` says how
};

struct RequestDecision {
  DecisionOutcome outcome = DecisionOutcome::Unknown;
  EnrollmentRequest request;  // as stored after the call (empty when Unknown)
};

// `actor` is who decided: "admin:<name>", "cli". It becomes the request's decided_by and the event's actor.
[[nodiscard]] scep::Result<RequestDecision> ApproveRequest(EnrollmentRequestStore& store, AuditSink& audit,
                                                           std::int64_t id, std::string_view actor,
                                                           std::int64_t now);
[[nodiscard]] scep::Result<RequestDecision> DenyRequest(EnrollmentRequestStore& store, AuditSink& audit,
                                                        std::int64_t id, std::string_view reason,
                                                        std::string_view actor, std::int64_t now);

// ---- revocation ----

// RFC 5280 CRLReason codes by their ASN.1 names ("keyCompromise" -> 1), compared case-insensitively.
// removeFromCRL (8) is not accepted: it only makes sense in delta CRLs, which the gateway does not publish.
[[nodiscard]] std::optional<int> RevocationReasonCode(std::string_view name);
// "keyCompromise" for 1; "unknown(7)" for a code without a name.
[[nodiscard]] std::string RevocationReasonName(int code);
// The accepted names, comma-separated, for error messages and --help.
[[nodiscard]] std::string RevocationReasonNames();

enum class RevokeOutcome {
  Revoked,         // revoked now; the event is recorded
  AlreadyRevoked,  // nothing changed: the first date and reason stand
  UnknownSerial,
  UnknownReason,   // `reason_name` is not one RevocationReasonCode accepts; nothing looked up
};

struct Revocation {
  RevokeOutcome outcome = RevokeOutcome::UnknownSerial;
  IssuedCert cert;  // as stored after the call (empty when UnknownSerial/UnknownReason)
};

// `serial` is hex in either case, ':' separators allowed (the store keeps upper-case hex without them).
[[nodiscard]] scep::Result<Revocation> RevokeCertificate(IssuedCertStore& store, AuditSink& audit,
                                                         std::string_view serial, std::string_view reason_name,
                                                         std::string_view actor, std::int64_t now);

}  // namespace gateway
