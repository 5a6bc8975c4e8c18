#include "zicht/api/api.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "zicht/base/json_writer.h"
#include "zicht/engine/national_baseline.h"

namespace zicht::api {

using engine::Engine;
using engine::EngineStats;
using engine::IndicatorDef;
using engine::Municipality;
using engine::MunicipalityTable;
using engine::Plan;
namespace {

void Number(JsonWriter& w, std::string_view key, double v) {
  w.Key(key);
  if (std::isnan(v)) {
    w.Null();
  } else if (std::isinf(v)) {
    w.String(v > 0 ? "+Inf" : "-Inf");
  } else {
    w.Double(v);
  }
}

bool Suppressed(const IndicatorDef& ind, const Engine::IndicatorFigures& f, const ApiOptions& o) {
  return ind.reference < 0 && f.count < o.disclosure_min_count;
}

void IndicatorMeta(JsonWriter& w, const Plan& plan, const IndicatorDef& ind) {
  const rules::RulePack& pack = plan.rule_set().packs()[static_cast<size_t>(
      plan.rule_set().indicators()[static_cast<size_t>(ind.index)].pack)];
  w.Key("id").String(ind.spec->id);
  w.Key("pack").String(pack.name);
  w.Key("theme").String(pack.theme);
  w.Key("title").String(ind.spec->title);
  w.Key("aggregate").String(rules::AggregateName(ind.aggregate));
  if (ind.reference < 0) {
    w.Key("event").String(ind.spec->event);
    w.Key("window").String(ind.spec->window.ToString());
  } else {
    w.Key("source").String(ind.spec->source->file);
  }
  w.Key("per").Double(ind.per);
}

// The figures of one indicator; everything derived from a small count is null.
void Figures(JsonWriter& w, const IndicatorDef& ind, const Engine::IndicatorFigures& f,
             const ApiOptions& o) {
  const bool hide = Suppressed(ind, f, o);
  w.Key("suppressed").Bool(hide);
  w.Key("live").Bool(f.live);
  w.Key("count");
  if (hide || ind.reference >= 0) {
    w.Null();
  } else {
    w.Int(f.count);
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Number(w, "value", hide ? nan : f.value);
  Number(w, "rate", hide ? nan : f.rate);
  Number(w, "expected", hide ? nan : f.expected);
  Number(w, "national_rate", f.national_rate);
  Number(w, "national_ratio", hide ? nan : f.national_ratio);
  Number(w, "national_zscore", hide ? nan : f.national_zscore);
  Number(w, "poisson_p", hide ? nan : f.poisson_p);
  Number(w, "percentile", hide ? nan : f.percentile);
  Number(w, "trend_ratio", hide ? nan : f.trend_ratio);
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
      int64_t count = 0;
      std::string_view window;
      bool counted = c["count"].get_int64().get(count) == simdjson::SUCCESS &&
                     c["window"].get_string().get(window) == simdjson::SUCCESS && !window.empty();
      const bool hide = counted && count < o.disclosure_min_count;
      w.BeginObject();
      for (auto [ck, cv] : simdjson::dom::object(c)) {
        w.Key(ck);
        if (hide && (ck == "count" || ck == "observed" || ck == "expected" || ck == "rate")) {
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

int IndicatorIndex(const Plan& plan, const std::string& id, const std::string& pack, int* matches) {
  int found = -1;
  *matches = 0;
  for (const IndicatorDef& ind : plan.indicators()) {
    const auto& ri = plan.rule_set().indicators()[static_cast<size_t>(ind.index)];
    const std::string& pack_name = plan.rule_set().packs()[static_cast<size_t>(ri.pack)].name;
    if (ind.spec->id == id && (pack.empty() || pack == pack_name)) {
      found = ind.index;
      ++*matches;
    }
  }
  return found;
}

ApiResult Error(int status, std::string message) {
  return ApiResult{status, std::move(message)};
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
  const int m = plan.municipalities().IndexOf(code);
  if (m < 0) return Error(404, fmt::format("no municipality with code '{}'", code.substr(0, 16)));
  const Municipality& mu = plan.municipalities().at(static_cast<size_t>(m));
  std::vector<Engine::IndicatorFigures> figures = engine.MunicipalityFigures(m);
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("code").String(mu.code).Key("name").String(mu.name).Key("province").String(mu.province);
  w.Key("population").Int(mu.population);
  w.Key("disclosure_min_count").Int(options.disclosure_min_count);
  w.Key("indicators").BeginArray();
  for (const Engine::IndicatorFigures& f : figures) {
    const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(f.indicator)];
    w.BeginObject();
    IndicatorMeta(w, plan, ind);
    Figures(w, ind, f, options);
    // History of the rate, one point per day; small counts suppressed as a
    // whole (a series of rates would reveal them).
    w.Key("history").BeginArray();
    if (!Suppressed(ind, f, options)) {
      for (double v : engine.RateHistory(f.indicator, m, options.history_days)) {
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
                        const ApiOptions& options) {
  const Plan& plan = engine.plan();
  int matches = 0;
  const int indicator = IndicatorIndex(plan, id, pack, &matches);
  if (matches == 0) return Error(404, fmt::format("no indicator '{}'", id.substr(0, 64)));
  if (matches > 1)
    return Error(409,
                 fmt::format("indicator '{}' is in several packs; add ?pack=", id.substr(0, 64)));
  const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(indicator)];
  std::vector<Engine::IndicatorFigures> all = engine.IndicatorFiguresAll(indicator);
  std::vector<size_t> order(all.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  // Highest index against the national average first; suppressed and
  // undefined last (in name order, so they reveal nothing by position).
  auto key = [&](size_t i) {
    const auto& f = all[i];
    bool shown = !Suppressed(ind, f, options) && !std::isnan(f.national_ratio);
    return std::pair{shown, shown ? f.national_ratio : 0.0};
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    auto ka = key(a), kb = key(b);
    if (ka.first != kb.first) return ka.first;
    if (ka.first && ka.second != kb.second) return ka.second > kb.second;
    return plan.municipalities().at(a).name < plan.municipalities().at(b).name;
  });
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  IndicatorMeta(w, plan, ind);
  w.Key("disclosure_min_count").Int(options.disclosure_min_count);
  double national = std::numeric_limits<double>::quiet_NaN();
  for (const auto& f : all) {
    if (!std::isnan(f.national_rate)) national = f.national_rate;
  }
  Number(w, "national_rate", national);
  w.Key("municipalities").BeginArray();
  int rank = 0;
  for (size_t i : order) {
    const Municipality& mu = plan.municipalities().at(i);
    w.BeginObject();
    const bool shown = key(i).first;
    w.Key("rank");
    if (shown) {
      w.Int(++rank);
    } else {
      w.Null();
    }
    w.Key("code").String(mu.code).Key("name").String(mu.name).Key("province").String(mu.province);
    w.Key("population").Int(mu.population);
    Figures(w, ind, all[i], options);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return {200, std::move(out)};
}

ApiResult AlertsJson(Engine& engine, const std::string& since, const std::string& limit_text,
                     const std::string& municipality, const ApiOptions& options) {
  TimeMs from = kMinTime;
  if (!since.empty()) {
    auto t = ParseRfc3339(since);
    if (!t) return Error(400, "since: expected an RFC 3339 time like 2026-03-01T00:00:00Z");
    from = *t;
  }
  size_t limit = 200;
  if (!limit_text.empty()) {
    auto [p, ec] = std::from_chars(limit_text.data(), limit_text.data() + limit_text.size(), limit);
    if (ec != std::errc() || p != limit_text.data() + limit_text.size() || limit == 0 ||
        limit > 10000) {
      return Error(400, "limit: expected an integer in 1..10000");
    }
  }
  int muni = -1;
  if (!municipality.empty()) {
    muni = engine.plan().municipalities().IndexOf(municipality);
    if (muni < 0) return Error(404, "no such municipality");
  }
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("alerts").BeginArray();
  size_t n = 0;
  const auto& recent = engine.recent_alerts();
  for (auto it = recent.rbegin(); it != recent.rend() && n < limit; ++it) {
    if (it->emitted_at < from || (muni >= 0 && it->municipality != muni)) continue;
    WriteAlert(w, it->json, options);
    ++n;
  }
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
  TimeMs newest = kMinTime;
  for (int p = 0; p < engine.partitions(); ++p) {
    if (engine.Owns(p)) newest = std::max(newest, engine.Clock(p));
  }
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
