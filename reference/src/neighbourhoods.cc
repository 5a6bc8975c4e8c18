#include "zicht/reference/neighbourhoods.h"

#include <fmt/format.h>

#include "csv_fields.h"
#include "zicht/base/csv.h"

namespace zicht::reference {

using internal::FieldColumn;
using internal::ParseInt;

Result<NeighbourhoodTablePtr> NeighbourhoodTable::FromRows(std::vector<Neighbourhood> rows,
                                                           size_t municipality_count,
                                                           std::string source) {
  auto table = std::make_shared<NeighbourhoodTable>();
  table->source_ = std::move(source);
  table->by_municipality_.resize(municipality_count);
  table->by_number_.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const Neighbourhood& n = rows[i];
    const int64_t number = CodeNumber(n.code);
    if (number < 0) return Status::InvalidArgument(fmt::format("bad buurt code '{}'", n.code));
    if (n.municipality < 0 || static_cast<size_t>(n.municipality) >= municipality_count) {
      return Status::InvalidArgument(fmt::format("buurt {}: no such municipality", n.code));
    }
    if (!table->by_number_.emplace(static_cast<uint32_t>(number), static_cast<int>(i)).second) {
      return Status::InvalidArgument(fmt::format("duplicate buurt code {}", n.code));
    }
    table->by_municipality_[static_cast<size_t>(n.municipality)].push_back(static_cast<int>(i));
    table->total_population_ += n.population;
  }
  table->rows_ = std::move(rows);
  return NeighbourhoodTablePtr(std::move(table));
}

Result<NeighbourhoodTablePtr> NeighbourhoodTable::Load(const std::string& path,
                                                       const MunicipalityTable& municipalities) {
  auto csv = ReadCsvFile(path);
  if (!csv.ok()) return csv.status();
  const int col_code = csv->Column("code"), col_name = csv->Column("name"),
            col_muni = csv->Column("municipality"), col_population = csv->Column("population");
  std::vector<std::string> missing;
  for (auto [name, col] : {std::pair{"code", col_code},
                           {"name", col_name},
                           {"municipality", col_muni},
                           {"population", col_population}}) {
    if (col < 0) missing.emplace_back(name);
  }
  if (!missing.empty()) {
    return Status::InvalidArgument(
        fmt::format("{}:1:1: missing column(s): {}", path, fmt::join(missing, ", ")));
  }
  std::vector<Neighbourhood> rows;
  rows.reserve(csv->rows.size());
  std::unordered_map<uint32_t, int> first_line;
  std::vector<int64_t> population_of(municipalities.size(), 0);
  std::vector<int> line_of(municipalities.size(), 0);  // first line of each municipality
  for (const CsvRow& row : csv->rows) {
    auto at = [&](int col) -> const std::string& { return row.fields[static_cast<size_t>(col)]; };
    auto err = [&](int col, std::string_view msg) {
      return Status::InvalidArgument(
          fmt::format("{}:{}:{}: {}", path, row.line, FieldColumn(row, col), msg));
    };
    Neighbourhood n;
    n.code = at(col_code);
    const int64_t number = CodeNumber(n.code);
    if (number < 0) {
      return err(col_code, fmt::format("'{}' is not a CBS buurt code (BU + 8 digits)", n.code));
    }
    auto [it, fresh] = first_line.emplace(static_cast<uint32_t>(number), row.line);
    if (!fresh) {
      return err(col_code, fmt::format("duplicate code {} (first on line {})", n.code, it->second));
    }
    n.name = at(col_name);
    if (n.name.empty()) return err(col_name, "empty name");
    const std::string& muni = at(col_muni);
    n.municipality = municipalities.IndexOf(muni);
    if (n.municipality < 0) {
      return err(col_muni, fmt::format("buurt {} lies in '{}', which is not a municipality of {}",
                                       n.code, muni, municipalities.source()));
    }
    // CBS buurt codes repeat the 4 digits of their municipality's code.
    if (std::string_view(n.code).substr(2, 4) != std::string_view(muni).substr(2, 4)) {
      return err(col_code, fmt::format("buurt {} does not carry the digits of its municipality {}",
                                       n.code, muni));
    }
    if (!ParseInt(at(col_population), &n.population) || n.population < 0) {
      return err(col_population,
                 fmt::format("population '{}' is not a non-negative integer", at(col_population)));
    }
    population_of[static_cast<size_t>(n.municipality)] += n.population;
    if (line_of[static_cast<size_t>(n.municipality)] == 0)
      line_of[static_cast<size_t>(n.municipality)] = row.line;
    rows.push_back(std::move(n));
  }
  auto table = FromRows(std::move(rows), municipalities.size(), path);
  if (!table.ok()) return table.status();
  auto out = std::const_pointer_cast<NeighbourhoodTable>(*table);
  for (size_t m = 0; m < municipalities.size(); ++m) {
    if (line_of[m] == 0 || population_of[m] == municipalities.at(m).population) continue;
    out->warnings_.push_back(fmt::format(
        "{}:{}:1: warning: the buurten of {} ({}) have {} inhabitants, the municipality {}", path,
        line_of[m], municipalities.at(m).code, municipalities.at(m).name, population_of[m],
        municipalities.at(m).population));
  }
  return NeighbourhoodTablePtr(std::move(out));
}

}  // namespace zicht::reference
