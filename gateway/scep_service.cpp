#include "gateway/scep_service.h"

#include <functional>

#include "scep/degenerate_certs.h"

namespace gateway {
namespace {

CaCertBody MakeCaCertBody(const ca::ScepIdentity& identity) {
  const auto& published = identity.published;
  if (published.size() == 1) {
    auto der = scep::CertToDer(published.front().get());
    return {der ? std::move(*der) : scep::Bytes(), scep::kCaCertContentType};
  }
  std::vector<X509*> certs;
  for (const auto& cert : published) certs.push_back(cert.get());
  auto p7 = scep::BuildDegenerateCerts(certs);
  return {p7 ? std::move(*p7) : scep::Bytes(), scep::kCaRaCertContentType};
}

}  // namespace

ScepService::ScepService(ScepServiceParts parts, ScepServiceOptions options)
    : issuer_(parts.issuer),
      store_(parts.certs),
      requests_(parts.requests),
      challenge_(parts.challenge),
      policy_(parts.policy),
      webhook_(parts.webhook),
      audit_(parts.audit),
      options_(std::move(options)),
      caps_(scep::CaCaps{}),
      ca_cert_(MakeCaCertBody(parts.issuer.scep_identity())) {}

scep::Result<void> ScepService::Health() {
  if (ca_cert_.body.empty() || issuer_.ca_cert() == nullptr) {
    return scep::MakeError(scep::ErrorCode::Internal, "CA certificate unavailable");
  }
  return store_.Check();
}

std::int64_t ScepService::CaNotAfter() const {
  return scep::ToUnixTime(X509_get0_notAfter(issuer_.ca_cert()));
}

scep::SigningKey ScepService::signer() const {
  const auto& id = issuer_.scep_identity();
  return {id.sign_cert.get(), id.sign_key.get()};
}

std::mutex& ScepService::TransactionLock(const std::string& transaction_id) {
  return transaction_locks_[std::hash<std::string>{}(transaction_id) % transaction_locks_.size()];
}

}  // namespace gateway
