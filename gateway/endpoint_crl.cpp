// ScepService::CurrentCrl: the CRL of the endpoint's CA, served by GetCRL and GET /crl/<ca>.crl.
//
// The store is the truth about revocations, and another process (`scep-gateway certs revoke`) may add some, so the
// revoked set is read on every call (CRL fetches are rare next to enrollments) and the CRL is signed again only
// when that set changed or half of its validity has passed.
#include <ctime>

#include <openssl/x509.h>

#include "gateway/scep_service.h"

namespace gateway {

scep::Result<scep::Bytes> ScepService::CurrentCrl() {
  auto revoked = store_.ListRevoked();
  if (!revoked) return revoked.error();
  // One store may hold certificates of several CAs (endpoints with their own CA): list only this CA's.
  const std::string ca_name = scep::NameToString(X509_get_subject_name(issuer_.ca_cert()));
  std::vector<ca::RevokedCert> entries;
  std::string key;
  for (const IssuedCert& c : *revoked) {
    if (c.issuer != ca_name) continue;
    entries.push_back({c.serial, c.revoked_at, c.revocation_reason});
    key += c.serial + ",";
  }
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  std::lock_guard lock(crl_mutex_);
  const bool fresh = !crl_.der.empty() && crl_.revoked_key == key &&
                     now - crl_.made_at < options_.crl_next_update.count() / 2;
  if (fresh) return crl_.der;
  auto crl = issuer_.MakeCrl(entries, options_.crl_next_update);
  if (!crl) return crl.error();
  auto der = scep::CrlToDer(crl->get());
  if (!der) return der.error();
  crl_ = CachedCrl{std::move(key), now, *der};
  return crl_.der;
}

}  // namespace gateway
