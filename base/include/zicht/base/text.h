// User text quoted inside diagnostics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace zicht {

// Length of the valid UTF-8 sequence at s[i] (i < s.size()), or 0 if it is
// not one (overlong forms, surrogates and code points past U+10FFFF are not).
size_t Utf8SequenceLength(std::string_view s, size_t i);

// `s` with control bytes and invalid UTF-8 written as \xNN and cut after
// `limit` bytes ("..." appended), so that a message quoting input from a file
// stays one readable line whatever the input holds.
std::string PrintableText(std::string_view s, size_t limit = 160);

// Levenshtein distance between two names; SIZE_MAX when either is longer
// than 64 bytes (only names are compared, and input text may be huge).
size_t EditDistance(std::string_view a, std::string_view b);

// The non-empty candidate fewest edits away from `word`, if at most
// `max_distance`; the first of equals; "" when none is that close. For
// "unknown key 'htp' (did you mean 'http'?)".
template <typename Range>
std::string NearestName(std::string_view word, const Range& candidates, size_t max_distance) {
  size_t best = SIZE_MAX;
  std::string out;
  for (const auto& c : candidates) {
    const std::string_view name(c);
    if (name.empty()) continue;
    const size_t d = EditDistance(word, name);
    if (d <= max_distance && d < best) {
      best = d;
      out = std::string(name);
    }
  }
  return out;
}

}  // namespace zicht
