// Figures: every measure of an indicator for a municipality, as the API and
// the dashboard show them. A municipality whose partition this instance owns
// is computed from its live windows (exactly what its rules see); one owned
// elsewhere from the latest complete national snapshot. NaN where a measure
// is undefined. Engine thread only (the figures read engine state).
#pragma once

#include <cstdint>
#include <vector>

#include "zicht/engine/engine.h"

namespace zicht::api {

struct IndicatorFigures {
  int indicator = -1;
  bool live = false;  // this instance's live window; false: the national snapshot
  int64_t count = 0;  // events counted (share: all events of the type)
  double value, rate, national_rate, national_ratio, national_zscore, poisson_p, percentile,
      trend_ratio, expected;
};

// Every indicator of the plan for one municipality, in indicator order.
std::vector<IndicatorFigures> MunicipalityFigures(engine::Engine& engine, int municipality);
// One indicator for every municipality, in municipality order.
std::vector<IndicatorFigures> IndicatorFiguresAll(engine::Engine& engine, int indicator);
// The indicator's rate for the window ending on each of the last `days`
// closed days (oldest first); empty for municipalities owned elsewhere.
std::vector<double> RateHistory(engine::Engine& engine, int indicator, int municipality, int days);

}  // namespace zicht::api
