#include "gateway/challenge_verifier.h"

#include <ctime>

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

scep::Error Refuse(std::string why) { return scep::MakeError(scep::ErrorCode::BadRequest, std::move(why)); }

class OneTimePasswordCheck final : public ChallengeVerifier {
 public:
  OneTimePasswordCheck(OneTimeChallengeStore& store, std::string endpoint)
      : store_(store), endpoint_(std::move(endpoint)) {}

  scep::Result<void> Verify(const scep::CertificationRequest& csr) override {
    if (!csr.challenge_password) return Refuse("the request carries no challenge password");
    // Only hashes are stored; the lookup by hash needs no constant-time compare (the hash is not secret-equivalent
    // for a 64-bit random password that is single-use and short-lived).
    const std::string hash = scep::ToHex(scep::Sha256(scep::AsBytes(*csr.challenge_password)));
    auto used = store_.Use(endpoint_, hash, csr.subject, static_cast<std::int64_t>(std::time(nullptr)));
    if (!used) return used.error();
    switch (*used) {
      case ChallengeUseResult::Accepted: return {};
      case ChallengeUseResult::Unknown: return Refuse("challenge password incorrect (not an issued one-time password)");
      case ChallengeUseResult::Expired: return Refuse("challenge password has expired");
      case ChallengeUseResult::AlreadyUsed: return Refuse("challenge password was already used");
      case ChallengeUseResult::SubjectMismatch: return Refuse("challenge password is not valid for this subject");
    }
    return Refuse("challenge password refused");
  }

  std::string mode() const override { return "ndes-one-time"; }

 private:
  OneTimeChallengeStore& store_;
  const std::string endpoint_;
};

class WebhookChallenge final : public ChallengeVerifier {
 public:
  scep::Result<void> Verify(const scep::CertificationRequest&) override { return {}; }
  std::string mode() const override { return "webhook"; }
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

std::unique_ptr<ChallengeVerifier> MakeOneTimeChallenge(OneTimeChallengeStore& store, std::string endpoint) {
  return std::make_unique<OneTimePasswordCheck>(store, std::move(endpoint));
}

std::unique_ptr<ChallengeVerifier> MakeWebhookChallenge() { return std::make_unique<WebhookChallenge>(); }

}  // namespace gateway
