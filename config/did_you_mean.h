// Spelling suggestions for unknown keys and values.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace config::detail {

// " (did you mean 'listen'?)" when exactly one closest candidate is within a couple of edits of `word` (case is
// ignored, a swap of two neighbours counts as one edit, and so does one word being the start of
// the other: "warning" -> 'warn'); otherwise "".
std::string DidYouMean(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace config::detail
