// `zicht rules check PACK.yaml...`: validates packs offline, as the engine would
// load them together; errors as file:line:column on stderr, exit 1 on any.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "zicht/cli/commands.h"
#include "zicht/reference/municipalities.h"
#include "zicht/rules/loader.h"

namespace zicht::cli {
namespace {
constexpr const char* kDefaultMunicipalities = "config/reference/municipalities.csv";
}  // namespace

int RulesCheckCommand(const std::vector<std::string>& files, const std::string& municipalities) {
  rules::LoadOptions options;
  std::string table = municipalities;
  std::error_code ec;
  if (table.empty() && std::filesystem::is_regular_file(kDefaultMunicipalities, ec)) {
    table = kDefaultMunicipalities;
  }
  if (!table.empty()) {
    auto loaded_table = reference::MunicipalityTable::Load(table);
    if (!loaded_table.ok()) {
      fmt::print(stderr, "zicht rules check: {}\n", loaded_table.status().message());
      return 1;
    }
    options.municipality_columns = (*loaded_table)->columns();
  }
  rules::RuleSetLoadResult loaded = rules::LoadRuleSet(files, options);
  if (!loaded.rule_set) {
    for (const rules::Diagnostic& d : loaded.errors) fmt::print(stderr, "{}\n", d.ToString());
    fmt::print(stderr, "zicht rules check: {} error{} in {} rule pack{}\n", loaded.errors.size(),
               loaded.errors.size() == 1 ? "" : "s", files.size(), files.size() == 1 ? "" : "s");
    return 1;
  }
  for (const rules::RulePack& pack : loaded.rule_set->packs()) {
    fmt::print(
        "{}: pack {} theme {} version {}: {} event types ({} declared), {} indicators, "
        "{} rules\n",
        pack.file, pack.name, pack.theme.empty() ? "-" : pack.theme, pack.version,
        rules::BuiltinEventTypes().size() + pack.events.size(), pack.events.size(),
        pack.indicators.size(), pack.rules.size());
  }
  return 0;
}

}  // namespace zicht::cli
