#include "config/did_you_mean.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <vector>

namespace config::detail {
namespace {

char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps each cost one.
std::size_t EditDistance(std::string_view a, std::string_view b) {
  const std::size_t width = b.size() + 1;
  std::vector<std::size_t> d((a.size() + 1) * width);
  auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return d[i * width + j]; };
  for (std::size_t i = 0; i <= a.size(); ++i) at(i, 0) = i;
  for (std::size_t j = 0; j <= b.size(); ++j) at(0, j) = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = Lower(a[i - 1]) == Lower(b[j - 1]) ? 0 : 1;
      at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && Lower(a[i - 1]) == Lower(b[j - 2]) && Lower(a[i - 2]) == Lower(b[j - 1])) {
        at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
      }
    }
  }
  return at(a.size(), b.size());
}

// One word starting with the other ("warning" for "warn") counts as a single edit, for words of three letters or more.
std::size_t Closeness(std::string_view word, std::string_view candidate) {
  const std::string_view shorter = word.size() < candidate.size() ? word : candidate;
  const std::string_view longer = word.size() < candidate.size() ? candidate : word;
  if (shorter.size() >= 3 && EditDistance(shorter, longer.substr(0, shorter.size())) == 0) {
    return std::min<std::size_t>(1, longer.size() - shorter.size());
  }
  return EditDistance(word, candidate);
}

}  // namespace

std::string DidYouMean(std::string_view word, std::span<const std::string_view> candidates) {
  const std::size_t limit = word.size() < 5 ? 1 : 2;
  std::string_view best;
  std::size_t best_distance = limit + 1;
  bool tied = false;
  for (std::string_view candidate : candidates) {
    const std::size_t distance = Closeness(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
      tied = false;
    } else if (distance == best_distance) {
      tied = true;
    }
  }
  if (best_distance > limit || tied) return "";
  return " (did you mean '" + std::string(best) + "'?)";
}

}  // namespace config::detail
