// TEMPORARY placeholder until this command is built (see the owning issue).
#include <fmt/format.h>

#include "zicht/engine/commands.h"

namespace zicht::engine {

int RulesCheckCommand(const std::vector<std::string>&) {
  fmt::print(stderr, "zicht: this command is not built yet\n");
  return 1;
}

}  // namespace zicht::engine
