#include "zicht/api/api.h"

#include <simdjson.h>

#include <cmath>
#include <map>

#include "views.h"
#include "zicht/api/figures.h"
#include "zicht/base/json_writer.h"
#include "zicht/engine/national_baseline.h"

namespace zicht::api {

using engine::Engine;
using engine::EngineStats;
using engine::IndicatorDef;
using engine::Municipality;
using engine::MunicipalityTable;
using engine::Plan;
using views::IndicatorMeta;
using views::Number;

namespace {

// The figures of one indicator; everything derived from a small count is null.
void Figures(JsonWriter& w, const views::ShownFigures& s) {
  w.Key("suppressed").Bool(s.suppressed);
  w.Key("live").Bool(s.live);
  w.Key("count");
  if (s.count) {
    w.Int(*s.count);
  } else {
    w.Null();
  }
  Number(w, "value", s.value);
  Number(w, "rate", s.rate);
  Number(w, "expected", s.expected);
  Number(w, "national_rate", s.national_rate);
  Number(w, "national_ratio", s.national_ratio);
  Number(w, "national_zscore", s.national_zscore);
  Number(w, "poisson_p", s.poisson_p);
  Number(w, "percentile", s.percentile);
  Number(w, "trend_ratio", s.trend_ratio);
  Number(w, "shrunk_ratio", s.shrunk_ratio);
  Number(w, "funnel_z", s.funnel_z);
  Number(w, "q_value", s.q_value);
}

// Re-writes a stored alert with disclosure control on its conditions.
void WriteAlert(JsonWriter& w, std::string_view json, const ApiOptions& o) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) {
    w.Null();
    return;
  }
  w.BeginObject();
  for (auto [key, value] : simdjson::dom::object(doc)) {
    w.Key(key);
    if (key != "conditions") {
      w.Raw(simdjson::minify(value));
      continue;
    }
    w.BeginArray();
    for (simdjson::dom::element c : value.get_array()) {
      const bool hide = views::ConditionSuppressed(c, o);
      w.BeginObject();
      for (auto [ck, cv] : simdjson::dom::object(c)) {
        w.Key(ck);
        if (hide && views::HiddenConditionField(ck)) {
          w.Null();
        } else {
          w.Raw(simdjson::minify(cv));
        }
      }
      if (hide) w.Key("suppressed").Bool(true);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

}  // namespace

ApiResult MunicipalitiesJson(Engine& engine, const ApiOptions&) {
  const MunicipalityTable& munis = engine.plan().municipalities();
  std::vector<int> alerts(munis.size(), 0);
  for (const Engine::RecentAlert& a : engine.recent_alerts())
    ++alerts[static_cast<size_t>(a.municipality)];
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("municipalities").BeginArray();
  for (size_t m = 0; m < munis.size(); ++m) {
    const Municipality& mu = munis.at(m);
    w.BeginObject();
    w.Key("code").String(mu.code).Key("name").String(mu.name).Key("province").String(mu.province);
    w.Key("population").Int(mu.population).Key("recent_alerts").Int(alerts[m]);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return {200, std::move(out)};
}

ApiResult MunicipalityJson(Engine& engine, const std::string& code, const ApiOptions& options) {
  const Plan& plan = engine.plan();
  int m = -1;
  if (ApiResult e = views::FindMunicipality(plan, code, &m); e.status != 200) return e;
  const Municipality& mu = plan.municipalities().at(static_cast<size_t>(m));
  std::vector<IndicatorFigures> figures = MunicipalityFigures(engine, m);
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("code").String(mu.code).Key("name").String(mu.name).Key("province").String(mu.province);
  w.Key("population").Int(mu.population);
  w.Key("disclosure_min_count").Int(options.disclosure_min_count);
  w.Key("indicators").BeginArray();
  for (const IndicatorFigures& f : figures) {
    const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(f.indicator)];
    w.BeginObject();
    IndicatorMeta(w, plan, ind);
    const views::ShownFigures shown = views::Disclose(ind, f, options);
    Figures(w, shown);
    // History of the rate, one point per day; small counts suppressed as a
    // whole (a series of rates would reveal them).
    w.Key("history").BeginArray();
    if (!shown.suppressed) {
      for (double v : RateHistory(engine, f.indicator, m, options.history_days)) {
        if (std::isnan(v)) {
          w.Null();
        } else {
          w.Double(v);
        }
      }
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("alerts").BeginArray();
  const auto& recent = engine.recent_alerts();
  for (auto it = recent.rbegin(); it != recent.rend(); ++it) {
    if (it->municipality == m) WriteAlert(w, it->json, options);
  }
  w.EndArray();
  w.EndObject();
  return {200, std::move(out)};
}

ApiResult IndicatorsJson(Engine& engine) {
  const Plan& plan = engine.plan();
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("indicators").BeginArray();
  for (const IndicatorDef& ind : plan.indicators()) {
    w.BeginObject();
    IndicatorMeta(w, plan, ind);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return {200, std::move(out)};
}

ApiResult IndicatorJson(Engine& engine, const std::string& id, const std::string& pack,
                        const ApiOptions& options, const std::string& by_text) {
  const Plan& plan = engine.plan();
  int indicator = -1;
  if (ApiResult e = views::FindIndicator(plan, id, pack, &indicator); e.status != 200) return e;
  const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(indicator)];
  views::RankBy by = views::RankBy::kNationalRatio;
  if (ApiResult e = views::ParseRankBy(ind, by_text, &by); e.status != 200) return e;
  const std::vector<IndicatorFigures> all = IndicatorFiguresAll(engine, indicator);
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  IndicatorMeta(w, plan, ind);
  w.Key("disclosure_min_count").Int(options.disclosure_min_count);
  Number(w, "national_rate", views::NationalRate(all));
  w.Key("ranked_by").String(views::RankByName(by));
  w.Key("municipalities").BeginArray();
  for (const views::RankedMunicipality& r : views::Rank(plan, ind, all, options, by)) {
    const Municipality& mu = plan.municipalities().at(r.municipality);
    w.BeginObject();
    w.Key("rank");
    if (r.rank > 0) {
      w.Int(r.rank);
    } else {
      w.Null();
    }
    w.Key("code").String(mu.code).Key("name").String(mu.name).Key("province").String(mu.province);
    w.Key("population").Int(mu.population);
    Figures(w, views::Disclose(ind, all[r.municipality], options));
    w.EndObject();
  }
  w.EndArray().EndObject();
  return {200, std::move(out)};
}

ApiResult AlertsJson(Engine& engine, const std::string& since, const std::string& limit,
                     const std::string& municipality, const ApiOptions& options) {
  std::vector<const Engine::RecentAlert*> alerts;
  if (ApiResult e = views::SelectAlerts(engine, since, limit, municipality, &alerts);
      e.status != 200) {
    return e;
  }
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("alerts").BeginArray();
  for (const Engine::RecentAlert* a : alerts) WriteAlert(w, a->json, options);
  w.EndArray().EndObject();
  return {200, std::move(out)};
}

ApiResult RulesJson(Engine& engine) {
  const rules::RuleSet& rs = engine.plan().rule_set();
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("version").String(rs.version()).Key("packs").BeginArray();
  for (const rules::RulePack& pack : rs.packs()) {
    w.BeginObject();
    w.Key("name")
        .String(pack.name)
        .Key("theme")
        .String(pack.theme)
        .Key("version")
        .String(pack.version);
    w.Key("file").String(pack.file);
    w.Key("rules").BeginArray();
    for (const rules::RuleSpec& r : pack.rules) {
      w.BeginObject().Key("id").String(r.id).Key("title").String(r.title).Key("version").String(
          r.version);
      w.Key("severity").String(rules::SeverityName(r.severity)).EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray().EndObject();
  return {200, std::move(out)};
}

ApiResult StatusJson(Engine& engine) {
  const EngineStats& st = engine.stats();
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  const TimeMs newest = views::EventTime(engine);
  w.Key("event_time");
  if (newest == kMinTime) {
    w.Null();
  } else {
    w.String(FormatRfc3339(newest));
  }
  w.Key("records").Int(st.records).Key("accepted").Int(st.accepted);
  w.Key("dead_letters").Int(st.dead_letters).Key("alerts").Int(st.alerts);
  w.Key("rule_set_version").String(engine.plan().rule_set().version());
  w.EndObject();
  return {200, std::move(out)};
}

}  // namespace zicht::api
