#include "gateway/challenge_verifier.h"

#include <openssl/crypto.h>

#include "scep/der.h"

namespace gateway {
namespace {

class StaticChallenge final : public ChallengeVerifier {
 public:
  explicit StaticChallenge(std::string secret) : secret_digest_(scep::Sha256(scep::AsBytes(secret))) {}

  scep::Result<void> Verify(const scep::CertificationRequest& csr) override {
    if (!csr.challenge_password) {
      return scep::MakeError(scep::ErrorCode::BadRequest, "the request carries no challenge password");
    }
    // Comparing digests keeps the time independent of both the content and the length of the secret.
    const scep::Bytes given = scep::Sha256(scep::AsBytes(*csr.challenge_password));
    if (CRYPTO_memcmp(given.data(), secret_digest_.data(), given.size()) != 0) {
      return scep::MakeError(scep::ErrorCode::BadRequest, "challenge password incorrect");
    }
    return {};
  }

  std::string mode() const override { return "static"; }

 private:
  const scep::Bytes secret_digest_;
};

class NoChallenge final : public ChallengeVerifier {
 public:
  scep::Result<void> Verify(const scep::CertificationRequest&) override { return {}; }
  std::string mode() const override { return "none"; }
};

}  // namespace

std::unique_ptr<ChallengeVerifier> MakeStaticChallenge(std::string secret) {
  return std::make_unique<StaticChallenge>(std::move(secret));
}

std::unique_ptr<ChallengeVerifier> MakeNoChallenge() { return std::make_unique<NoChallenge>(); }

}  // namespace gateway
