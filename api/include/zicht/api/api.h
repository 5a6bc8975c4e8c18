// The read-only API (docs/openapi.yaml) built from engine state, as JSON and,
// for the ranking, the alerts and a municipality's figures, as CSV; with
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

// Result of an API call: a body or an HTTP error.
struct ApiResult {
  int status = 200;
  std::string body;                               // or an error message for status >= 400
  std::string content_type = "application/json";  // of a body with status < 400
  std::string filename{};  // when set, the body is a download (Content-Disposition) of this name
};

// GET /api/v1/municipalities: every municipality with its province, population
// and number of recent alerts.
ApiResult MunicipalitiesJson(engine::Engine& engine, const ApiOptions& options);
// GET /api/v1/municipalities/{code}: every indicator with value, count, rate,
// national rate, national_ratio, national_zscore, poisson_p, percentile,
// trend_ratio, shrunk_ratio, funnel_z, q_value and a rate history, plus the
// municipality's recent alerts.
ApiResult MunicipalityJson(engine::Engine& engine, const std::string& code,
                           const ApiOptions& options);
// GET /api/v1/municipalities/{code}/neighbourhoods: every buurt of the
// municipality with its neighbourhood indicators (count, rate, national and
// municipality ratio, poisson_p, shrunk_ratio), small counts suppressed as
// for municipalities; `available` false when another instance owns it.
ApiResult NeighbourhoodsJson(engine::Engine& engine, const std::string& code,
                             const ApiOptions& options);
// GET /api/v1/indicators: the indicators of the loaded packs.
ApiResult IndicatorsJson(engine::Engine& engine);
// GET /api/v1/indicators/{id}[?pack=][&by=]: all municipalities ranked by
// `by`: shrunk_ratio (the default for count and share indicators) or
// national_ratio (the raw index; the default, and the only choice, for the
// others). 400 for another `by`.
ApiResult IndicatorJson(engine::Engine& engine, const std::string& id, const std::string& pack,
                        const ApiOptions& options, const std::string& by = "");
// GET /api/v1/indicators/{id}/funnel[?pack=]: a funnel plot of a count or
// share indicator against the national rate: per municipality the observed
// (matching) count O, the expected count E and O ÷ E (suppressed ones without
// figures), and the exact 95 % and 99.8 % control limits of O ÷ E on a grid of
// about 60 expected counts, log-spaced over the shown municipalities' E:
// Poisson(E) quantiles ÷ E for counts, Binomial(n, national share) quantiles
// ÷ (n × share) for shares, the quantile at q being the smallest k with
// P(X <= k) >= q. Each point says where it lies against its own exact limits.
// 400 for other aggregates.
ApiResult FunnelJson(engine::Engine& engine, const std::string& id, const std::string& pack,
                     const ApiOptions& options);
// GET /api/v1/regions?by=province|riec_region|police_unit[&indicator=ID][&pack=]
// (SPEC 8.3): per region (a distinct non-empty value of that column of the
// municipalities file; default province) its member municipalities and
// population, and for each indicator (or the one asked for) the figures pooled
// over its members as the national figure is pooled, against the national
// figure: count, value, rate, expected, national_rate, national_ratio,
// national_zscore, poisson_p, binomial_p, and the region's rank by
// national_ratio. Municipalities without a value are `unassigned`. A region
// cell is suppressed, like a municipality's, when its count is below the
// minimum, and also when its suppressed members' events together are (the
// region minus its shown members would reveal them). 400 for another `by`;
// a column the file lacks or leaves empty gives no regions (200).
ApiResult RegionsJson(engine::Engine& engine, const std::string& by, const std::string& indicator,
                      const std::string& pack, const ApiOptions& options);
// GET /api/v1/alerts?since=RFC3339&limit=N&municipality=GM....: recent alerts
// emitted at or after `since`, newest first.
ApiResult AlertsJson(engine::Engine& engine, const std::string& since, const std::string& limit,
                     const std::string& municipality, const ApiOptions& options);

// The same views as CSV for a spreadsheet (RFC 4180, a header row, CRLF,
// text/csv; charset=utf-8), under the same disclosure control: a figure the
// JSON gives as null is an empty cell. Text from data that a spreadsheet would
// run as a formula (leading = + - @) starts with an apostrophe. Errors are the
// JSON functions' errors. `filename` says what, and the event-time date:
// zicht-ranking-<pack>-<indicator>-<date>.csv, zicht-alerts[-<code>]-<date>.csv,
// zicht-municipality-<code>-<date>.csv, zicht-regions-<by>-<date>.csv.
//
// One row per municipality, in the order of IndicatorJson (rank empty for
// suppressed municipalities and those without a figure).
ApiResult IndicatorCsv(engine::Engine& engine, const std::string& id, const std::string& pack,
                       const ApiOptions& options, const std::string& by = "");
// One row per alert, as AlertsJson selects them; the conditions summarised in
// one column ("indicator measure op threshold (observed x, count n, held)",
// "; " between conditions; a suppressed condition shows neither).
ApiResult AlertsCsv(engine::Engine& engine, const std::string& since, const std::string& limit,
                    const std::string& municipality, const ApiOptions& options);
// One row per indicator of the municipality (no history, no alerts: those are
// a series and a list of their own; the alerts CSV takes ?municipality=).
ApiResult MunicipalityCsv(engine::Engine& engine, const std::string& code,
                          const ApiOptions& options);

// One row per (region, indicator), in the order of RegionsJson; the member
// codes in one column, separated by spaces. zicht-regions-<by>[-<pack>-<indicator>]-<date>.csv.
ApiResult RegionsCsv(engine::Engine& engine, const std::string& by, const std::string& indicator,
                     const std::string& pack, const ApiOptions& options);

// GET /api/v1/rules: loaded packs, versions and rules.
ApiResult RulesJson(engine::Engine& engine);
// GET /api/v1/status: clock, watermark, counters.
ApiResult StatusJson(engine::Engine& engine);

}  // namespace zicht::api
