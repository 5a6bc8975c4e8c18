// Neighbourhood (CBS buurt) reference data (SPEC 8.3): codes "BU" + 8 digits,
// names, the municipality each lies in, and populations, with O(1) lookup from
// a code to a dense index.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/reference/municipalities.h"

namespace zicht::reference {

struct Neighbourhood {
  std::string code;  // "BU03630000"
  std::string name;
  int municipality = -1;  // dense index into the municipality table
  int64_t population = 0;
};

class NeighbourhoodTable {
 public:
  // Reads code,name,municipality,population against `municipalities`. Every
  // error is file:line:column: a bad or duplicate code, a buurt in a
  // municipality the table does not know, a code whose municipality digits
  // are another municipality's, a negative population. Populations that do not
  // add up to their municipality's are warnings (CBS counts buurten and
  // municipalities on different days), not errors.
  static Result<std::shared_ptr<const NeighbourhoodTable>> Load(
      const std::string& path, const MunicipalityTable& municipalities);
  // `rows` must hold valid codes and municipality indices (tests).
  static Result<std::shared_ptr<const NeighbourhoodTable>> FromRows(std::vector<Neighbourhood> rows,
                                                                    size_t municipality_count,
                                                                    std::string source = {});

  size_t size() const { return rows_.size(); }
  const Neighbourhood& at(size_t index) const { return rows_[index]; }
  // Dense index of a code, -1 when it is not in the table.
  int IndexOf(std::string_view code) const {
    const int64_t n = CodeNumber(code);
    if (n < 0) return -1;
    return IndexOfNumber(static_cast<uint32_t>(n));
  }
  // The same for the number of a code (its 8 digits).
  int IndexOfNumber(uint32_t number) const {
    auto it = by_number_.find(number);
    return it == by_number_.end() ? -1 : it->second;
  }
  // The neighbourhoods of a municipality, in table order.
  const std::vector<int>& of_municipality(int municipality) const {
    return by_municipality_[static_cast<size_t>(municipality)];
  }
  int64_t total_population() const { return total_population_; }
  const std::string& source() const { return source_; }
  // "file:line:column: warning: ..." for populations that do not add up.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // 0..99999999 for "BU" followed by exactly eight digits, else -1.
  static int64_t CodeNumber(std::string_view code) {
    if (code.size() != 10 || code[0] != 'B' || code[1] != 'U') return -1;
    int64_t n = 0;
    for (size_t i = 2; i < 10; ++i) {
      const char c = code[i];
      if (c < '0' || c > '9') return -1;
      n = n * 10 + (c - '0');
    }
    return n;
  }

 private:
  std::vector<Neighbourhood> rows_;
  std::unordered_map<uint32_t, int> by_number_;
  std::vector<std::vector<int>> by_municipality_;
  int64_t total_population_ = 0;
  std::string source_;
  std::vector<std::string> warnings_;
};

using NeighbourhoodTablePtr = std::shared_ptr<const NeighbourhoodTable>;

}  // namespace zicht::reference
