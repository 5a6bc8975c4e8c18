// A small RFC 4180 CSV reader for reference tables (quoted fields, "" escapes,
// CRLF or LF line ends, UTF-8 BOM skipped). Errors carry file:line:column.
#pragma once

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

}  // namespace zicht
