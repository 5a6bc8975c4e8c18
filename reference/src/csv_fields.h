// Helpers the reference loaders share: a whole-field integer, and the column
// of a CSV field for file:line:column messages.
#pragma once

#include <charconv>
#include <cstdint>
#include <string_view>

#include "zicht/base/csv.h"

namespace zicht::reference::internal {

// True when all of `s` is a base-10 integer.
inline bool ParseInt(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// 1-based column where field `col` of `row` starts: 1 + the widths of the
// fields before it, with their commas.
inline size_t FieldColumn(const CsvRow& row, int col) {
  size_t column = 1;
  for (int c = 0; c < col; ++c) column += row.fields[static_cast<size_t>(c)].size() + 1;
  return column;
}

}  // namespace zicht::reference::internal
