// Query-string decoding for SCEP URLs such as "operation=PKIOperation&message=MIIG...".
//
// '+' is deliberately NOT turned into a space: SCEP puts base64 (which uses '+') in the query, and clients send
// it either raw or as %2B. Treating '+' as a space, as HTML forms do, would corrupt every such message.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gateway {

// The percent-decoded value of the first parameter called `name` (compared case-sensitively, after decoding the
// parameter's name). A parameter without '=' has an empty value. nullopt if there is none.
[[nodiscard]] std::optional<std::string> QueryParam(std::string_view raw_query, std::string_view name);

// Decodes %XX sequences (either case of hex digit). A '%' not followed by two hex digits is kept literally, as is
// '+'.
[[nodiscard]] std::string PercentDecode(std::string_view encoded);

}  // namespace gateway
