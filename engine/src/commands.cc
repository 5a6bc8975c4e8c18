#include "zicht/engine/commands.h"

#include <fmt/format.h>

namespace zicht::engine {

const char* VersionString() { return ZICHT_VERSION; }

int RunCommand(const RunCommandOptions&) { fmt::print(stderr, "zicht run: not built yet\n"); return 1; }
int ReplayCommand(const ReplayCommandOptions&) { fmt::print(stderr, "zicht replay: not built yet\n"); return 1; }
int RulesCheckCommand(const std::vector<std::string>&) { return 1; }
int RulesTestCommand(const std::vector<std::string>&) { return 1; }
int GenerateCommand(const GenerateCommandOptions&) { return 1; }

}  // namespace zicht::engine
