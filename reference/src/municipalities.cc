#include "zicht/reference/municipalities.h"

#include <fmt/format.h>

#include "csv_fields.h"
#include "zicht/base/csv.h"

namespace zicht::reference {

using internal::FieldColumn;
using internal::ParseInt;

int MunicipalityTable::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

Result<MunicipalityTablePtr> MunicipalityTable::FromRows(
    std::vector<Municipality> rows, std::string source, std::vector<std::string> columns,
    std::vector<std::vector<std::string>> cells, std::vector<std::pair<std::string, int>> aliases) {
  auto table = std::make_shared<MunicipalityTable>();
  table->source_ = std::move(source);
  if (columns.empty() || cells.size() != rows.size()) {
    columns = {"code", "name", "province", "population", "households", "year"};
    cells.clear();
    for (const Municipality& m : rows) {
      cells.push_back({m.code, m.name, m.province, std::to_string(m.population),
                       m.households ? std::to_string(*m.households) : std::string(),
                       m.year != 0 ? std::to_string(m.year) : std::string()});
    }
  }
  table->columns_ = std::move(columns);
  table->cells_ = std::move(cells);
  table->by_number_.fill(-1);
  if (rows.size() > 9999) return Status::InvalidArgument("too many municipalities");
  for (size_t i = 0; i < rows.size(); ++i) {
    int n = CodeNumber(rows[i].code);
    if (n < 0)
      return Status::InvalidArgument(fmt::format("bad municipality code '{}'", rows[i].code));
    if (table->by_number_[static_cast<size_t>(n)] >= 0) {
      return Status::InvalidArgument(fmt::format("duplicate municipality code {}", rows[i].code));
    }
    table->by_number_[static_cast<size_t>(n)] = static_cast<int16_t>(i);
    table->total_population_ += rows[i].population;
  }
  table->rows_ = std::move(rows);
  ZICHT_RETURN_IF_ERROR(table->AddAliases(std::move(aliases)));
  return MunicipalityTablePtr(std::move(table));
}

Status MunicipalityTable::AddAliases(std::vector<std::pair<std::string, int>> aliases) {
  for (const auto& [code, index] : aliases) {
    const int n = CodeNumber(code);
    if (n < 0) return Status::InvalidArgument(fmt::format("bad alias code '{}'", code));
    if (index < 0 || static_cast<size_t>(index) >= rows_.size()) {
      return Status::InvalidArgument(fmt::format("alias {}: no row {}", code, index));
    }
    const int16_t existing = by_number_[static_cast<size_t>(n)];
    if (existing >= 0) {
      if (rows_[static_cast<size_t>(existing)].code == code) {
        return Status::InvalidArgument(fmt::format("alias {} is a municipality code", code));
      }
      return Status::InvalidArgument(fmt::format("duplicate alias {}", code));
    }
    by_number_[static_cast<size_t>(n)] = static_cast<int16_t>(index);
  }
  aliases_ = std::move(aliases);
  return Status::Ok();
}

Result<MunicipalityTablePtr> MunicipalityTable::Load(const std::string& path) {
  auto csv = ReadCsvFile(path);
  if (!csv.ok()) return csv.status();
  std::vector<std::string> missing;
  int col_code = csv->Column("code"), col_name = csv->Column("name"),
      col_province = csv->Column("province"), col_population = csv->Column("population"),
      col_households = csv->Column("households"), col_year = csv->Column("year");
  for (auto [name, col] :
       {std::pair{"code", col_code}, {"name", col_name}, {"population", col_population}}) {
    if (col < 0) missing.emplace_back(name);
  }
  if (!missing.empty()) {
    return Status::InvalidArgument(
        fmt::format("{}:1:1: missing column(s): {}", path, fmt::join(missing, ", ")));
  }
  std::vector<Municipality> rows;
  std::vector<std::vector<std::string>> cells;
  rows.reserve(csv->rows.size());
  std::array<int, 10000> seen_line{};
  for (const CsvRow& row : csv->rows) {
    auto at = [&](int col) -> const std::string& { return row.fields[static_cast<size_t>(col)]; };
    auto err = [&](int col, std::string_view msg) {
      return Status::InvalidArgument(
          fmt::format("{}:{}:{}: {}", path, row.line, FieldColumn(row, col), msg));
    };
    Municipality m;
    m.code = at(col_code);
    int n = CodeNumber(m.code);
    if (n < 0) return err(col_code, fmt::format("'{}' is not a CBS code (GM + 4 digits)", m.code));
    if (seen_line[static_cast<size_t>(n)] != 0) {
      return err(col_code, fmt::format("duplicate code {} (first on line {})", m.code,
                                       seen_line[static_cast<size_t>(n)]));
    }
    seen_line[static_cast<size_t>(n)] = row.line;
    m.name = at(col_name);
    if (m.name.empty()) return err(col_name, "empty name");
    if (col_province >= 0) m.province = at(col_province);
    if (!ParseInt(at(col_population), &m.population) || m.population <= 0) {
      return err(col_population,
                 fmt::format("population '{}' is not a positive integer", at(col_population)));
    }
    if (col_households >= 0 && !at(col_households).empty()) {
      int64_t h;
      if (!ParseInt(at(col_households), &h) || h < 0) {
        return err(col_households,
                   fmt::format("households '{}' is not an integer", at(col_households)));
      }
      m.households = h;
    }
    if (col_year >= 0 && !at(col_year).empty()) {
      int64_t y;
      if (!ParseInt(at(col_year), &y)) return err(col_year, "year is not an integer");
      m.year = static_cast<int>(y);
    }
    rows.push_back(std::move(m));
    cells.push_back(row.fields);
  }
  if (rows.empty()) return Status::InvalidArgument(fmt::format("{}: no municipalities", path));
  return FromRows(std::move(rows), path, csv->header, std::move(cells));
}

}  // namespace zicht::reference
