#include "config/config_schema.h"

#include <utility>

#include "config/top_level_endpoint.h"

namespace config::detail {

Schema::Schema(GatewayConfig& c) {
  const Fields* log = Keep({{"level", &c.log.level}, {"format", &c.log.format}});
  const Fields* http = Keep({{"max_body_bytes", &c.http.max_body_bytes},
                             {"max_url_bytes", &c.http.max_url_bytes},
                             {"read_timeout_seconds", &c.http.read_timeout_seconds},
                             {"worker_threads", &c.http.worker_threads},
                             {"io_threads", &c.http.io_threads}});
  const Fields* scep = Keep({{"allow_single_des", &c.scep.allow_single_des},
                             {"include_ca_cert_in_reply", &c.scep.include_ca_cert_in_reply}});
  const Fields* store = Keep({{"path", &c.store.path}});
  const Fields* tls = Keep({{"listen", &c.tls.listen}, {"cert_file", &c.tls.cert_file}, {"key_file", &c.tls.key_file}});
  const Fields* metrics = Keep({{"enabled", &c.metrics.enabled}, {"listen", &c.metrics.listen}});
  const Fields* crl = Keep({{"next_update_hours", &c.crl.next_update_hours}});
  const Fields* renewal =
      Keep({{"window_days", &c.renewal.window_days}, {"revoke_superseded", &c.renewal.revoke_superseded}});
  const Fields* admin = Keep({{"users_file", &c.admin.users_file}, {"require_tls", &c.admin.require_tls}});
  const Fields* notifications =
      Keep({{"webhooks", &c.notifications.webhooks}, {"retry_seconds", &c.notifications.retry_seconds}});
  root_ = Keep({{"listen", &c.listen},
                {"data_dir", &c.data_dir},
                {"log", log},
                {"http", http},
                {"scep", scep},
                {"challenge", Challenge(c.challenge)},
                {"ca", Ca(c.ca)},
                {"certificate", Certificate(c.certificate)},
                {"store", store},
                {"tls", tls},
                {"metrics", metrics},
                {"ra", Ra(c.ra)},
                {"templates", Templates(c.templates)},
                {"policy", Policy(c.policy)},
                {"crl", crl},
                {"renewal", renewal},
                {"admin", admin},
                {"notifications", notifications},
                {"endpoints", EndpointList(c)}});
}

const Schema::Fields* Schema::Keep(Fields fields) { return &fields_.emplace_back(std::move(fields)); }

const Schema::Fields* Schema::Challenge(ChallengeConfig& c) {
  const Fields* one_time = Keep({{"max_outstanding", &c.one_time.max_outstanding},
                                 {"validity_minutes", &c.one_time.validity_minutes}});
  return Keep({{"mode", &c.mode}, {"secret", &c.secret}, {"one_time", one_time}});
}

const Schema::Fields* Schema::Ca(CaConfig& c) {
  return Keep({{"subject", &c.subject}, {"key", &c.key}, {"validity_days", &c.validity_days}});
}

const Schema::Fields* Schema::Certificate(CertificateConfig& c) {
  return Keep({{"validity_days", &c.validity_days},
               {"key_usage", &c.key_usage},
               {"extended_key_usage", &c.extended_key_usage},
               {"crl_distribution_points", &c.crl_distribution_points},
               {"ca_issuers_urls", &c.ca_issuers_urls},
               {"subject", &c.subject},
               {"approval", &c.approval}});
}

const Schema::Fields* Schema::Ra(RaConfig& c) { return Keep({{"mode", &c.mode}, {"subject", &c.subject}}); }

const Schema::Fields* Schema::Templates(TemplatesConfig& c) {
  return Keep({{"signature", Optional(c.signature, &Schema::Certificate)},
               {"encryption", Optional(c.encryption, &Schema::Certificate)}});
}

const Schema::Fields* Schema::Policy(PolicyConfig& c) {
  const Fields* webhook = Keep({{"url", &c.webhook.url},
                                {"timeout_seconds", &c.webhook.timeout_seconds},
                                {"retries", &c.webhook.retries},
                                {"on_unavailable", &c.webhook.on_unavailable}});
  return Keep({{"subject", &c.subject},
               {"force_subject", &c.force_subject},
               {"required_san_types", &c.required_san_types},
               {"san_patterns", &c.san_patterns},
               {"disallowed_sans", &c.disallowed_sans},
               {"key_types", &c.key_types},
               {"allowed_key_usages", &c.allowed_key_usages},
               {"allowed_extended_key_usages", &c.allowed_extended_key_usages},
               {"max_validity_days", &c.max_validity_days},
               {"approval", &c.approval},
               {"pending_expiry_hours", &c.pending_expiry_hours},
               {"webhook", webhook}});
}

const Schema::Fields* Schema::Endpoint(EndpointConfig& c) {
  return Keep({{"name", &c.name},
               {"path", &c.path},
               {"challenge", Challenge(c.challenge)},
               {"ra", Ra(c.ra)},
               {"certificate", Certificate(c.certificate)},
               {"templates", Templates(c.templates)},
               {"policy", Policy(c.policy)},
               {"include_ca_cert_in_reply", &c.include_ca_cert_in_reply},
               {"ca", Optional(c.ca, &Schema::Ca)}});
}

// Each item starts as a copy of the top-level values; the reader reads the list after every other top-level key,
// so this copy sees them wherever they are written in the file.
const MappingList* Schema::EndpointList(GatewayConfig& config) {
  return &lists_.emplace_back(MappingList{
      [&config](std::size_t count) { config.endpoints.assign(count, TopLevelEndpoint(config)); },
      [this, &config](std::size_t index) -> std::span<const Field> { return *Endpoint(config.endpoints[index]); }});
}

// A value already there (an endpoint's copy of the top-level templates) is kept, so the keys given override it
// field by field; otherwise the value starts from the struct's defaults.
template <typename T>
const OptionalMapping* Schema::Optional(std::optional<T>& slot, const Fields* (Schema::*fields_of)(T&)) {
  return &optionals_.emplace_back(OptionalMapping{[this, &slot, fields_of]() -> std::span<const Field> {
    if (!slot) slot.emplace();
    return *(this->*fields_of)(*slot);
  }});
}

}  // namespace config::detail
