#include "zicht/runtime/plan_loader.h"

#include <spdlog/spdlog.h>

#include "zicht/reference/mergers.h"
#include "zicht/rules/loader.h"

namespace zicht::runtime {

Result<engine::PlanPtr> LoadPlan(const PlanSources& options) {
  auto municipalities = reference::MunicipalityTable::Load(options.municipalities_path);
  if (!municipalities.ok()) return municipalities.status();
  rules::LoadOptions load;
  load.retention_ms = options.retention_ms;
  // Peers baselines are checked against this table, with file:line:column.
  load.municipality_columns = (*municipalities)->columns();
  rules::RuleSetLoadResult loaded = rules::LoadRuleSet(options.rule_files, load);
  if (!loaded.rule_set) {
    std::string message;
    for (const rules::Diagnostic& d : loaded.errors) {
      if (!message.empty()) message += '\n';
      message += d.ToString();
    }
    if (message.empty()) message = "rule packs could not be loaded";
    return Status::InvalidArgument(message);
  }
  engine::PlanOptions plan_options;
  plan_options.allowed_lateness_ms = options.allowed_lateness_ms;
  if (!options.mergers_path.empty()) {
    auto mergers = reference::MergerTable::Load(options.mergers_path, **municipalities);
    if (!mergers.ok()) return mergers.status();
    // New codes the file lacks become units; old codes it lacks, aliases.
    auto extended = (*mergers)->Extend(**municipalities);
    if (!extended.ok()) return extended.status();
    *municipalities = extended->municipalities;
    plan_options.mergers = std::move(extended->steps);
  }
  if (!options.neighbourhoods_path.empty()) {
    auto buurten =
        reference::NeighbourhoodTable::Load(options.neighbourhoods_path, **municipalities);
    if (!buurten.ok()) return buurten.status();
    // Populations that do not add up are worth a look, not a refusal.
    for (const std::string& w : (*buurten)->warnings()) spdlog::warn("{}", w);
    plan_options.neighbourhoods = std::move(*buurten);
  }
  return engine::Plan::Build(loaded.rule_set, *municipalities, plan_options);
}

}  // namespace zicht::runtime
