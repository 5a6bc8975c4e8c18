#include "zicht/reference/mergers.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <tuple>
#include <utility>

#include "csv_fields.h"
#include "zicht/base/csv.h"
#include "zicht/base/file.h"
#include "zicht/base/time.h"

namespace zicht::reference {
namespace {

using internal::FieldColumn;

constexpr std::array<std::string_view, 4> kHeader = {"effective", "old_code", "new_code",
                                                     "new_name"};
// Positions of the fields in a row (the header is fixed).
constexpr int kEffective = 0;
constexpr int kOldCode = 1;
constexpr int kNewCode = 2;
constexpr int kNewName = 3;
constexpr size_t kCodes = 10000;  // GM0000..GM9999

// Errors about the rows of one file or of one FromRows() call.
class Errors {
 public:
  explicit Errors(std::string source) : source_(std::move(source)) {}

  // "source:line:column: message" for a row from a file (the column of
  // `field`, counted as FieldColumn counts it), "source: message" for a row
  // built in code (line 0).
  Status At(const MergerRow& row, int field, std::string_view message) const {
    if (row.line <= 0) return Status::InvalidArgument(fmt::format("{}: {}", source_, message));
    const CsvRow csv{row.line, {row.effective, row.old_code, row.new_code, row.new_name}};
    return Status::InvalidArgument(
        fmt::format("{}:{}:{}: {}", source_, row.line, FieldColumn(csv, field), message));
  }

 private:
  std::string source_;
};

// "line 3" for a row from a file, "the row GM0001 -> GM1992" for one built in code.
std::string RowName(const MergerRow& row) {
  if (row.line > 0) return fmt::format("line {}", row.line);
  return fmt::format("the row {} -> {}", row.old_code, row.new_code);
}

size_t Number(const std::string& code) {
  return static_cast<size_t>(MunicipalityTable::CodeNumber(code));
}

std::string CodeOf(size_t number) {
  return fmt::format("GM{:04}", number);
}

// Days since 1970-01-01 of a calendar date written YYYY-MM-DD, else nullopt.
std::optional<int64_t> ParseDay(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto digits = [&](size_t pos, size_t n) -> std::optional<unsigned> {
    unsigned v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + static_cast<unsigned>(s[i] - '0');
    }
    return v;
  };
  const std::optional<unsigned> year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  // Years 0001..9999, as ParseRfc3339 reads event times.
  if (!year || !month || !day || *year < 1 || *month < 1 || *month > 12 || *day < 1) {
    return std::nullopt;
  }
  const int64_t days = DaysFromCivil(*year, *month, *day);
  // A day past the end of its month comes back as another date (2025-02-30 as 2025-03-02).
  const CivilDate back = CivilFromDays(days);
  if (back.year != static_cast<int64_t>(*year) || back.month != *month || back.day != *day) {
    return std::nullopt;
  }
  return days;
}

// The checks of one row on its own: date, codes, name.
Status CheckFields(MergerRow& row, const Errors& errors) {
  const std::optional<int64_t> day = ParseDay(row.effective);
  if (!day) {
    return errors.At(
        row, kEffective,
        fmt::format("effective '{}' is not a calendar date YYYY-MM-DD", row.effective));
  }
  row.effective_day = *day;
  for (const auto& [field, code] :
       {std::pair{kOldCode, &row.old_code}, {kNewCode, &row.new_code}}) {
    if (MunicipalityTable::CodeNumber(*code) < 0) {
      return errors.At(row, field, fmt::format("'{}' is not a CBS code (GM + 4 digits)", *code));
    }
  }
  if (row.old_code == row.new_code) {
    return errors.At(row, kNewCode, fmt::format("old code {} is its own new code", row.old_code));
  }
  if (row.new_name.empty()) return errors.At(row, kNewName, "empty new_name");
  return Status::Ok();
}

// Row by row in file order: the fields, an old code merged twice, a new code
// with two dates or two names (reported at the later row).
Status CheckRows(std::vector<MergerRow>& rows, const Errors& errors) {
  std::vector<int> merged(kCodes, -1);   // code -> the row that merges it away
  std::vector<int> created(kCodes, -1);  // code -> the first row that creates it
  for (size_t i = 0; i < rows.size(); ++i) {
    MergerRow& row = rows[i];
    ZICHT_RETURN_IF_ERROR(CheckFields(row, errors));
    int& first_merged = merged[Number(row.old_code)];
    if (first_merged >= 0) {
      return errors.At(row, kOldCode,
                       fmt::format("old code {} merged twice (first on {})", row.old_code,
                                   RowName(rows[static_cast<size_t>(first_merged)])));
    }
    first_merged = static_cast<int>(i);
    int& first_created = created[Number(row.new_code)];
    if (first_created < 0) {
      first_created = static_cast<int>(i);
      continue;
    }
    const MergerRow& first = rows[static_cast<size_t>(first_created)];
    if (first.effective_day != row.effective_day) {
      return errors.At(row, kEffective,
                       fmt::format("new code {} has two dates: {} and {} ({})", row.new_code,
                                   row.effective, first.effective, RowName(first)));
    }
    if (first.new_name != row.new_name) {
      return errors.At(row, kNewName,
                       fmt::format("new code {} has two names: '{}' and '{}' ({})", row.new_code,
                                   row.new_name, first.new_name, RowName(first)));
    }
  }
  return Status::Ok();
}

// Old -> new edges added in file order; the row whose edge closes a cycle is
// reported with the cycle, starting from its old code. Every code has at most
// one edge out (CheckRows), so each walk is a simple path.
Status CheckCycles(const std::vector<MergerRow>& rows, const Errors& errors) {
  std::vector<int> next(kCodes, -1);  // code -> the code it merges into
  for (const MergerRow& row : rows) {
    const size_t from = Number(row.old_code);
    next[from] = static_cast<int>(Number(row.new_code));
    std::vector<std::string> path = {row.old_code};
    for (int at = next[from]; at >= 0; at = next[static_cast<size_t>(at)]) {
      path.push_back(CodeOf(static_cast<size_t>(at)));
      if (static_cast<size_t>(at) == from) {
        return errors.At(row, kNewCode, fmt::format("cycle: {}", fmt::join(path, " -> ")));
      }
    }
  }
  return Status::Ok();
}

// A code merged away on or before the day a row creates it (chains run
// forward in time), reported at the row that merges it away.
Status CheckChains(const std::vector<MergerRow>& rows, const Errors& errors) {
  std::vector<int> created(kCodes, -1);  // code -> the first row that creates it
  for (size_t i = 0; i < rows.size(); ++i) {
    int& first = created[Number(rows[i].new_code)];
    if (first < 0) first = static_cast<int>(i);
  }
  for (const MergerRow& row : rows) {
    const int creator = created[Number(row.old_code)];
    if (creator < 0) continue;
    const MergerRow& made = rows[static_cast<size_t>(creator)];
    if (made.effective_day < row.effective_day) continue;
    return errors.At(
        row, kOldCode,
        fmt::format("new code {} clashes: it is merged away on {}, on or before the day it is "
                    "created ({}, {})",
                    row.old_code, row.effective, made.effective, RowName(made)));
  }
  return Status::Ok();
}

// The rows of one step: one new code on one day (rows() keeps them together).
std::vector<std::span<const MergerRow>> StepsOf(const std::vector<MergerRow>& sorted) {
  std::vector<std::span<const MergerRow>> steps;
  size_t begin = 0;
  for (size_t i = 1; i <= sorted.size(); ++i) {
    if (i == sorted.size() || sorted[i].new_code != sorted[begin].new_code) {
      steps.emplace_back(sorted.data() + begin, i - begin);
      begin = i;
    }
  }
  return steps;
}

// The row of a step to report a step's error at: its first in the file.
const MergerRow& FirstInFile(std::span<const MergerRow> step) {
  return *std::min_element(step.begin(), step.end(),
                           [](const MergerRow& a, const MergerRow& b) { return a.line < b.line; });
}

// Builds the extended municipality table, one step at a time in step order;
// also checks the steps against the municipality file (a new code there under
// another name, a new code without population).
class Extender {
 public:
  Extender(const MunicipalityTable& base, const Errors& errors)
      : base_(base),
        errors_(errors),
        rows_(base.rows()),
        cells_(base.size()),
        row_of_(kCodes, -1),
        aliases_(base.aliases()) {
    for (size_t r = 0; r < base.size(); ++r) {
      for (size_t c = 0; c < base.columns().size(); ++c) {
        cells_[r].emplace_back(base.Cell(r, static_cast<int>(c)));
      }
      row_of_[Number(rows_[r].code)] = static_cast<int>(r);
    }
  }

  Status AddStep(std::span<const MergerRow> step) {
    const MergerRow& head = step.front();
    MergerStep out{head.effective_day,
                   head.effective,
                   row_of_[Number(head.new_code)],
                   {},
                   false,
                   fmt::format("{}>{}", head.effective, head.new_code)};
    for (const MergerRow& row : step) {  // old codes ascending
      const int unit = row_of_[Number(row.old_code)];
      if (unit >= 0) out.old_units.push_back(unit);
    }
    if (out.new_unit >= 0) {
      ZICHT_RETURN_IF_ERROR(CheckName(step, out.new_unit));
    } else {
      int64_t population = 0;
      for (const int unit : out.old_units)
        population += rows_[static_cast<size_t>(unit)].population;
      if (population <= 0) return NoPopulation(step);
      out.new_unit = AddRow(head, out.old_units, population);
      out.new_unit_added = true;
    }
    for (const MergerRow& row : step) {
      if (row_of_[Number(row.old_code)] < 0) aliases_.emplace_back(row.old_code, out.new_unit);
    }
    std::sort(out.old_units.begin(), out.old_units.end());
    steps_.push_back(std::move(out));
    return Status::Ok();
  }

  Result<MergerTable::Extended> Finish() {
    auto table = MunicipalityTable::FromRows(std::move(rows_), base_.source(), base_.columns(),
                                             std::move(cells_), std::move(aliases_));
    if (!table.ok()) return table.status();
    return MergerTable::Extended{std::move(*table), std::move(steps_)};
  }

 private:
  Status CheckName(std::span<const MergerRow> step, int unit) const {
    const MergerRow& row = FirstInFile(step);
    const std::string& name = rows_[static_cast<size_t>(unit)].name;
    if (name == row.new_name) return Status::Ok();
    return errors_.At(row, kNewName,
                      fmt::format("new code {} clashes: it is '{}' in {}, not '{}'", row.new_code,
                                  name, base_.source(), row.new_name));
  }

  Status NoPopulation(std::span<const MergerRow> step) const {
    std::vector<std::string_view> olds;
    for (const MergerRow& row : step) olds.emplace_back(row.old_code);
    const MergerRow& row = FirstInFile(step);
    return errors_.At(row, kNewCode,
                      fmt::format("new code {} has no population: it is not in {} and none of its "
                                  "old codes ({}) has a row there or is a new code before it",
                                  row.new_code, base_.source(), fmt::join(olds, ", ")));
  }

  // A row for a new code the file lacks, after `old_units` (in old code
  // order; the first gives the province and the other cells), with the sum
  // of their populations.
  int AddRow(const MergerRow& head, const std::vector<int>& old_units, int64_t population) {
    const auto first = static_cast<size_t>(old_units.front());
    Municipality m;
    m.code = head.new_code;
    m.name = head.new_name;
    m.province = rows_[first].province;
    m.population = population;
    m.year = static_cast<int>(CivilFromDays(head.effective_day).year);
    std::vector<std::string> cells = cells_[first];
    for (const auto& [column, text] : {std::pair{"code", m.code},
                                       {"name", m.name},
                                       {"province", m.province},
                                       {"population", std::to_string(m.population)},
                                       {"households", std::string()},
                                       {"year", std::to_string(m.year)}}) {
      const int c = base_.ColumnIndex(column);
      if (c >= 0 && static_cast<size_t>(c) < cells.size()) cells[static_cast<size_t>(c)] = text;
    }
    const auto index = static_cast<int>(rows_.size());
    row_of_[Number(m.code)] = index;
    rows_.push_back(std::move(m));
    cells_.push_back(std::move(cells));
    return index;
  }

  const MunicipalityTable& base_;
  const Errors& errors_;
  std::vector<Municipality> rows_;
  std::vector<std::vector<std::string>> cells_;
  std::vector<int> row_of_;  // code -> row, -1 (aliases are not rows)
  std::vector<std::pair<std::string, int>> aliases_;
  std::vector<MergerStep> steps_;
};

Result<MergerTable::Extended> Build(const std::vector<MergerRow>& sorted,
                                    const MunicipalityTable& municipalities, const Errors& errors) {
  Extender extender(municipalities, errors);
  for (const std::span<const MergerRow> step : StepsOf(sorted)) {
    ZICHT_RETURN_IF_ERROR(extender.AddStep(step));
  }
  return extender.Finish();
}

// Nothing but line ends (and a UTF-8 BOM): an empty table.
bool IsBlank(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  return text.find_first_not_of("\r\n") == std::string_view::npos;
}

Status CheckHeader(const std::vector<std::string>& header, const std::string& path) {
  const std::string expected = fmt::format("{}", fmt::join(kHeader, ","));
  if (header.size() != kHeader.size()) {
    return Status::InvalidArgument(fmt::format("{}:1:1: the header has {} columns, expected {}",
                                               path, header.size(), expected));
  }
  for (size_t i = 0; i < kHeader.size(); ++i) {
    if (header[i] == kHeader[i]) continue;
    return Status::InvalidArgument(fmt::format(
        "{}:1:{}: column '{}' where '{}' belongs (the header is {})", path,
        FieldColumn(CsvRow{1, header}, static_cast<int>(i)), header[i], kHeader[i], expected));
  }
  return Status::Ok();
}

}  // namespace

Result<MergerTablePtr> MergerTable::Load(const std::string& path,
                                         const MunicipalityTable& municipalities) {
  auto text = ReadFileToString(path, CsvOptions{}.max_bytes);
  if (!text.ok()) return text.status();
  if (IsBlank(*text)) return FromRows({}, municipalities, path);
  auto csv = ParseCsv(*text, path);
  if (!csv.ok()) return csv.status();
  ZICHT_RETURN_IF_ERROR(CheckHeader(csv->header, path));
  std::vector<MergerRow> rows;
  rows.reserve(csv->rows.size());
  for (CsvRow& row : csv->rows) {
    auto& f = row.fields;  // four fields: ParseCsv checks the count against the header
    rows.push_back(
        MergerRow{0, std::move(f[0]), std::move(f[1]), std::move(f[2]), std::move(f[3]), row.line});
  }
  return FromRows(std::move(rows), municipalities, path);
}

Result<MergerTablePtr> MergerTable::FromRows(std::vector<MergerRow> rows,
                                             const MunicipalityTable& municipalities,
                                             std::string source) {
  const Errors errors(source);
  ZICHT_RETURN_IF_ERROR(CheckRows(rows, errors));
  ZICHT_RETURN_IF_ERROR(CheckCycles(rows, errors));
  ZICHT_RETURN_IF_ERROR(CheckChains(rows, errors));
  std::sort(rows.begin(), rows.end(), [](const MergerRow& a, const MergerRow& b) {
    return std::tie(a.effective_day, a.new_code, a.old_code) <
           std::tie(b.effective_day, b.new_code, b.old_code);
  });
  auto extended = Build(rows, municipalities, errors);
  if (!extended.ok()) return extended.status();
  auto table = std::make_shared<MergerTable>();
  table->rows_ = std::move(rows);
  table->source_ = std::move(source);
  return MergerTablePtr(std::move(table));
}

Result<MergerTable::Extended> MergerTable::Extend(const MunicipalityTable& municipalities) const {
  return Build(rows_, municipalities, Errors(source_));
}

}  // namespace zicht::reference
