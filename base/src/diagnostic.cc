#include "zicht/base/diagnostic.h"

#include <fmt/format.h>

namespace zicht {

std::string Diagnostic::ToString() const {
  if (mark.file.empty()) return message;  // located by its own text
  return fmt::format("{}:{}:{}: {}", mark.file, mark.line, mark.column, message);
}

}  // namespace zicht
