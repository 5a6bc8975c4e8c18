// Regions (SPEC 8.3): every indicator rolled up per province, RIEC region or
// police unit, pooled as the national figure is pooled and compared with it,
// with disclosure control on the region cells. Decided once for both formats
// of GET /api/v1/regions (JSON in regions.cc, CSV in csv_export.cc). Private
// to the module; engine thread only.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zicht/api/api.h"
#include "zicht/api/figures.h"
#include "zicht/engine/engine.h"

namespace zicht::api::regions {

// The columns of the municipalities file a region can be: `by` takes one of
// these (province is a SPEC column; the others are optional).
inline constexpr std::array<std::string_view, 3> kColumns = {"province", "riec_region",
                                                             "police_unit"};

struct Region {
  std::string name;             // the column's value
  std::vector<size_t> members;  // municipality indices, in table order
  int64_t population = 0;       // of the members
};

// The municipalities grouped by one column: a region per distinct non-empty
// value (name order); municipalities without a value belong to none.
struct Grouping {
  std::string by;
  bool in_file = false;  // the file has the column (false: every municipality unassigned)
  std::vector<Region> regions;
  std::vector<size_t> unassigned;  // table order
};

// One indicator of one region as a client may see it. When `suppressed`, the
// count and everything derived from it are NaN (absent); the national rate
// pools every municipality and is always shown.
struct RegionFigures {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  bool suppressed = false;
  int rank = 0;                  // 1 = highest national_ratio among the regions; 0 = unranked
  std::optional<int64_t> count;  // absent when suppressed, and for reference indicators
  double value = kNone, rate = kNone, expected = kNone, national_rate = kNone,
         national_ratio = kNone, national_zscore = kNone, poisson_p = kNone, binomial_p = kNone;
};

// Everything GET /api/v1/regions answers.
struct RegionsView {
  Grouping grouping;
  std::vector<int> indicators;                    // plan indices, plan order (or the one asked for)
  std::vector<double> national;                   // [indicator]: the national rate (NaN: none)
  std::vector<std::vector<RegionFigures>> cells;  // [indicator][region]
  // Regions in the order to show: by rank of the one indicator asked for
  // (unranked last, in name order), else in name order.
  std::vector<size_t> order;
  bool ranked = false;  // one indicator was asked for: `order` is its ranking
};

// Groups the municipalities by `by` (empty: province). 400, listing the
// allowed columns, for any other name; a column the file lacks, or leaves
// empty in every row, gives no regions and every municipality unassigned.
ApiResult Group(const engine::MunicipalityTable& municipalities, std::string_view by,
                Grouping* out);

// The figures of every region for one indicator, in `grouping` order, from
// its members' figures `all` (municipality order, IndicatorFiguresAll).
std::vector<RegionFigures> Pool(const engine::Plan& plan, const engine::IndicatorDef& ind,
                                const Grouping& grouping, const std::vector<IndicatorFigures>& all,
                                const ApiOptions& options);

// The whole view: 400 for a bad `by`, 404/409 for an unknown or ambiguous
// `indicator` (with `pack`); empty `indicator`: every indicator of the plan.
ApiResult Build(engine::Engine& engine, const std::string& by, const std::string& indicator,
                const std::string& pack, const ApiOptions& options, RegionsView* out);

}  // namespace zicht::api::regions
