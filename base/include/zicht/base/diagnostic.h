// A located message about an input file: `file:line:column: message`, the one
// format every file zicht reads reports its errors in (rule packs, engine
// config, rule tests, reference tables).
#pragma once

#include <string>

namespace zicht {

// Where something came from, 1-based line and column.
struct SourceMark {
  std::string file;
  int line = 0;
  int column = 0;
};

struct Diagnostic {
  SourceMark mark;
  std::string message;
  std::string ToString() const;  // "file:line:column: message" (the message alone without a file)
};

}  // namespace zicht
