#include "views.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace zicht::api::views {

using engine::Engine;
using engine::IndicatorDef;
using engine::Plan;

bool Suppressed(const IndicatorDef& ind, const IndicatorFigures& f, const ApiOptions& options) {
  return ind.reference < 0 && f.count < options.disclosure_min_count;
}

ShownFigures Disclose(const IndicatorDef& ind, const IndicatorFigures& f,
                      const ApiOptions& options) {
  ShownFigures s;
  s.suppressed = Suppressed(ind, f, options);
  s.live = f.live;
  s.national_rate = f.national_rate;
  if (s.suppressed) return s;
  if (ind.reference < 0) s.count = f.count;
  s.value = f.value;
  s.rate = f.rate;
  s.expected = f.expected;
  s.national_ratio = f.national_ratio;
  s.national_zscore = f.national_zscore;
  s.poisson_p = f.poisson_p;
  s.percentile = f.percentile;
  s.trend_ratio = f.trend_ratio;
  s.shrunk_ratio = f.shrunk_ratio;
  s.funnel_z = f.funnel_z;
  s.q_value = f.q_value;
  s.observed = f.observed;
  s.national_expected = f.national_expected;
  return s;
}

bool ConditionSuppressed(simdjson::dom::element condition, const ApiOptions& options) {
  int64_t count = 0;
  std::string_view window;
  const bool counted = condition["count"].get_int64().get(count) == simdjson::SUCCESS &&
                       condition["window"].get_string().get(window) == simdjson::SUCCESS &&
                       !window.empty();
  return counted && count < options.disclosure_min_count;
}

bool HiddenConditionField(std::string_view key) {
  return key == "count" || key == "observed" || key == "expected" || key == "rate";
}

TimeMs EventTime(const Engine& engine) {
  TimeMs newest = kMinTime;
  for (int p = 0; p < engine.partitions(); ++p) {
    if (engine.Owns(p)) newest = std::max(newest, engine.Clock(p));
  }
  return newest;
}

void IndicatorMeta(JsonWriter& w, const Plan& plan, const IndicatorDef& ind) {
  const rules::RulePack& pack = PackOf(plan, ind);
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
  // Whether a rule reads q_value of it (only then is there a q ranking).
  w.Key("q_ranked").Bool(ind.uses_q);
}

const rules::RulePack& PackOf(const Plan& plan, const IndicatorDef& ind) {
  const auto& spec = plan.rule_set().indicators()[static_cast<size_t>(ind.index)];
  return plan.rule_set().packs()[static_cast<size_t>(spec.pack)];
}

RankBy DefaultRankBy(const IndicatorDef& ind) {
  const bool counts =
      ind.aggregate == rules::Aggregate::kCount || ind.aggregate == rules::Aggregate::kShare;
  return counts && ind.reference < 0 ? RankBy::kShrunkRatio : RankBy::kNationalRatio;
}

ApiResult ParseRankBy(const IndicatorDef& ind, const std::string& by, RankBy* out) {
  if (by.empty()) {
    *out = DefaultRankBy(ind);
  } else if (by == "national_ratio") {
    *out = RankBy::kNationalRatio;
  } else if (by == "shrunk_ratio") {
    if (DefaultRankBy(ind) != RankBy::kShrunkRatio) {
      return Error(400, "by: shrunk_ratio applies to count and share indicators");
    }
    *out = RankBy::kShrunkRatio;
  } else {
    return Error(400, "by: expected national_ratio or shrunk_ratio");
  }
  return ApiResult{};
}

const char* RankByName(RankBy by) {
  return by == RankBy::kShrunkRatio ? "shrunk_ratio" : "national_ratio";
}

std::vector<RankedMunicipality> Rank(const Plan& plan, const IndicatorDef& ind,
                                     const std::vector<IndicatorFigures>& all,
                                     const ApiOptions& options, RankBy by) {
  auto key = [&](size_t i) {
    return by == RankBy::kShrunkRatio ? all[i].shrunk_ratio : all[i].national_ratio;
  };
  auto shown = [&](size_t i) { return !Suppressed(ind, all[i], options) && !std::isnan(key(i)); };
  auto raw = [&](size_t i) {  // the tie-break, NaN lowest (a strict weak order)
    const double r = all[i].national_ratio;
    return std::isnan(r) ? -std::numeric_limits<double>::infinity() : r;
  };
  std::vector<size_t> order(all.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const bool sa = shown(a), sb = shown(b);
    if (sa != sb) return sa;
    if (sa && key(a) != key(b)) return key(a) > key(b);
    // Equal shrunk ratios (all of them when the prior is flat): the raw index.
    if (sa && by == RankBy::kShrunkRatio && raw(a) != raw(b)) return raw(a) > raw(b);
    return plan.municipalities().at(a).name < plan.municipalities().at(b).name;
  });
  std::vector<RankedMunicipality> out;
  out.reserve(order.size());
  int rank = 0;
  for (size_t i : order) out.push_back({i, shown(i) ? ++rank : 0});
  return out;
}

double NationalRate(const std::vector<IndicatorFigures>& all) {
  double national = std::numeric_limits<double>::quiet_NaN();
  for (const auto& f : all) {
    if (!std::isnan(f.national_rate)) national = f.national_rate;
  }
  return national;
}

ApiResult FindMunicipality(const Plan& plan, const std::string& code, int* municipality) {
  *municipality = plan.municipalities().IndexOf(code);
  if (*municipality < 0) {
    return Error(404, fmt::format("no municipality with code '{}'", code.substr(0, 16)));
  }
  return ApiResult{};
}

ApiResult FindIndicator(const Plan& plan, const std::string& id, const std::string& pack,
                        int* indicator) {
  int matches = 0;
  for (const IndicatorDef& ind : plan.indicators()) {
    if (ind.spec->id == id && (pack.empty() || pack == PackOf(plan, ind).name)) {
      *indicator = ind.index;
      ++matches;
    }
  }
  if (matches == 0) return Error(404, fmt::format("no indicator '{}'", id.substr(0, 64)));
  if (matches > 1) {
    return Error(409,
                 fmt::format("indicator '{}' is in several packs; add ?pack=", id.substr(0, 64)));
  }
  return ApiResult{};
}

ApiResult SelectAlerts(const Engine& engine, const std::string& since,
                       const std::string& limit_text, const std::string& municipality,
                       std::vector<const Engine::RecentAlert*>* out) {
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
  const auto& recent = engine.recent_alerts();
  for (auto it = recent.rbegin(); it != recent.rend() && out->size() < limit; ++it) {
    if (it->emitted_at < from || (muni >= 0 && it->municipality != muni)) continue;
    out->push_back(&*it);
  }
  return ApiResult{};
}

ApiResult Error(int status, std::string message) {
  return ApiResult{status, std::move(message)};
}

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

}  // namespace zicht::api::views
