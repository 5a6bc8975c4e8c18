// Municipality reference data (SPEC section 3): CBS codes, names, provinces and
// populations, with O(1) lookup from a "GM0363" code to a dense index.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zicht/base/status.h"

namespace zicht::reference {

struct Municipality {
  std::string code;      // "GM0363"
  std::string name;      // "Amsterdam"
  std::string province;  // "Noord-Holland"
  int64_t population = 0;
  std::optional<int64_t> households;
  int year = 0;
};

class MunicipalityTable {
 public:
  // Reads code,name,province,population,households,year. Every error is
  // reported as file:line:column; duplicate codes, bad codes and non-positive
  // populations are errors.
  static Result<std::shared_ptr<const MunicipalityTable>> Load(const std::string& path);
  // `columns` and `cells` (per row, the text of each column) keep every
  // column of a file, so that baselines and regions can group by any of them;
  // without them the table has the SPEC columns, filled from the rows.
  // `aliases` (code, row index) are codes that are not rows but that IndexOf()
  // maps to a row: old codes of a merger (SPEC 8.3, MergerTable::Extend()). An
  // alias that is not a CBS code, that is a row's code or another alias, or
  // whose index is not a row is an error.
  static Result<std::shared_ptr<const MunicipalityTable>> FromRows(
      std::vector<Municipality> rows, std::string source = {},
      std::vector<std::string> columns = {}, std::vector<std::vector<std::string>> cells = {},
      std::vector<std::pair<std::string, int>> aliases = {});

  size_t size() const { return rows_.size(); }
  const Municipality& at(size_t index) const { return rows_[index]; }
  const std::vector<Municipality>& rows() const { return rows_; }
  // Dense index of a code (of its row, or the row an alias names), or -1 when
  // the code is not in the table.
  int IndexOf(std::string_view code) const {
    int n = CodeNumber(code);
    return n < 0 ? -1 : by_number_[static_cast<size_t>(n)];
  }
  int64_t total_population() const { return total_population_; }
  // Every column of the file, in file order (the SPEC ones and any others,
  // such as urbanisation or riec_region).
  const std::vector<std::string>& columns() const { return columns_; }
  // Position of a column in columns(), -1 when the file has none of that name.
  int ColumnIndex(std::string_view name) const;
  // The text of a row's cell ("" when the row is short).
  std::string_view Cell(size_t row, int column) const {
    const auto& cells = cells_[row];
    return column >= 0 && static_cast<size_t>(column) < cells.size()
               ? std::string_view(cells[static_cast<size_t>(column)])
               : std::string_view();
  }
  const std::string& source() const { return source_; }
  // The aliases FromRows() was given, in that order.
  const std::vector<std::pair<std::string, int>>& aliases() const { return aliases_; }

  // 0..9999 for "GM" followed by exactly four digits, else -1.
  static int CodeNumber(std::string_view code) {
    if (code.size() != 6 || code[0] != 'G' || code[1] != 'M') return -1;
    int n = 0;
    for (size_t i = 2; i < 6; ++i) {
      char c = code[i];
      if (c < '0' || c > '9') return -1;
      n = n * 10 + (c - '0');
    }
    return n;
  }

 private:
  Status AddAliases(std::vector<std::pair<std::string, int>> aliases);

  std::vector<Municipality> rows_;
  std::array<int16_t, 10000> by_number_{};
  int64_t total_population_ = 0;
  std::string source_;
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> cells_;  // [row][column]
  std::vector<std::pair<std::string, int>> aliases_;
};

using MunicipalityTablePtr = std::shared_ptr<const MunicipalityTable>;

}  // namespace zicht::reference
