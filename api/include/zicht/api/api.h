// The read-only JSON API (docs/openapi.yaml) built from engine state, with
// CBS-style disclosure control: a count below the minimum is never shown, nor
// anything derived from it. Functions run on the engine thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "zicht/base/status.h"
#include "zicht/engine/engine.h"

namespace zicht::api {

struct ApiOptions {
  int disclosure_min_count = 5;  // counts below this are suppressed (default 5)
  int history_days = 90;         // points in a municipality's indicator history
};

// Result of an API call: a JSON body or an HTTP error.
struct ApiResult {
  int status = 200;
  std::string body;  // JSON, or an error message for status >= 400
};

// GET /api/v1/municipalities: every municipality with its province, population
// and number of recent alerts.
ApiResult MunicipalitiesJson(engine::Engine& engine, const ApiOptions& options);
// GET /api/v1/municipalities/{code}: every indicator with value, count, rate,
// national rate, national_ratio, national_zscore, poisson_p, percentile,
// trend_ratio and a rate history, plus the municipality's recent alerts.
ApiResult MunicipalityJson(engine::Engine& engine, const std::string& code,
                           const ApiOptions& options);
// GET /api/v1/indicators: the indicators of the loaded packs.
ApiResult IndicatorsJson(engine::Engine& engine);
// GET /api/v1/indicators/{id}[?pack=]: all municipalities ranked by national ratio.
ApiResult IndicatorJson(engine::Engine& engine, const std::string& id, const std::string& pack,
                        const ApiOptions& options);
// GET /api/v1/alerts?since=RFC3339&limit=N&municipality=GM....: recent alerts
// emitted at or after `since`, newest first.
ApiResult AlertsJson(engine::Engine& engine, const std::string& since, const std::string& limit,
                     const std::string& municipality, const ApiOptions& options);
// GET /api/v1/rules: loaded packs, versions and rules.
ApiResult RulesJson(engine::Engine& engine);
// GET /api/v1/status: clock, watermark, counters.
ApiResult StatusJson(engine::Engine& engine);

}  // namespace zicht::api
