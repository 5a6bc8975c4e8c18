// Loading a Plan from files: the rule packs (validated together) and the
// municipality reference table, compiled for the engine. Used by `zicht run`
// at start and on every reload, by `zicht replay` and by the tools.
#pragma once

#include <string>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/base/time.h"
#include "zicht/engine/plan.h"
#include "zicht/rules/loader.h"

namespace zicht::runtime {

struct PlanSources {
  std::vector<std::string> rule_files;
  std::string municipalities_path;
  // CBS buurten (SPEC 8.3); empty: none (neighbourhood codes in events are
  // then checked for their form only, and neighbourhood indicators refused).
  std::string neighbourhoods_path;
  // Municipal mergers (SPEC 8.3); empty: none.
  std::string mergers_path;
  TimeMs allowed_lateness_ms = kMsPerDay;  // SPEC default 1d
  TimeMs retention_ms = rules::LoadOptions{}.retention_ms;
};

// Loads and validates the packs and the reference data. On failure the status
// message holds every diagnostic, one `file:line:column: message` per line.
Result<engine::PlanPtr> LoadPlan(const PlanSources& sources);

}  // namespace zicht::runtime
