// Who may enroll without a certificate of ours: the challengePassword check of a first enrollment.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "gateway/one_time_challenge_store.h"
#include "scep/pkcs_req.h"
#include "scep/result.h"

namespace gateway {

class ChallengeVerifier {
 public:
  virtual ~ChallengeVerifier() = default;
  // BadRequest when the request may not enroll. Thread-safe.
  [[nodiscard]] virtual scep::Result<void> Verify(const scep::CertificationRequest& csr) = 0;
  // For the start-up log: "static", "ndes-one-time", "webhook", "none".
  [[nodiscard]] virtual std::string mode() const = 0;
};

// One shared secret, compared in constant time.
[[nodiscard]] std::unique_ptr<ChallengeVerifier> MakeStaticChallenge(std::string secret);
// Anyone may enroll. For labs only; the gateway logs a warning at start-up.
[[nodiscard]] std::unique_ptr<ChallengeVerifier> MakeNoChallenge();
// NDES one-time passwords of `endpoint`: the hash of the CSR's challenge must be an outstanding password, which
// this use consumes (atomically, in the store).
[[nodiscard]] std::unique_ptr<ChallengeVerifier> MakeOneTimeChallenge(OneTimeChallengeStore& store,
                                                                      std::string endpoint);
// The policy webhook validates the challenge (it receives it with the request); nothing to check here.
[[nodiscard]] std::unique_ptr<ChallengeVerifier> MakeWebhookChallenge();

}  // namespace gateway
