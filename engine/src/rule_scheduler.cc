#include "rule_scheduler.h"

#include <algorithm>
#include <span>

#include "zicht/rules/evaluate.h"

namespace zicht::engine {

namespace {

// A municipality's population as its rules see it: a new code counts its old
// codes' inhabitants once its merger is folded here (SPEC 8.3).
int64_t PopulationNow(const Plan& plan, const WindowStore& ws, int municipality) {
  const int step = plan.step_creating(municipality);
  if (step >= 0 && ws.folded(step)) return plan.merged_population(municipality);
  return plan.municipalities().at(static_cast<size_t>(municipality)).population;
}

}  // namespace

MeasureInput PartitionInput(const Plan& plan, NationalBaseline& national,
                            const NationalBarrier& barrier, PartitionState& part, int indicator,
                            int local) {
  const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(indicator)];
  const WindowStore& ws = *part.store;
  MeasureInput in;
  in.indicator = &ind;
  in.local = local;
  if (ws.is_neighbourhood(local)) {
    const int n = ws.NeighbourhoodOf(local);
    const reference::Neighbourhood& buurt = plan.neighbourhoods()->at(static_cast<size_t>(n));
    in.municipality = n;
    in.population = buurt.population;
    // The buurt's municipality now: its new code once a merger is folded.
    const int parent = ws.MunicipalityOf(local);
    in.parent_local = ws.Local(parent);
    in.parent_population = PopulationNow(plan, ws, parent);
  } else {
    in.municipality = ws.municipalities()[static_cast<size_t>(local)];
    in.population = PopulationNow(plan, ws, in.municipality);
  }
  in.first_event_time = part.first_event_time;
  if (ind.reference >= 0) {
    in.reference = &plan.references()[static_cast<size_t>(ind.reference)];
    in.national = &national.ReferenceFigures(indicator);
  } else {
    in.store = &ws;
    const int64_t final_bucket = barrier.Bucket(ws, ws.series_hours(ind.series));
    PartitionState::FiguresRef& ref = part.figures[static_cast<size_t>(indicator)];
    if (ref.final_bucket != final_bucket || !ref.figures) {
      ref.figures = national.Figures(indicator, final_bucket);
      ref.final_bucket = final_bucket;
    }
    in.national = ref.figures.get();
    in.final_bucket = final_bucket;
  }
  return in;
}

RuleScheduler::RuleScheduler(const Plan& plan, NationalBaseline* national,
                             const NationalBarrier* barrier, bool incremental)
    : plan_(plan), national_(national), barrier_(barrier), incremental_(incremental) {
  rule_stamp_.assign(plan.rules().size(), 0);
  size_t max_conditions = 0;
  for (const RuleDef& r : plan.rules())
    max_conditions = std::max(max_conditions, r.spec->conditions.size());
  held_ = std::make_unique<bool[]>(std::max<size_t>(1, max_conditions));
}

void RuleScheduler::BeginEvent() {
  ++stamp_;
  rules_to_evaluate_.clear();
  updated_indicators_.clear();
}

void RuleScheduler::Touched(const SeriesDef& series, bool matched) {
  const std::vector<int>& affected = matched ? series.rules : series.share_rules;
  for (int r : affected) {
    if (rule_stamp_[static_cast<size_t>(r)] != stamp_) {
      rule_stamp_[static_cast<size_t>(r)] = stamp_;
      rules_to_evaluate_.push_back(r);
    }
  }
  const std::vector<int>& updated = matched ? series.indicators : series.share_indicators;
  updated_indicators_.insert(updated_indicators_.end(), updated.begin(), updated.end());
}

void RuleScheduler::EvaluateAfterEvent(PartitionState& part, int local,
                                       std::vector<Firing>* fired) {
  if (incremental_) {
    EvaluateAffected(part, local, fired);
  } else {
    const bool buurt = part.store->is_neighbourhood(local);
    for (int r : rules_to_evaluate_) {
      if (plan_.rules()[static_cast<size_t>(r)].neighbourhood != buurt) continue;
      EvaluateRule(part, r, local, /*reuse=*/false, fired);
    }
  }
}

void RuleScheduler::EvaluateRule(PartitionState& part, int rule, int local, bool reuse,
                                 std::vector<Firing>* fired) {
  const RuleDef& rd = plan_.rules()[static_cast<size_t>(rule)];
  const rules::RuleSpec& spec = *rd.spec;
  ++evaluations_;
  bool* held = held_.get();
  for (size_t c = 0; c < spec.conditions.size(); ++c) {
    ConditionCache* cache =
        &part.conditions[part.ConditionSlot(rd.condition_base + static_cast<int>(c), local)];
    // municipality_ratio also moves with events elsewhere in the
    // municipality, which the cache does not see: always computed.
    if (reuse && cache->epoch == part.epoch &&
        spec.conditions[c].measure != rules::Measure::kMunicipalityRatio) {
      held[c] = cache->last_held;
      continue;
    }
    MeasureInput in =
        PartitionInput(plan_, *national_, *barrier_, part, rd.condition_indicator[c], local);
    held[c] =
        EvaluateHolds(spec.conditions[c], in, spec.min_events, incremental_ ? cache : nullptr);
    cache->last_held = held[c];
    cache->epoch = part.epoch;
  }
  rules::Combination comb =
      rules::Combine(spec, std::span<const bool>(held, spec.conditions.size()));
  const size_t slot = part.RuleSlot(rule, local);
  part.rule_held[slot] = comb.held ? 1 : 0;
  rules::RuleTimer& timer = part.timers[slot];
  rules::RuleTimer before = timer;
  bool fire = rules::StepTimer(spec, comb.held, part.clock, &timer);
  if (!(timer == before)) part.timer_dirty[slot] = 1;
  if (fire) fired->push_back(Firing{rule, local, comb.score});
}

void RuleScheduler::EvaluateAffected(PartitionState& part, int local, std::vector<Firing>* fired) {
  // Only conditions on indicators this event updated can have changed (the
  // others keep their cached outcome within the epoch). A rule whose
  // combination was false and none of whose outcomes changed would only
  // confirm "not held": evaluating it changes nothing, so it is skipped.
  // Rules that hold are always evaluated, for their `for` and `cooldown`.
  ++stamp_;
  const bool buurt = part.store->is_neighbourhood(local);
  for (int r : rules_to_evaluate_) {
    const RuleDef& rd = plan_.rules()[static_cast<size_t>(r)];
    if (rd.neighbourhood != buurt) continue;
    if (rd.reads_parent) {
      rule_stamp_[static_cast<size_t>(r)] = stamp_;
      continue;
    }
    const size_t slot = part.RuleSlot(r, local);
    if (!part.rule_held[slot]) continue;
    // A rule that holds changes nothing until it may fire: `for` elapsed and
    // outside `cooldown`.
    const rules::RuleSpec& spec = *plan_.rules()[static_cast<size_t>(r)].spec;
    const rules::RuleTimer& t = part.timers[slot];
    const TimeMs may_fire =
        std::max(t.held_since == kMinTime ? kMinTime : t.held_since + spec.for_ms,
                 t.last_alert == kMinTime ? kMinTime : t.last_alert + spec.cooldown_ms);
    if (part.clock >= may_fire) rule_stamp_[static_cast<size_t>(r)] = stamp_;
  }
  for (int i : updated_indicators_) {
    const IndicatorDef& ind = plan_.indicators()[static_cast<size_t>(i)];
    const auto& conditions = ind.conditions;
    if (conditions.empty() || ind.neighbourhood != buurt) continue;
    const MeasureInput in = PartitionInput(plan_, *national_, *barrier_, part, i, local);
    for (const auto& [r, c] : conditions) {
      const RuleDef& rd = plan_.rules()[static_cast<size_t>(r)];
      ConditionCache* cache = &part.conditions[part.ConditionSlot(rd.condition_base + c, local)];
      const bool was = cache->last_held;
      const bool valid = cache->epoch == part.epoch;
      const bool now = EvaluateHolds(rd.spec->conditions[static_cast<size_t>(c)], in,
                                     rd.spec->min_events, cache);
      cache->last_held = now;
      cache->epoch = part.epoch;
      if (!valid || now != was) rule_stamp_[static_cast<size_t>(r)] = stamp_;
    }
  }
  for (int r : rules_to_evaluate_) {
    if (rule_stamp_[static_cast<size_t>(r)] == stamp_ &&
        plan_.rules()[static_cast<size_t>(r)].neighbourhood == buurt)
      EvaluateRule(part, r, local, /*reuse=*/true, fired);
  }
}

void RuleScheduler::EvaluateAll(PartitionState& part, std::vector<Firing>* fired) {
  // Municipality rules over the municipalities, neighbourhood rules over the
  // neighbourhoods (units after the municipalities).
  const size_t munis = part.store->municipalities().size();
  const size_t units = part.store->units();
  for (size_t r = 0; r < plan_.rules().size(); ++r) {
    const bool buurt = plan_.rules()[r].neighbourhood;
    for (size_t l = buurt ? munis : 0; l < (buurt ? units : munis); ++l) {
      // Merged-away codes and new codes before their day have no rules.
      if (!buurt && !part.store->live(static_cast<int>(l))) continue;
      EvaluateRule(part, static_cast<int>(r), static_cast<int>(l), /*reuse=*/false, fired);
    }
  }
}

}  // namespace zicht::engine
