// User text quoted inside diagnostics.
#pragma once

#include <cstddef>
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

}  // namespace zicht
