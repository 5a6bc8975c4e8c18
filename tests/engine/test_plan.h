// A small plan for the engine's unit tests: the SPEC example pack over four
// municipalities of known population, and a helper that counts events in a
// partition's windows as the engine does.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "zicht/engine/plan.h"
#include "zicht/engine/window_store.h"
#include "zicht/reference/municipalities.h"
#include "zicht/rules/loader.h"

namespace zicht::engine::testing {

inline PlanPtr SpecExamplePlan() {
  std::vector<reference::Municipality> rows = {
      {"GM0001", "Eerst", "Groningen", 10000, std::nullopt, 2024},
      {"GM0002", "Tweede", "Drenthe", 20000, std::nullopt, 2024},
      {"GM0003", "Derde", "Utrecht", 30000, std::nullopt, 2024},
      {"GM0004", "Vierde", "Limburg", 40000, std::nullopt, 2024}};
  auto munis = reference::MunicipalityTable::FromRows(std::move(rows), "test");
  EXPECT_TRUE(munis.ok()) << munis.status().ToString();
  auto set = rules::LoadRuleSet({ZICHT_SOURCE_DIR "/tests/rules/data/spec_example.yaml"});
  EXPECT_TRUE(set.errors.empty());
  auto plan = Plan::Build(set.rule_set, *munis);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return *plan;
}

inline int IndicatorOf(const Plan& plan, const std::string& id) {
  for (const IndicatorDef& ind : plan.indicators()) {
    if (ind.spec->id == id) return ind.index;
  }
  ADD_FAILURE() << "no indicator " << id;
  return -1;
}

// Counts `n` matching events of the indicator's series for `municipality` at
// `time` (the store's clock moves there first).
inline void Count(const Plan& plan, WindowStore& ws, int indicator, int municipality, TimeMs time,
                  int n) {
  const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(indicator)];
  const SeriesDef& series = plan.series()[static_cast<size_t>(ind.series)];
  if (!ws.has_clock() || ws.NeedsAdvance(time)) ws.Advance(time);
  for (int i = 0; i < n; ++i) {
    ws.Add(ind.series, ws.Local(municipality), FloorDiv(time, series.bucket_ms), true, 0);
  }
}

}  // namespace zicht::engine::testing
