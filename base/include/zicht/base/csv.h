// A small RFC 4180 CSV reader for reference tables (quoted fields, "" escapes,
// CRLF or LF line ends, UTF-8 BOM skipped; errors carry file:line:column), and
// the writer for the API's CSV exports.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "zicht/base/status.h"

namespace zicht {

struct CsvRow {
  int line = 0;  // 1-based line where the row starts
  std::vector<std::string> fields;
};

struct CsvTable {
  std::vector<std::string> header;
  std::vector<CsvRow> rows;
  // Index of a header column, or -1.
  int Column(std::string_view name) const;
};

struct CsvOptions {
  size_t max_bytes = 64u << 20;  // refuse larger files (default 64 MiB)
  size_t max_fields = 1024;      // per row (default 1024)
};

// Parses text; `name` is used in error messages ("name:line:col: message").
Result<CsvTable> ParseCsv(std::string_view text, std::string_view name,
                          const CsvOptions& options = {});
Result<CsvTable> ReadCsvFile(const std::string& path, const CsvOptions& options = {});

// Writes RFC 4180 CSV into a string: fields separated by commas, rows ended by
// CRLF, a field quoted (quotes doubled) when it holds a comma, quote, CR or LF
// (and ';' or tab, other locales' separators). ParseCsv reads it back.
class CsvWriter {
 public:
  explicit CsvWriter(std::string* out) : out_(out) {}

  // A field as it is (quoted when needed).
  CsvWriter& Field(std::string_view s);
  // Text that comes from data (names, ids): as Field, but a leading = + - @,
  // tab or CR gets an apostrophe in front, so that a spreadsheet shows the
  // text instead of running it as a formula (OWASP "CSV injection").
  CsvWriter& Text(std::string_view s);
  CsvWriter& Int(int64_t v);
  // Shortest round-trip form; NaN is an empty field, infinities "Inf"/"-Inf"
  // (what R and pandas read as infinite).
  CsvWriter& Double(double v);
  CsvWriter& Bool(bool b);  // "true" / "false"
  CsvWriter& Empty();
  CsvWriter& EndRow();

 private:
  void Separate();
  std::string* out_;
  bool in_row_ = false;
};

}  // namespace zicht
