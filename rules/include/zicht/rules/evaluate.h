// Rule evaluation semantics that do not depend on state: combining condition
// outcomes (all / any / at_least / score) and the `for` / `cooldown` timer.
// The engine computes the measures; this decides whether a rule fires.
#pragma once

#include <span>

#include "zicht/rules/rule_pack.h"

namespace zicht::rules {

struct Combination {
  bool held = false;  // the rule's combination holds
  double score = 0;  // score rules: Σ held weights ÷ Σ weights; others: share of conditions held
};

// held[i] says whether conditions[i] of the rule holds (min_events included).
Combination Combine(const RuleSpec& rule, std::span<const bool> held);

// Per (rule, municipality) memory between evaluations.
struct RuleTimer {
  TimeMs held_since = kMinTime;  // T0 of the current streak, kMinTime if not holding
  TimeMs last_alert = kMinTime;  // T of the last alert, kMinTime if none
  friend bool operator==(const RuleTimer&, const RuleTimer&) = default;
};

// Advances the timer with the outcome of an evaluation at T; returns true when
// the rule fires now: held continuously for `for` and outside `cooldown`.
bool StepTimer(const RuleSpec& rule, bool held, TimeMs now, RuleTimer* timer);

}  // namespace zicht::rules
