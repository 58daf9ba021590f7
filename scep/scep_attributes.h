// Builds the list of SCEP signed attributes shared by requests and CertReps.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scep/signed_data.h"

namespace scep {

struct ScepAttributeValues {
  MessageType message_type{};
  std::string transaction_id;
  Bytes sender_nonce;
  Bytes recipient_nonce;               // CertRep only
  std::optional<PkiStatus> pki_status; // CertRep only
  std::optional<FailInfo> fail_info;   // CertRep FAILURE only
  std::string fail_info_text;          // CertRep FAILURE only, optional
};

[[nodiscard]] std::vector<SignedAttribute> MakeScepAttributes(const ScepAttributeValues& values);

// 16 fresh random bytes (RFC 8894 section 3.2.1.5).
[[nodiscard]] Result<Bytes> MakeNonce();

}  // namespace scep
