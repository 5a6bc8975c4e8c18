#include "zicht/base/csv.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>

#include "zicht/base/file.h"

namespace zicht {

int CsvTable::Column(std::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

Result<CsvTable> ParseCsv(std::string_view text, std::string_view name, const CsvOptions& options) {
  if (text.size() > options.max_bytes) {
    return Status::InvalidArgument(
        fmt::format("{}: file is larger than {} bytes", name, options.max_bytes));
  }
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  CsvTable table;
  std::vector<std::vector<std::string>> rows;
  std::vector<int> row_lines;
  std::vector<std::string> fields;
  std::string field;
  int line = 1, col = 1, row_line = 1;
  bool in_quotes = false, field_started = false, after_quote = false;
  auto end_field = [&]() -> Status {
    if (fields.size() >= options.max_fields) {
      return Status::InvalidArgument(fmt::format("{}:{}:{}: more than {} fields in a row", name,
                                                 line, col, options.max_fields));
    }
    fields.push_back(std::move(field));
    field.clear();
    field_started = false;
    after_quote = false;
    return Status::Ok();
  };
  auto end_row = [&]() -> Status {
    ZICHT_RETURN_IF_ERROR(end_field());
    bool blank = fields.size() == 1 && fields[0].empty();
    if (!blank) {
      rows.push_back(std::move(fields));
      row_lines.push_back(row_line);
    }
    fields.clear();
    return Status::Ok();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
          ++col;
        } else {
          in_quotes = false;
          after_quote = true;
        }
      } else {
        field.push_back(c);
        if (c == '\n') {
          ++line;
          col = 0;
        }
      }
    } else if (c == ',') {
      ZICHT_RETURN_IF_ERROR(end_field());
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ZICHT_RETURN_IF_ERROR(end_row());
      ++line;
      col = 0;
      row_line = line;
    } else if (c == '"') {
      if (field_started || after_quote) {
        return Status::InvalidArgument(
            fmt::format("{}:{}:{}: unexpected quote inside a field", name, line, col));
      }
      in_quotes = true;
      field_started = true;
    } else {
      if (after_quote) {
        return Status::InvalidArgument(
            fmt::format("{}:{}:{}: text after a closing quote", name, line, col));
      }
      field.push_back(c);
      field_started = true;
    }
    ++col;
  }
  if (in_quotes) {
    return Status::InvalidArgument(fmt::format("{}:{}:{}: unterminated quote", name, line, col));
  }
  if (field_started || after_quote || !fields.empty()) ZICHT_RETURN_IF_ERROR(end_row());
  if (rows.empty()) return Status::InvalidArgument(fmt::format("{}:1:1: empty file", name));
  table.header = std::move(rows[0]);
  for (size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].size() != table.header.size()) {
      return Status::InvalidArgument(fmt::format("{}:{}:1: expected {} fields, found {}", name,
                                                 row_lines[r], table.header.size(),
                                                 rows[r].size()));
    }
    table.rows.push_back(CsvRow{row_lines[r], std::move(rows[r])});
  }
  return table;
}

Result<CsvTable> ReadCsvFile(const std::string& path, const CsvOptions& options) {
  auto text = ReadFileToString(path, options.max_bytes);
  if (!text.ok()) return text.status();
  return ParseCsv(*text, path, options);
}

void CsvWriter::Separate() {
  if (in_row_) out_->push_back(',');
  in_row_ = true;
}

CsvWriter& CsvWriter::Field(std::string_view s) {
  Separate();
  // Also quoted: ';' and tab, the separators of other spreadsheet locales, so
  // that no part of a field becomes a cell of its own there.
  if (s.find_first_of(",;\t\"\r\n") == std::string_view::npos) {
    out_->append(s);
    return *this;
  }
  out_->push_back('"');
  for (char c : s) {
    if (c == '"') out_->push_back('"');
    out_->push_back(c);
  }
  out_->push_back('"');
  return *this;
}

CsvWriter& CsvWriter::Text(std::string_view s) {
  if (s.empty() || std::string_view("=+-@\t\r").find(s.front()) == std::string_view::npos) {
    return Field(s);
  }
  return Field("'" + std::string(s));
}

CsvWriter& CsvWriter::Int(int64_t v) {
  Separate();
  fmt::format_to(std::back_inserter(*out_), "{}", v);
  return *this;
}

CsvWriter& CsvWriter::Double(double v) {
  Separate();
  if (std::isnan(v)) return *this;
  if (std::isinf(v)) {
    out_->append(v > 0 ? "Inf" : "-Inf");
  } else {
    fmt::format_to(std::back_inserter(*out_), "{}", v);
  }
  return *this;
}

CsvWriter& CsvWriter::Bool(bool b) {
  Separate();
  out_->append(b ? "true" : "false");
  return *this;
}

CsvWriter& CsvWriter::Empty() {
  Separate();
  return *this;
}

CsvWriter& CsvWriter::EndRow() {
  out_->append("\r\n");
  in_row_ = false;
  return *this;
}

}  // namespace zicht
