// Combining condition outcomes and the `for` / `cooldown` timer (SPEC section 4,
// Semantics). Called per event by the engine: nothing here allocates.
#include "zicht/rules/evaluate.h"

#include <algorithm>

namespace zicht::rules {
namespace {

// Σ held ÷ Σ all of a few weights that should reach exactly alert_at (0.6 of
// {0.6, 0.4}) can land one ulp below it; this tolerance keeps such ties firing.
constexpr double kScoreTolerance = 1e-9;

double WeightOf(const RuleSpec& rule, size_t i) {
  if (rule.condition_weights.size() == rule.conditions.size()) return rule.condition_weights[i];
  // Hand-built specs without FinalizePack: look the weight up by id (no allocation).
  auto it = rule.weights.find(rule.conditions[i].id);
  return it == rule.weights.end() ? 0.0 : it->second;
}

}  // namespace

Combination Combine(const RuleSpec& rule, std::span<const bool> held) {
  Combination out;
  const size_t n = rule.conditions.size();
  if (n == 0) return out;  // a rule without conditions never holds
  // Conditions without an outcome count as not held.
  const size_t given = std::min(n, held.size());
  if (rule.match == MatchKind::kScore) {
    double total = 0, got = 0;
    for (size_t i = 0; i < n; ++i) {
      double w = WeightOf(rule, i);
      total += w;
      if (i < given && held[i]) got += w;
    }
    if (total <= 0) return out;
    out.score = got / total;
    out.held = out.score >= rule.alert_at - kScoreTolerance && rule.alert_at > 0;
    return out;
  }
  size_t count = 0;
  for (size_t i = 0; i < given; ++i) count += held[i] ? 1 : 0;
  out.score = static_cast<double>(count) / static_cast<double>(n);
  switch (rule.match) {
    case MatchKind::kAll:
      out.held = count == n;
      break;
    case MatchKind::kAny:
      out.held = count >= 1;
      break;
    case MatchKind::kAtLeast:
      out.held = count >= static_cast<size_t>(std::max(rule.at_least, 1));
      break;
    case MatchKind::kScore:
      break;  // handled above
  }
  return out;
}

bool StepTimer(const RuleSpec& rule, bool held, TimeMs now, RuleTimer* timer) {
  if (!held) {
    timer->held_since = kMinTime;  // a not-held evaluation ends the streak
    return false;
  }
  if (timer->held_since == kMinTime) timer->held_since = now;
  // T only moves forward; a smaller `now` (never seen from the engine) counts as 0 held.
  if (now - timer->held_since < rule.for_ms) return false;
  if (timer->last_alert != kMinTime && now - timer->last_alert < rule.cooldown_ms) return false;
  timer->last_alert = now;
  return true;
}

}  // namespace zicht::rules
