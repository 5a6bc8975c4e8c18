#include "alert_builder.h"

#include <algorithm>

namespace zicht::engine {
namespace {

// The newest distinct ids counted by the rule's series within the longest
// window any of its conditions reads on that series.
std::vector<std::string> Evidence(const Plan& plan, const PartitionState& part, const RuleDef& rd,
                                  int local, int evidence_ids) {
  const WindowStore& ws = *part.store;
  std::vector<const EvidenceEntry*> entries;
  for (int s : rd.series) {
    int64_t longest = 0;
    for (int i : rd.condition_indicator) {
      const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(i)];
      if (ind.series == s) longest = std::max(longest, ind.window);
    }
    const int64_t first = ws.current_bucket(ws.series_hours(s)) - longest + 1;
    const EvidenceRing& ring = part.evidence[part.EvidenceSlot(s, local)];
    for (const EvidenceEntry& e : ring.entries) {
      if (e.bucket >= first) entries.push_back(&e);
    }
  }
  std::sort(entries.begin(), entries.end(), [](const EvidenceEntry* a, const EvidenceEntry* b) {
    return a->time != b->time ? a->time > b->time : a->id < b->id;
  });
  std::vector<std::string> out;
  for (const EvidenceEntry* e : entries) {
    if (out.size() >= static_cast<size_t>(evidence_ids)) break;
    if (std::find(out.begin(), out.end(), e->id) == out.end()) out.push_back(e->id);
  }
  return out;
}

}  // namespace

rules::Alert AlertBuilder::Build(const Plan& plan, const PartitionState& part, int rule, int local,
                                 double score, const std::vector<MeasureInput>& inputs,
                                 TimeMs emitted_at, int evidence_ids) {
  const RuleDef& rd = plan.rules()[static_cast<size_t>(rule)];
  const rules::RuleSpec& spec = *rd.spec;
  const int muni = part.store->MunicipalityOf(local);
  const Municipality& m = plan.municipalities().at(static_cast<size_t>(muni));
  rules::Alert alert;
  alert.rule = spec.id;
  alert.rule_version = spec.version;
  alert.pack = rd.pack;
  alert.severity = spec.severity;
  alert.municipality = m.code;
  alert.municipality_name = m.name;
  alert.event_time = part.clock;
  alert.emitted_at = emitted_at;
  if (part.store->is_neighbourhood(local)) {
    const reference::Neighbourhood& n =
        plan.neighbourhoods()->at(static_cast<size_t>(part.store->NeighbourhoodOf(local)));
    alert.neighbourhood = n.code;
    alert.neighbourhood_name = n.name;
    // SPEC 8.3: the id hashes municipality/neighbourhood.
    alert.alert_id = rules::AlertId(spec.id, spec.version, m.code + "/" + n.code, part.clock);
  } else {
    alert.alert_id = rules::AlertId(spec.id, spec.version, m.code, part.clock);
  }
  alert.score = score;
  alert.labels = spec.labels;
  for (size_t c = 0; c < spec.conditions.size(); ++c) {
    alert.conditions.push_back(EvaluateCondition(spec.conditions[c], inputs[c], spec.min_events));
  }
  alert.evidence = Evidence(plan, part, rd, local, evidence_ids);
  return alert;
}

}  // namespace zicht::engine
