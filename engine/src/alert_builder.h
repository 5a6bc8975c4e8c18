// AlertBuilder: turns a rule that fired for a municipality into the SPEC
// alert (section 5): identity (stable alert id), every condition with its
// observed value, threshold and national comparison, and the evidence, i.e.
// the newest event ids the rule's indicators counted in their current
// windows. Internal to the engine; one thread.
#pragma once

#include <vector>

#include "partition_state.h"
#include "zicht/engine/plan.h"
#include "zicht/rules/alert.h"

namespace zicht::engine {

struct AlertBuilder {
  // `inputs[c]`: the measure input of the rule's condition c (as evaluated).
  static rules::Alert Build(const Plan& plan, const PartitionState& part, int rule, int local,
                            double score, const std::vector<MeasureInput>& inputs,
                            TimeMs emitted_at, int evidence_ids);
};

}  // namespace zicht::engine
