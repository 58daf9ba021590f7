// Every key of the configuration file, as FieldReader fields pointing into one GatewayConfig.
#pragma once

#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "config/gateway_config.h"
#include "config/yaml_fields.h"

namespace config::detail {

// Keep in step with the configuration reference in README.md. The fields of optional mappings and list items are
// made while reading (they point into values that exist only then), so the schema must outlive the reading.
class Schema {
 public:
  explicit Schema(GatewayConfig& config);
  Schema(const Schema&) = delete;
  Schema& operator=(const Schema&) = delete;

  [[nodiscard]] std::span<const Field> Root() const { return *root_; }

 private:
  using Fields = std::vector<Field>;

  const Fields* Keep(Fields fields);
  const Fields* Challenge(ChallengeConfig& c);
  const Fields* Ca(CaConfig& c);
  const Fields* Certificate(CertificateConfig& c);
  const Fields* Ra(RaConfig& c);
  const Fields* Templates(TemplatesConfig& c);
  const Fields* Policy(PolicyConfig& c);
  const Fields* Endpoint(EndpointConfig& c);
  const MappingList* EndpointList(GatewayConfig& config);
  template <typename T>
  const OptionalMapping* Optional(std::optional<T>& slot, const Fields* (Schema::*fields_of)(T&));

  // Deques, so that the pointers handed out stay valid while more are added.
  std::deque<Fields> fields_;
  std::deque<OptionalMapping> optionals_;
  std::deque<MappingList> lists_;
  const Fields* root_ = nullptr;
};

}  // namespace config::detail
