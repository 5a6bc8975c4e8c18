// Municipal mergers (SPEC 8.3): `effective,old_code,new_code,new_name`, one
// row per old code (n old codes into one new code; a rename is a merger of
// one). Every January CBS codes change; the table says which old codes fold
// into which new one from which UTC day, so that the engine keeps one
// continuous history per municipality.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/reference/municipalities.h"

namespace zicht::reference {

struct MergerRow {
  int64_t effective_day = 0;  // days since 1970-01-01 (UTC)
  std::string effective;      // as written: "2025-01-01"
  std::string old_code;
  std::string new_code;
  std::string new_name;
  int line = 0;  // line in the file (0: built in a test)
};

// One merger: every old code that folds into one new code on one day, as
// indices into the table Extend() returns.
struct MergerStep {
  int64_t effective_day = 0;
  std::string effective;
  int new_unit = -1;            // index of the new code
  std::vector<int> old_units;   // indices of the old codes that are units (ascending)
  bool new_unit_added = false;  // the new code is not in the municipalities file
  // A stable name of the step for persisted state ("2025-01-01>GM1992").
  std::string key;
};

class MergerTable {
 public:
  // Reads the file against the municipalities file. Errors, each as
  // file:line:column (the column of the offending field), checked in this
  // order: a header other than the four columns in this order; a row with
  // another number of fields (column 1); then row by row in file order a
  // date that is not a calendar date YYYY-MM-DD, a code that is not GM + 4
  // digits, an old code equal to its new code, an empty new_name, an old code
  // merged twice (in two rows: the second, naming the first's line), a new
  // code with two names or two dates (the row that disagrees with the new
  // code's first); a cycle (A into B, B into A, over any number of steps:
  // "cycle: GMa -> GMb -> GMa", at the row that closes it); a new code that
  // clashes because it is itself merged away on or before the day it is
  // created (at the row that merges it away); then step by step a new code
  // that clashes because it is in the municipalities file under another
  // name, and a new code whose population cannot be known (no row in the
  // municipalities file and none of its old codes has one, an old code
  // created by an earlier step counting with its population as extended).
  // An empty file, or one with the header only (blank lines, CRLF and a
  // UTF-8 BOM allowed), is an empty table. The table is immutable.
  static Result<std::shared_ptr<const MergerTable>> Load(const std::string& path,
                                                         const MunicipalityTable& municipalities);
  // The same checks on rows built in code (tests); `source` names them.
  // effective_day is computed here from effective. A row with line 0 is
  // reported as "source: message", one with a line as if read from a file.
  static Result<std::shared_ptr<const MergerTable>> FromRows(
      std::vector<MergerRow> rows, const MunicipalityTable& municipalities,
      std::string source = "mergers");

  bool empty() const { return rows_.empty(); }
  // Rows ordered by (effective_day, new_code, old_code).
  const std::vector<MergerRow>& rows() const { return rows_; }
  const std::string& source() const { return source_; }

  // The municipality table the engine works with: every row of
  // `municipalities` (same indices, columns and cells), then one row per new
  // code the file lacks (name new_name, province and other cells of its first
  // old code, in code order, that has a row; population the sum of its old
  // codes' populations as extended; households empty; year of the effective
  // date; the code, name, province, population, households and year cells
  // rewritten to match), in the order of their steps. An old code without a
  // row is not a unit: IndexOf() of it gives its new code's index (an alias,
  // listed in aliases()), so events that name it count under the new code
  // from the start. `municipalities` must be the table Load() checked
  // against; the checks against it run again, so another table gives an
  // error rather than a wrong result. `steps` are against the extended
  // table, one per new code, ordered by effective day then new code; a step
  // whose old codes are all aliases has no old_units (nothing to fold).
  struct Extended {
    MunicipalityTablePtr municipalities;
    std::vector<MergerStep> steps;
  };
  Result<Extended> Extend(const MunicipalityTable& municipalities) const;

 private:
  std::vector<MergerRow> rows_;
  std::string source_;
};

using MergerTablePtr = std::shared_ptr<const MergerTable>;

}  // namespace zicht::reference
