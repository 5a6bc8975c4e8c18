// GET /api/v1/municipalities/{code}/neighbourhoods (SPEC 8.3): the buurten of
// a municipality with every neighbourhood indicator, disclosure-controlled as
// municipal figures are.
#include <cmath>

#include "views.h"
#include "zicht/api/api.h"
#include "zicht/api/figures.h"
#include "zicht/base/json_writer.h"

namespace zicht::api {

using engine::Engine;
using engine::IndicatorDef;
using engine::Plan;
using views::Number;

ApiResult NeighbourhoodsJson(Engine& engine, const std::string& code, const ApiOptions& options) {
  const Plan& plan = engine.plan();
  int m = -1;
  if (ApiResult e = views::FindMunicipality(plan, code, &m); e.status != 200) return e;
  std::vector<int> indicators;
  for (const IndicatorDef& ind : plan.indicators()) {
    if (ind.neighbourhood) indicators.push_back(ind.index);
  }
  // figures[i][k]: indicator i, k-th buurt of the municipality.
  std::vector<std::vector<std::pair<int, IndicatorFigures>>> figures;
  bool live = true;
  for (int i : indicators) {
    figures.push_back(NeighbourhoodFigures(engine, i, m));
    if (figures.back().empty()) live = false;
  }
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("code").String(plan.municipalities().at(static_cast<size_t>(m)).code);
  w.Key("disclosure_min_count").Int(options.disclosure_min_count);
  // false: another instance owns the municipality, or no table is loaded.
  w.Key("available").Bool(live && plan.neighbourhoods() != nullptr);
  w.Key("indicators").BeginArray();
  for (int i : indicators) {
    w.BeginObject();
    views::IndicatorMeta(w, plan, plan.indicators()[static_cast<size_t>(i)]);
    w.EndObject();
  }
  w.EndArray();
  w.Key("neighbourhoods").BeginArray();
  if (live && plan.neighbourhoods() != nullptr) {
    const auto& buurten = plan.neighbourhoods()->of_municipality(m);
    for (size_t k = 0; k < buurten.size(); ++k) {
      const auto& n = plan.neighbourhoods()->at(static_cast<size_t>(buurten[k]));
      w.BeginObject();
      w.Key("code").String(n.code).Key("name").String(n.name).Key("population").Int(n.population);
      w.Key("figures").BeginArray();
      for (size_t i = 0; i < indicators.size(); ++i) {
        const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(indicators[i])];
        const IndicatorFigures& f = figures[i][k].second;
        const views::ShownFigures s = views::Disclose(ind, f, options);
        w.BeginObject();
        w.Key("indicator").String(ind.spec->id);
        w.Key("suppressed").Bool(s.suppressed);
        w.Key("count");
        if (s.count) {
          w.Int(*s.count);
        } else {
          w.Null();
        }
        Number(w, "value", s.value);
        Number(w, "rate", s.rate);
        Number(w, "national_rate", s.national_rate);
        Number(w, "national_ratio", s.national_ratio);
        Number(w, "municipality_ratio",
               s.suppressed ? IndicatorFigures::kNone : f.municipality_ratio);
        Number(w, "poisson_p", s.poisson_p);
        Number(w, "shrunk_ratio", s.shrunk_ratio);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return {200, std::move(out)};
}

}  // namespace zicht::api
