// Figures: every measure of an indicator for a municipality, as the API and
// the dashboard show them. A municipality whose partition this instance owns
// is computed from its live windows (exactly what its rules see); one owned
// elsewhere from the latest complete national snapshot. NaN where a measure
// is undefined. Engine thread only (the figures read engine state).
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "zicht/engine/engine.h"

namespace zicht::api {

struct IndicatorFigures {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  int indicator = -1;
  bool live = false;  // this instance's live window; false: the national snapshot
  int64_t count = 0;  // events counted (share: all events of the type)
  double value = kNone, rate = kNone, national_rate = kNone, national_ratio = kNone,
         national_zscore = kNone, poisson_p = kNone, percentile = kNone, trend_ratio = kNone,
         expected = kNone;
  // SPEC 8.2 (count and share indicators; NaN otherwise): the empirical-Bayes
  // relative risk, the funnel position, and the Benjamini–Hochberg q when a
  // rule reads q_value of the indicator (IndicatorDef::uses_q).
  double shrunk_ratio = kNone, funnel_z = kNone, q_value = kNone;
  // A funnel plot's point (count and share indicators): the matching events O
  // and the expected count E against the national rate whatever the
  // indicator's baseline (as shrunk_ratio takes it); NaN otherwise.
  double observed = kNone, national_expected = kNone;
  // Neighbourhood indicators per buurt (SPEC 8.3): its rate ÷ its
  // municipality's; NaN otherwise.
  double municipality_ratio = kNone;
  // The window every figure above is computed from (empty for reference
  // indicators and before the first national snapshot), so that regions pool
  // exactly what their members show.
  engine::WindowAgg window{};
};

// Every indicator of the plan for one municipality, in indicator order.
std::vector<IndicatorFigures> MunicipalityFigures(engine::Engine& engine, int municipality);
// One indicator for every municipality, in municipality order.
std::vector<IndicatorFigures> IndicatorFiguresAll(engine::Engine& engine, int indicator);
// A neighbourhood indicator for every buurt of a municipality, in table
// order: (neighbourhood index, figures against all buurten of the country).
// Empty when the municipality is owned elsewhere (the per-buurt windows live
// only with their partition) or the indicator is not a neighbourhood one.
std::vector<std::pair<int, IndicatorFigures>> NeighbourhoodFigures(engine::Engine& engine,
                                                                   int indicator, int municipality);
// The indicator's rate for the window ending on each of the last `days`
// closed days (oldest first); empty for municipalities owned elsewhere.
std::vector<double> RateHistory(engine::Engine& engine, int indicator, int municipality, int days);

}  // namespace zicht::api
