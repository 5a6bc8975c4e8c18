// GET /api/v1/regions (api.h RegionsJson): every indicator per province, RIEC
// region or police unit against the national figure, and the pooling and
// disclosure control behind it (regions.h), shared with the CSV export.
#include "regions.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "views.h"
#include "zicht/base/json_writer.h"
#include "zicht/engine/measures.h"

namespace zicht::api {

using engine::Engine;
using engine::IndicatorDef;
using engine::Plan;
using views::Number;

namespace regions {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A reference indicator: the population-weighted mean over the members with a
// figure, as the national figure is over all municipalities.
RegionFigures PoolReference(const Plan& plan, const IndicatorDef& ind, const Region& region,
                            double national) {
  const engine::ReferenceValues& ref = plan.references()[static_cast<size_t>(ind.reference)];
  const engine::MunicipalityTable& munis = plan.municipalities();
  double weighted = 0, population = 0;
  for (size_t m : region.members) {
    const auto& v = ref.by_municipality[m];
    if (!v) continue;
    const auto pop = static_cast<double>(munis.at(m).population);
    weighted += *v * pop;
    population += pop;
  }
  RegionFigures f;
  f.national_rate = national;
  if (population > 0) {
    f.value = f.rate = weighted / population;
    f.national_ratio = f.value / national;
  }
  return f;
}

// An event indicator: the members' windows summed, then the engine's own
// measures on that window as if the region were one municipality of the
// region's population, against the national rate (the regions have no
// leave-one-out or peer baseline: SPEC 8.3 compares them with the country).
RegionFigures PoolEvents(const IndicatorDef& ind, const Region& region,
                         const std::vector<IndicatorFigures>& all,
                         const engine::NationalFigures& national, const ApiOptions& options) {
  engine::WindowAgg w;
  int64_t shown = 0;  // events its members show: a client can subtract them
  int hidden = 0;     // members suppressed
  for (size_t m : region.members) {
    const IndicatorFigures& f = all[m];
    w.n_match += f.window.n_match;
    w.n_all += f.window.n_all;
    w.sum += f.window.sum;
    if (views::Suppressed(ind, f, options)) {
      ++hidden;
    } else {
      shown += f.count;
    }
  }
  engine::MeasureInput in;
  in.indicator = &ind;
  in.population = region.population;
  in.national = &national;
  auto measure = [&](rules::Measure m) { return engine::ComputeMeasureFor(m, in, w).observed; };
  const engine::MeasureResult value = engine::ComputeMeasureFor(rules::Measure::kValue, in, w);
  RegionFigures f;
  f.national_rate = national.valid ? national.rate : RegionFigures::kNone;
  // Disclosure: the municipal rule on the region's count; and the events of
  // its suppressed members taken together (the region's count minus what its
  // other members show) must not be a small count either, or subtracting
  // would reveal them.
  f.suppressed = value.count < options.disclosure_min_count ||
                 (hidden > 0 && value.count - shown < options.disclosure_min_count);
  if (f.suppressed) return f;
  f.count = value.count;
  f.value = value.observed;
  f.rate = value.rate;
  f.expected = value.expected;
  f.national_ratio = measure(rules::Measure::kNationalRatio);
  if (ind.aggregate == rules::Aggregate::kCount || ind.aggregate == rules::Aggregate::kShare) {
    f.national_zscore = measure(rules::Measure::kNationalZscore);
    f.poisson_p = measure(rules::Measure::kPoissonP);
  }
  if (ind.aggregate == rules::Aggregate::kShare) f.binomial_p = measure(rules::Measure::kBinomialP);
  return f;
}

// Ranks by national_ratio, highest first; suppressed regions and those
// without the figure stay unranked (0).
void RankCells(const Grouping& g, std::vector<RegionFigures>* cells) {
  std::vector<size_t> order;
  for (size_t r = 0; r < cells->size(); ++r) {
    const RegionFigures& c = (*cells)[r];
    if (!c.suppressed && !std::isnan(c.national_ratio)) order.push_back(r);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double ra = (*cells)[a].national_ratio, rb = (*cells)[b].national_ratio;
    if (ra != rb) return ra > rb;
    return g.regions[a].name < g.regions[b].name;
  });
  for (size_t i = 0; i < order.size(); ++i) (*cells)[order[i]].rank = static_cast<int>(i) + 1;
}

}  // namespace

ApiResult Group(const engine::MunicipalityTable& munis, std::string_view by, Grouping* out) {
  if (by.empty()) by = kColumns[0];
  if (std::find(kColumns.begin(), kColumns.end(), by) == kColumns.end()) {
    return views::Error(400, fmt::format("by: expected one of {} (columns of the municipalities "
                                         "file), not '{}'",
                                         fmt::join(kColumns, ", "), by.substr(0, 32)));
  }
  out->by = std::string(by);
  const int col = munis.ColumnIndex(by);
  out->in_file = col >= 0;
  std::map<std::string, Region, std::less<>> regions;
  for (size_t m = 0; m < munis.size(); ++m) {
    const std::string_view name = col >= 0 ? Trim(munis.Cell(m, col)) : std::string_view();
    if (name.empty()) {
      out->unassigned.push_back(m);
      continue;
    }
    auto it = regions.find(name);
    if (it == regions.end()) it = regions.emplace(std::string(name), Region{}).first;
    it->second.members.push_back(m);
    it->second.population += munis.at(m).population;
  }
  for (auto& [name, region] : regions) {
    region.name = name;
    out->regions.push_back(std::move(region));
  }
  return ApiResult{};
}

// Which windows: a member's figures are the ones the API already serves for it
// (IndicatorFigures: its live window where this instance owns its partition,
// else its final window in the national snapshot), so a region's count is the
// sum of the counts its municipalities show, and a region is compared with the
// national figure the ranking shows, as a municipality is with its live
// window (SPEC 8). Pooling the snapshot's final windows instead would agree
// with the national figure's day F but not with the members' own pages.
std::vector<RegionFigures> Pool(const Plan& plan, const IndicatorDef& ind, const Grouping& g,
                                const std::vector<IndicatorFigures>& all,
                                const ApiOptions& options) {
  const double rate = views::NationalRate(all);
  engine::NationalFigures national;  // the rate alone: no per-municipality baselines
  national.valid = !std::isnan(rate);
  national.rate = national.valid ? rate : 0;
  std::vector<RegionFigures> cells;
  cells.reserve(g.regions.size());
  for (const Region& region : g.regions) {
    cells.push_back(ind.reference >= 0 ? PoolReference(plan, ind, region, rate)
                                       : PoolEvents(ind, region, all, national, options));
  }
  RankCells(g, &cells);
  return cells;
}

ApiResult Build(Engine& engine, const std::string& by, const std::string& indicator,
                const std::string& pack, const ApiOptions& options, RegionsView* out) {
  const Plan& plan = engine.plan();
  if (ApiResult e = Group(plan.municipalities(), by, &out->grouping); e.status != 200) return e;
  if (!indicator.empty()) {
    int i = -1;
    if (ApiResult e = views::FindIndicator(plan, indicator, pack, &i); e.status != 200) return e;
    out->indicators.push_back(i);
    out->ranked = true;
  } else {
    for (const IndicatorDef& ind : plan.indicators()) out->indicators.push_back(ind.index);
  }
  for (int i : out->indicators) {
    const std::vector<IndicatorFigures> all = IndicatorFiguresAll(engine, i);
    out->national.push_back(views::NationalRate(all));
    out->cells.push_back(
        Pool(plan, plan.indicators()[static_cast<size_t>(i)], out->grouping, all, options));
  }
  const std::vector<Region>& regions = out->grouping.regions;
  out->order.resize(regions.size());
  for (size_t r = 0; r < regions.size(); ++r) out->order[r] = r;
  if (out->ranked) {
    const std::vector<RegionFigures>& cells = out->cells.front();
    auto key = [&](size_t r) {  // unranked after every rank
      return cells[r].rank > 0 ? cells[r].rank : static_cast<int>(regions.size()) + 1;
    };
    std::stable_sort(out->order.begin(), out->order.end(),
                     [&](size_t a, size_t b) { return key(a) < key(b); });
  }
  return ApiResult{};
}

}  // namespace regions

ApiResult RegionsJson(Engine& engine, const std::string& by, const std::string& indicator,
                      const std::string& pack, const ApiOptions& options) {
  regions::RegionsView view;
  if (ApiResult e = regions::Build(engine, by, indicator, pack, options, &view); e.status != 200) {
    return e;
  }
  const Plan& plan = engine.plan();
  const engine::MunicipalityTable& munis = plan.municipalities();
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("by").String(view.grouping.by);
  w.Key("columns").BeginArray();
  for (std::string_view c : regions::kColumns) w.String(c);
  w.EndArray();
  w.Key("in_file").Bool(view.grouping.in_file);
  w.Key("disclosure_min_count").Int(options.disclosure_min_count);
  if (view.ranked) w.Key("ranked_by").String("national_ratio");
  w.Key("indicators").BeginArray();
  for (size_t i = 0; i < view.indicators.size(); ++i) {
    w.BeginObject();
    views::IndicatorMeta(w, plan, plan.indicators()[static_cast<size_t>(view.indicators[i])]);
    Number(w, "national_rate", view.national[i]);
    w.EndObject();
  }
  w.EndArray();
  w.Key("regions").BeginArray();
  for (size_t r : view.order) {
    const regions::Region& region = view.grouping.regions[r];
    w.BeginObject();
    w.Key("region").String(region.name);
    w.Key("population").Int(region.population);
    w.Key("municipalities").BeginArray();
    for (size_t m : region.members) w.String(munis.at(m).code);
    w.EndArray();
    w.Key("figures").BeginArray();
    for (size_t i = 0; i < view.indicators.size(); ++i) {
      const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(view.indicators[i])];
      const regions::RegionFigures& f = view.cells[i][r];
      w.BeginObject();
      w.Key("id").String(ind.spec->id).Key("pack").String(views::PackOf(plan, ind).name);
      w.Key("rank");
      if (f.rank > 0) {
        w.Int(f.rank);
      } else {
        w.Null();
      }
      w.Key("suppressed").Bool(f.suppressed);
      w.Key("count");
      if (f.count) {
        w.Int(*f.count);
      } else {
        w.Null();
      }
      Number(w, "value", f.value);
      Number(w, "rate", f.rate);
      Number(w, "expected", f.expected);
      Number(w, "national_rate", f.national_rate);
      Number(w, "national_ratio", f.national_ratio);
      Number(w, "national_zscore", f.national_zscore);
      Number(w, "poisson_p", f.poisson_p);
      Number(w, "binomial_p", f.binomial_p);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("unassigned").BeginArray();
  for (size_t m : view.grouping.unassigned) w.String(munis.at(m).code);
  w.EndArray();
  w.EndObject();
  return {200, std::move(out)};
}

}  // namespace zicht::api
