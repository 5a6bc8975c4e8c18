// What the read API may show of engine state, decided once for both of its
// formats (JSON in api.cc, CSV in csv_export.cc): disclosure control, the
// order of a ranking, which alerts a request selects. Private to the module.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zicht/api/api.h"
#include "zicht/api/figures.h"
#include "zicht/base/json_writer.h"
#include "zicht/engine/engine.h"

namespace zicht::api::views {

// The figures of one indicator for one municipality as a client may see them.
// When `suppressed`, the count and everything derived from it are NaN.
struct ShownFigures {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  bool suppressed = false;
  bool live = false;
  std::optional<int64_t> count;  // absent when suppressed, and for reference indicators
  double value = kNone, rate = kNone, expected = kNone, national_rate = kNone,
         national_ratio = kNone, national_zscore = kNone, poisson_p = kNone, percentile = kNone,
         trend_ratio = kNone, shrunk_ratio = kNone, funnel_z = kNone, q_value = kNone;
  // A funnel plot's point: matching events and the expected count against the
  // national rate (IndicatorFigures).
  double observed = kNone, national_expected = kNone;
};

// A count below the minimum; reference indicators count nothing and never are.
bool Suppressed(const engine::IndicatorDef& ind, const IndicatorFigures& f,
                const ApiOptions& options);
// The figures with disclosure control applied. The national rate pools every
// municipality and is always shown.
ShownFigures Disclose(const engine::IndicatorDef& ind, const IndicatorFigures& f,
                      const ApiOptions& options);

// An alert condition on fewer events than the minimum in its window (one
// without a window reads a reference table and counts nothing).
bool ConditionSuppressed(simdjson::dom::element condition, const ApiOptions& options);
// The fields of a suppressed condition that are not shown.
bool HiddenConditionField(std::string_view key);

// The engine's clock: the newest event time of the partitions it owns;
// kMinTime before the first event.
TimeMs EventTime(const engine::Engine& engine);

// The pack an indicator belongs to.
const rules::RulePack& PackOf(const engine::Plan& plan, const engine::IndicatorDef& ind);

// The description of an indicator every JSON view starts its object with:
// id, pack, theme, title, aggregate, event and window (or source), per and
// q_ranked.
void IndicatorMeta(JsonWriter& w, const engine::Plan& plan, const engine::IndicatorDef& ind);

// What a ranking orders by: the raw index against the baseline, or the
// empirical-Bayes relative risk (count and share indicators only).
enum class RankBy { kNationalRatio, kShrunkRatio };
// The default: shrunk_ratio for count and share indicators (small
// municipalities' noise shrunk towards the mean), national_ratio otherwise.
RankBy DefaultRankBy(const engine::IndicatorDef& ind);
// `?by=` of a ranking request: empty (the default), national_ratio or
// shrunk_ratio; 400 for anything else or shrunk_ratio of another aggregate.
ApiResult ParseRankBy(const engine::IndicatorDef& ind, const std::string& by, RankBy* out);
const char* RankByName(RankBy by);

struct RankedMunicipality {
  size_t municipality = 0;  // index into the plan's municipality table
  int rank = 0;             // 1 = highest figure ranked by; 0 = not ranked
};
// Every municipality, highest `by` first (equal shrunk ratios: highest
// national_ratio first); suppressed ones and those without
// that figure last, unranked and in name order (so that their position
// reveals nothing). `all` is in municipality order.
std::vector<RankedMunicipality> Rank(const engine::Plan& plan, const engine::IndicatorDef& ind,
                                     const std::vector<IndicatorFigures>& all,
                                     const ApiOptions& options, RankBy by);
// The national rate of an indicator (NaN while there is none).
double NationalRate(const std::vector<IndicatorFigures>& all);

// The lookups behind a request. Each returns status 200 and fills its output,
// or the HTTP error to answer with (404 unknown, 409 ambiguous, 400 malformed).
ApiResult FindMunicipality(const engine::Plan& plan, const std::string& code, int* municipality);
ApiResult FindIndicator(const engine::Plan& plan, const std::string& id, const std::string& pack,
                        int* indicator);
// Alerts emitted at or after `since` (RFC 3339), at most `limit` (1..10000,
// default 200), of one municipality when given; newest first.
ApiResult SelectAlerts(const engine::Engine& engine, const std::string& since,
                       const std::string& limit, const std::string& municipality,
                       std::vector<const engine::Engine::RecentAlert*>* out);

ApiResult Error(int status, std::string message);

// A figure as JSON: null when undefined, "+Inf"/"-Inf" as alerts write
// infinities, else the number.
void Number(JsonWriter& w, std::string_view key, double v);

}  // namespace zicht::api::views
