// The CSV exports of the ranking, the alerts, a municipality's figures and the
// regions
// (api.h), for analysts who take the figures into a spreadsheet. What is shown
// comes from views.h, as for the JSON, so both formats hide the same cells.
#include <fmt/format.h>
#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "regions.h"
#include "views.h"
#include "zicht/api/api.h"
#include "zicht/base/csv.h"

namespace zicht::api {

using engine::Engine;
using engine::IndicatorDef;
using engine::Municipality;
using engine::Plan;

namespace {

constexpr std::string_view kCsvType = "text/csv; charset=utf-8";

// A piece of a download's name: letters, digits, '.', '_' and '-' only, so the
// Content-Disposition header needs no escaping whatever a pack calls things.
std::string NamePart(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    out.push_back(safe ? c : '_');
  }
  return out;
}

// zicht-<what>-<event-time date>.csv; without the date before the first event.
ApiResult Download(const Engine& engine, std::string_view what, std::string body) {
  ApiResult r;
  r.body = std::move(body);
  r.content_type = std::string(kCsvType);
  r.filename = fmt::format("zicht-{}", what);
  const TimeMs now = views::EventTime(engine);
  if (now != kMinTime) r.filename += "-" + FormatDate(now);
  r.filename += ".csv";
  return r;
}

// The figure columns, named as the JSON fields are.
void FigureHeader(CsvWriter& w) {
  for (const char* name : {"suppressed", "live", "count", "value", "rate", "expected",
                           "national_rate", "national_ratio", "national_zscore", "poisson_p",
                           "percentile", "trend_ratio", "shrunk_ratio", "funnel_z", "q_value"}) {
    w.Field(name);
  }
}

void FigureCells(CsvWriter& w, const views::ShownFigures& s) {
  w.Bool(s.suppressed).Bool(s.live);
  if (s.count) {
    w.Int(*s.count);
  } else {
    w.Empty();
  }
  for (double v :
       {s.value, s.rate, s.expected, s.national_rate, s.national_ratio, s.national_zscore,
        s.poisson_p, s.percentile, s.trend_ratio, s.shrunk_ratio, s.funnel_z, s.q_value}) {
    w.Double(v);
  }
}

std::string_view StringField(simdjson::dom::element e, std::string_view key) {
  std::string_view s;
  return e[key].get_string().get(s) == simdjson::SUCCESS ? s : std::string_view();
}

// A number of the alert JSON; infinities are written there as "+Inf"/"-Inf".
std::string NumberText(simdjson::dom::element e) {
  double d = 0;
  if (e.get_double().get(d) == simdjson::SUCCESS) return fmt::format("{}", d);
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) return s == "-Inf" ? "-Inf" : "Inf";
  return "";
}

// "drug_sites poisson_p <= 0.001 (observed 2e-05, count 31, held)"; of a
// suppressed condition only its test and whether it held.
std::string ConditionSummary(simdjson::dom::element c, const ApiOptions& options) {
  std::string out = fmt::format("{} {} {} ", StringField(c, "indicator"), StringField(c, "measure"),
                                StringField(c, "op"));
  simdjson::dom::element value;
  if (c["value"].get(value) == simdjson::SUCCESS) out += NumberText(value);
  std::vector<std::string> parts;
  if (views::ConditionSuppressed(c, options)) {
    parts.emplace_back("suppressed");
  } else {
    simdjson::dom::element observed;
    if (c["observed"].get(observed) == simdjson::SUCCESS && !observed.is_null()) {
      parts.push_back("observed " + NumberText(observed));
    }
    int64_t count = 0;
    // A condition without a window reads a reference table: no count.
    if (!StringField(c, "window").empty() &&
        c["count"].get_int64().get(count) == simdjson::SUCCESS) {
      parts.push_back(fmt::format("count {}", count));
    }
  }
  bool held = false;
  const bool known = c["held"].get_bool().get(held) == simdjson::SUCCESS;
  parts.emplace_back(known && held ? "held" : "not held");
  return fmt::format("{} ({})", out, fmt::join(parts, ", "));
}

std::string Conditions(simdjson::dom::element alert, const ApiOptions& options) {
  std::vector<std::string> parts;
  simdjson::dom::array conditions;
  if (alert["conditions"].get_array().get(conditions) == simdjson::SUCCESS) {
    for (simdjson::dom::element c : conditions) parts.push_back(ConditionSummary(c, options));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

// One alert row; none for a stored alert that does not parse (the engine
// never writes one).
void AlertRow(CsvWriter& w, simdjson::dom::parser& parser, const Plan& plan,
              const Engine::RecentAlert& a, const ApiOptions& options) {
  simdjson::padded_string padded(a.json);
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) return;
  for (const char* key : {"alert_id", "rule", "rule_version", "pack", "severity", "municipality"}) {
    w.Text(StringField(doc, key));
  }
  std::string_view name = StringField(doc, "municipality_name");
  if (name.empty() && a.municipality >= 0 &&
      static_cast<size_t>(a.municipality) < plan.municipalities().size()) {
    name = plan.municipalities().at(static_cast<size_t>(a.municipality)).name;
  }
  w.Text(name).Text(StringField(doc, "event_time")).Text(StringField(doc, "emitted_at"));
  double score = 0;
  if (doc["score"].get_double().get(score) == simdjson::SUCCESS) {
    w.Double(score);
  } else {
    w.Empty();
  }
  w.Text(Conditions(doc, options)).EndRow();
}

}  // namespace

ApiResult IndicatorCsv(Engine& engine, const std::string& id, const std::string& pack,
                       const ApiOptions& options, const std::string& by_text) {
  const Plan& plan = engine.plan();
  int indicator = -1;
  if (ApiResult e = views::FindIndicator(plan, id, pack, &indicator); e.status != 200) return e;
  const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(indicator)];
  views::RankBy by = views::RankBy::kNationalRatio;
  if (ApiResult e = views::ParseRankBy(ind, by_text, &by); e.status != 200) return e;
  const std::vector<IndicatorFigures> all = IndicatorFiguresAll(engine, indicator);
  std::string out;
  CsvWriter w(&out);
  for (const char* name : {"rank", "code", "name", "province", "population"}) w.Field(name);
  FigureHeader(w);
  w.EndRow();
  for (const views::RankedMunicipality& r : views::Rank(plan, ind, all, options, by)) {
    const Municipality& mu = plan.municipalities().at(r.municipality);
    if (r.rank > 0) {
      w.Int(r.rank);
    } else {
      w.Empty();
    }
    w.Text(mu.code).Text(mu.name).Text(mu.province).Int(mu.population);
    FigureCells(w, views::Disclose(ind, all[r.municipality], options));
    w.EndRow();
  }
  const std::string what =
      fmt::format("ranking-{}-{}", NamePart(views::PackOf(plan, ind).name), NamePart(ind.spec->id));
  return Download(engine, what, std::move(out));
}

ApiResult AlertsCsv(Engine& engine, const std::string& since, const std::string& limit,
                    const std::string& municipality, const ApiOptions& options) {
  std::vector<const Engine::RecentAlert*> alerts;
  if (ApiResult e = views::SelectAlerts(engine, since, limit, municipality, &alerts);
      e.status != 200) {
    return e;
  }
  std::string out;
  CsvWriter w(&out);
  for (const char* name :
       {"alert_id", "rule", "rule_version", "pack", "severity", "municipality", "municipality_name",
        "event_time", "emitted_at", "score", "conditions"}) {
    w.Field(name);
  }
  w.EndRow();
  simdjson::dom::parser parser;
  for (const Engine::RecentAlert* a : alerts) AlertRow(w, parser, engine.plan(), *a, options);
  const std::string what = municipality.empty() ? "alerts" : "alerts-" + NamePart(municipality);
  return Download(engine, what, std::move(out));
}

ApiResult MunicipalityCsv(Engine& engine, const std::string& code, const ApiOptions& options) {
  const Plan& plan = engine.plan();
  int m = -1;
  if (ApiResult e = views::FindMunicipality(plan, code, &m); e.status != 200) return e;
  std::string out;
  CsvWriter w(&out);
  for (const char* name : {"pack", "theme", "indicator", "title", "aggregate", "window", "per"}) {
    w.Field(name);
  }
  FigureHeader(w);
  w.EndRow();
  for (const IndicatorFigures& f : MunicipalityFigures(engine, m)) {
    const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(f.indicator)];
    const rules::RulePack& pack = views::PackOf(plan, ind);
    w.Text(pack.name).Text(pack.theme).Text(ind.spec->id).Text(ind.spec->title);
    w.Text(rules::AggregateName(ind.aggregate));
    w.Text(ind.reference < 0 ? ind.spec->window.ToString() : std::string());
    w.Double(ind.per);
    FigureCells(w, views::Disclose(ind, f, options));
    w.EndRow();
  }
  const std::string& mcode = plan.municipalities().at(static_cast<size_t>(m)).code;
  return Download(engine, "municipality-" + NamePart(mcode), std::move(out));
}

ApiResult RegionsCsv(Engine& engine, const std::string& by, const std::string& indicator,
                     const std::string& pack, const ApiOptions& options) {
  regions::RegionsView view;
  if (ApiResult e = regions::Build(engine, by, indicator, pack, options, &view); e.status != 200) {
    return e;
  }
  const Plan& plan = engine.plan();
  std::string out;
  CsvWriter w(&out);
  for (const char* name :
       {"by", "region", "population", "municipalities", "pack", "indicator", "rank", "suppressed",
        "count", "value", "rate", "expected", "national_rate", "national_ratio", "national_zscore",
        "poisson_p", "binomial_p"}) {
    w.Field(name);
  }
  w.EndRow();
  for (size_t r : view.order) {
    const regions::Region& region = view.grouping.regions[r];
    std::vector<std::string_view> codes;
    for (size_t m : region.members) codes.push_back(plan.municipalities().at(m).code);
    for (size_t i = 0; i < view.indicators.size(); ++i) {
      const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(view.indicators[i])];
      const regions::RegionFigures& f = view.cells[i][r];
      w.Text(view.grouping.by).Text(region.name).Int(region.population);
      w.Text(fmt::format("{}", fmt::join(codes, " ")));
      w.Text(views::PackOf(plan, ind).name).Text(ind.spec->id);
      if (f.rank > 0) {
        w.Int(f.rank);
      } else {
        w.Empty();
      }
      w.Bool(f.suppressed);
      if (f.count) {
        w.Int(*f.count);
      } else {
        w.Empty();
      }
      for (double v : {f.value, f.rate, f.expected, f.national_rate, f.national_ratio,
                       f.national_zscore, f.poisson_p, f.binomial_p}) {
        w.Double(v);
      }
      w.EndRow();
    }
  }
  std::string what = "regions-" + NamePart(view.grouping.by);
  if (view.ranked) {
    const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(view.indicators.front())];
    what += fmt::format("-{}-{}", NamePart(views::PackOf(plan, ind).name), NamePart(ind.spec->id));
  }
  return Download(engine, what, std::move(out));
}

}  // namespace zicht::api
