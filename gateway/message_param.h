// Decoding the pkiMessage of a PKIOperation: the GET `message` parameter, or a POST body.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "scep/der.h"

namespace gateway {

// Base64 as real clients send it, after percent-decoding: the standard or the URL-safe alphabet (micromdm's
// client), line breaks anywhere (sscep, strongSwan), '+' turned into a space by a form decoder on the way, and
// missing padding. nullopt when it is not base64 at all.
[[nodiscard]] std::optional<scep::Bytes> DecodeLenientBase64(std::string_view text);

// A POST body is DER; a few clients send it base64-encoded. DER starts with a SEQUENCE tag (0x30).
[[nodiscard]] std::optional<scep::Bytes> DecodePostBody(std::string_view body);

}  // namespace gateway
