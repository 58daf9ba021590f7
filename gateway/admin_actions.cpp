#include "gateway/admin_actions.h"

#include <array>
#include <cctype>
#include <utility>

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "scep/der.h"

namespace gateway {
namespace {

using scep::ErrorCode;

// The audit file failing must not undo a decision that is already durable in the store: log it loudly instead.
void RecordOrLog(AuditSink& audit, const AuditEvent& event) {
  if (auto recorded = audit.Record(event); !recorded) {
    spdlog::error("audit: cannot record '{}' event: {}", event.event, recorded.error().ToString());
  }
}

struct NamedReason {
  std::string_view name;
  int code;
};
constexpr std::array<NamedReason, 9> kReasons{{
    {"unspecified", 0},
    {"keyCompromise", 1},
    {"cACompromise", 2},
    {"affiliationChanged", 3},
    {"superseded", 4},
    {"cessationOfOperation", 5},
    {"certificateHold", 6},
    {"privilegeWithdrawn", 9},
    {"aACompromise", 10},
}};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string NormalizeSerial(std::string_view serial) {
  std::string out;
  for (const char c : serial) {
    if (c != ':') out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

AuditEvent DecisionEvent(std::string event, const EnrollmentRequest& request, std::string_view reason,
                         std::string_view actor, std::int64_t now) {
  AuditEvent e;
  e.event = std::move(event);
  e.time = now;
  e.endpoint = request.endpoint;
  e.transaction_id = request.transaction_id;
  e.request_id = request.id;
  e.subject = request.subject;
  e.sans = request.sans;
  e.reason = std::string(reason);
  e.actor = std::string(actor);
  e.client_address = request.client_address;
  return e;
}

scep::Result<RequestDecision> Decide(EnrollmentRequestStore& store, AuditSink& audit, std::int64_t id,
                                     RequestStatus to, std::string_view reason, std::string_view actor,
                                     std::int64_t now) {
  auto found = store.FindById(id);
  if (!found) return found.error();
  if (!found->has_value()) return RequestDecision{DecisionOutcome::Unknown, {}};
  if ((*found)->status != RequestStatus::Pending) return RequestDecision{DecisionOutcome::NotPending, **found};

  // An approval keeps the reason the request was held for; a denial replaces it with why it was denied.
  const std::string stored_reason = to == RequestStatus::Approved ? (*found)->reason : std::string(reason);
  auto moved = store.Transition(id, RequestStatus::Pending, to, stored_reason, actor, now);
  if (!moved) return moved.error();
  auto after = store.FindById(id);
  if (!after) return after.error();
  if (!after->has_value()) return RequestDecision{DecisionOutcome::Unknown, {}};
  // Lost a race with another admin (or the expiry sweep): report what the winner decided.
  if (!*moved) return RequestDecision{DecisionOutcome::NotPending, **after};

  RecordOrLog(audit, DecisionEvent(to_string(to), **after, reason, actor, now));
  spdlog::info("request {} ({}) {} by {}", id, (*after)->subject, to_string(to), actor);
  return RequestDecision{DecisionOutcome::Decided, **after};
}

}  // namespace

std::string OneTimeChallengeHash(std::string_view password) {
  return scep::ToHex(scep::Sha256(scep::AsBytes(password)));
}

scep::Result<std::optional<IssuedChallenge>> IssueOneTimeChallenge(
    OneTimeChallengeStore& store, AuditSink* audit, std::string_view endpoint,
    const config::OneTimeChallengeConfig& cfg, std::string_view created_by, std::string_view subject_pattern,
    std::int64_t now) {
  std::array<unsigned char, 8> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "no random bytes for a one-time challenge");
  }
  IssuedChallenge issued;
  for (const char c : scep::ToHex(random)) issued.password.push_back(static_cast<char>(std::toupper(c)));
  issued.expires_at = now + std::int64_t{cfg.validity_minutes} * 60;

  OneTimeChallenge challenge;
  challenge.endpoint = std::string(endpoint);
  challenge.password_hash = OneTimeChallengeHash(issued.password);
  challenge.created_at = now;
  challenge.expires_at = issued.expires_at;
  challenge.subject_pattern = std::string(subject_pattern);
  challenge.created_by = std::string(created_by);
  auto added = store.Add(challenge, cfg.max_outstanding);
  if (!added) return added.error();
  if (*added == ChallengeAddResult::CacheFull) return std::optional<IssuedChallenge>();

  if (audit != nullptr) {
    AuditEvent e;
    e.event = "challenge_issued";
    e.time = now;
    e.endpoint = challenge.endpoint;
    e.reason = subject_pattern.empty() ? "" : "subject pattern " + challenge.subject_pattern;
    e.actor = challenge.created_by;
    RecordOrLog(*audit, e);
  }
  return std::optional<IssuedChallenge>(std::move(issued));
}

scep::Result<RequestDecision> ApproveRequest(EnrollmentRequestStore& store, AuditSink& audit, std::int64_t id,
                                             std::string_view actor, std::int64_t now) {
  return Decide(store, audit, id, RequestStatus::Approved, "", actor, now);
}

scep::Result<RequestDecision> DenyRequest(EnrollmentRequestStore& store, AuditSink& audit, std::int64_t id,
                                          std::string_view reason, std::string_view actor, std::int64_t now) {
  return Decide(store, audit, id, RequestStatus::Denied, reason, actor, now);
}

std::optional<int> RevocationReasonCode(std::string_view name) {
  for (const auto& r : kReasons) {
    if (EqualsIgnoreCase(r.name, name)) return r.code;
  }
  return std::nullopt;
}

std::string RevocationReasonName(int code) {
  for (const auto& r : kReasons) {
    if (r.code == code) return std::string(r.name);
  }
  if (code == 8) return "removeFromCRL";
  return "unknown(" + std::to_string(code) + ")";
}

std::string RevocationReasonNames() {
  std::string names;
  for (const auto& r : kReasons) {
    names += (names.empty() ? "" : ", ") + std::string(r.name);
  }
  return names;
}

scep::Result<Revocation> RevokeCertificate(IssuedCertStore& store, AuditSink& audit, std::string_view serial,
                                           std::string_view reason_name, std::string_view actor,
                                           std::int64_t now) {
  const auto code = RevocationReasonCode(reason_name);
  if (!code) return Revocation{RevokeOutcome::UnknownReason, {}};
  const std::string normalized = NormalizeSerial(serial);
  auto found = store.FindBySerial(normalized);
  if (!found) return found.error();
  if (!found->has_value()) return Revocation{RevokeOutcome::UnknownSerial, {}};
  if ((*found)->status == CertStatus::Revoked) return Revocation{RevokeOutcome::AlreadyRevoked, **found};

  auto revoked = store.Revoke(normalized, *code, now);
  if (!revoked) return revoked.error();
  auto after = store.FindBySerial(normalized);
  if (!after) return after.error();
  if (!after->has_value()) return Revocation{RevokeOutcome::UnknownSerial, {}};

  AuditEvent e;
  e.event = "revoked";
  e.time = now;
  e.serial = (*after)->serial;
  e.subject = (*after)->subject;
  e.sans = (*after)->sans;
  e.transaction_id = (*after)->transaction_id;
  e.reason = RevocationReasonName(*code);
  e.actor = std::string(actor);
  RecordOrLog(audit, e);
  spdlog::info("certificate {} ({}) revoked by {}: {}", e.serial, e.subject, actor, e.reason);
  return Revocation{RevokeOutcome::Revoked, **after};
}

}  // namespace gateway
