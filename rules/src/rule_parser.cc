// PackParser: rules, their match, conditions and score.
#include <filesystem>
#include <set>

#include "pack_parser.h"

namespace zicht::rules::parse {

void PackParser::ParseRules(const Entry& list) {
  size_t n = 0;
  std::map<std::string, int> first_line;
  for (const YAML::Node& item : list.value) {
    if (++n == ctx_.options->max_rules + 1) {
      ctx_.Error(ctx_.Mark(item), fmt::format("more than {} rules in one pack "
                                              "(LoadOptions::max_rules)",
                                              ctx_.options->max_rules));
    }
    if (!item.IsMap()) {
      ctx_.Error(ctx_.Mark(item), fmt::format("a rule must be a mapping, not {}", KindOf(item)));
      continue;
    }
    ParseRule(item, &first_line);
  }
}

void PackParser::ParseRule(const YAML::Node& item, std::map<std::string, int>* first_line) {
  MapView m(ctx_, item,
            {"id", "title", "description", "severity", "match", "score", "conditions", "min_events",
             "for", "cooldown", "labels"});
  RuleSpec rule;
  rule.mark = m.mark();
  std::string what = "a rule";
  if (const Entry* e = m.Require("id", what)) {
    if (auto t = Text(ctx_, *e)) {
      rule.id = *t;
      rule.mark = e->value_mark;
      current_rule_hint_ = rule.id;
      what = fmt::format("rule '{}'", Show(rule.id));
      if (!IsId(rule.id)) {
        ctx_.Error(e->value_mark, fmt::format("invalid rule id '{}': {}", Show(rule.id), kIdRule));
      } else if (auto [it, inserted] = first_line->emplace(rule.id, e->value_mark.line);
                 !inserted) {
        ctx_.Error(e->value_mark,
                   fmt::format("duplicate rule id '{}' (first at line {})", rule.id, it->second));
      }
    }
  }
  if (const Entry* e = m.Find("title")) {
    if (auto t = Text(ctx_, *e)) rule.title = *t;
  }
  if (const Entry* e = m.Find("severity")) {
    if (auto s = Enum(ctx_, *e, kSeverities)) rule.severity = *s;
  }
  const Entry* match = m.Find("match");
  const Entry* score = m.Find("score");
  std::optional<SourceMark> at_least_mark;
  if (match != nullptr && score != nullptr) {
    ctx_.Error(score->key_mark,
               "'match' and 'score' are exclusive: a rule either matches its "
               "conditions (all, any, at_least) or scores them");
  } else if (match != nullptr) {
    at_least_mark = ParseMatch(*match, &rule);
  }
  const MapView* score_view = nullptr;
  std::optional<MapView> score_map;
  if (score != nullptr && match == nullptr) {
    rule.match = MatchKind::kScore;
    if (IsMap(ctx_, *score)) {
      score_map.emplace(ctx_, score->value, Keys{"weights", "alert_at"});
      score_view = &*score_map;
    }
  }

  const Entry* conds = m.Require("conditions", what);
  std::vector<SourceMark> id_marks;
  if (conds != nullptr && IsListOrEmpty(ctx_, *conds)) {
    if (conds->value.size() == 0) {
      ctx_.Error(conds->value_mark, fmt::format("{} needs at least one condition", what));
    }
    std::map<std::string, int> seen_ids;
    size_t n = 0;
    for (const YAML::Node& c : conds->value) {
      if (++n == ctx_.options->max_conditions + 1) {
        ctx_.Error(ctx_.Mark(c), fmt::format("more than {} conditions in one rule "
                                             "(LoadOptions::max_conditions)",
                                             ctx_.options->max_conditions));
      }
      if (!c.IsMap()) {
        ctx_.Error(ctx_.Mark(c), fmt::format("a condition must be a mapping, not {}", KindOf(c)));
        continue;
      }
      ConditionSpec cond;
      SourceMark id_mark;
      ParseCondition(c, &cond, &id_mark, &seen_ids);
      rule.conditions.push_back(std::move(cond));
      id_marks.push_back(id_mark);
    }
  }
  CheckOneLevel(rule, what);
  const size_t n_conditions = rule.conditions.size();

  if (at_least_mark && rule.match == MatchKind::kAtLeast && n_conditions > 0) {
    if (rule.at_least < 1) {
      ctx_.Error(*at_least_mark, fmt::format("at_least must be at least 1, got {}", rule.at_least));
    } else if (static_cast<size_t>(rule.at_least) > n_conditions) {
      ctx_.Error(*at_least_mark,
                 fmt::format("at_least {} is more than the {} condition{} of this rule",
                             rule.at_least, n_conditions, n_conditions == 1 ? "" : "s"));
    }
  }
  if (score_view != nullptr) ParseScore(*score_view, id_marks, &rule);

  if (const Entry* e = m.Find("min_events")) {
    if (auto v = Integer(ctx_, *e)) {
      if (*v < 0) {
        ctx_.Error(e->value_mark, fmt::format("min_events must be 0 or more, got {}", *v));
      } else {
        rule.min_events = *v;
      }
    }
  }
  if (const Entry* e = m.Find("for")) {
    if (auto d = DurationOf(ctx_, *e)) rule.for_ms = d->ms();
  }
  if (const Entry* e = m.Find("cooldown")) {
    if (auto d = DurationOf(ctx_, *e)) rule.cooldown_ms = d->ms();
  }
  if (const Entry* e = m.Find("labels"); e != nullptr && !e->value.IsNull() && IsMap(ctx_, *e)) {
    MapView lm(ctx_, e->value, {});
    for (const Entry& l : lm.entries()) {
      if (l.key.empty()) {
        ctx_.Error(l.key_mark, "a label name must not be empty");
        continue;
      }
      if (auto t = Text(ctx_, l)) rule.labels[l.key] = *t;
    }
  }
  pack_.rules.push_back(std::move(rule));
}

std::optional<SourceMark> PackParser::ParseMatch(const Entry& match, RuleSpec* rule) {
  if (match.value.IsMap()) {
    MapView mm(ctx_, match.value, {"at_least"});
    const Entry* n = mm.Require("at_least", "match");
    if (n == nullptr) return std::nullopt;
    if (auto v = Integer(ctx_, *n)) {
      rule->match = MatchKind::kAtLeast;
      rule->at_least = static_cast<int>(std::clamp<int64_t>(*v, -1, INT32_MAX));
      return n->value_mark;
    }
    return std::nullopt;
  }
  auto t = Text(ctx_, match);
  if (!t) return std::nullopt;
  if (*t == "all") {
    rule->match = MatchKind::kAll;
  } else if (*t == "any") {
    rule->match = MatchKind::kAny;
  } else {
    std::string hint = Closest(*t, std::vector<std::string>{"all", "any"});
    ctx_.Error(match.value_mark,
               fmt::format("match must be all, any or {{at_least: N}}, got '{}'{}", Show(*t),
                           hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
  }
  return std::nullopt;
}

void PackParser::ParseCondition(const YAML::Node& node, ConditionSpec* cond, SourceMark* id_mark,
                                std::map<std::string, int>* seen_ids) {
  MapView m(ctx_, node, {"id", "indicator", "measure", "op", "value"});
  cond->mark = m.mark();
  *id_mark = m.mark();
  if (const Entry* e = m.Find("id")) {
    if (auto t = Text(ctx_, *e)) {
      *id_mark = e->value_mark;
      if (!IsId(*t)) {
        ctx_.Error(e->value_mark, fmt::format("invalid condition id '{}': {}", Show(*t), kIdRule));
      } else if (auto [it, inserted] = seen_ids->emplace(*t, e->value_mark.line); !inserted) {
        ctx_.Error(e->value_mark, fmt::format("duplicate condition id '{}' in this rule (first "
                                              "at line {})",
                                              *t, it->second));
      } else {
        cond->id = *t;
      }
    }
  }
  const std::string what =
      cond->id.empty() ? "a condition" : fmt::format("condition '{}'", cond->id);
  const IndicatorInfo* ind = nullptr;
  if (const Entry* e = m.Require("indicator", what)) {
    if (auto t = Text(ctx_, *e)) {
      cond->indicator = *t;
      if (auto it = indicators_.find(*t); it != indicators_.end()) {
        ind = &it->second;
      } else if (!IndicatorIdSeen(*t)) {
        std::vector<std::string> ids;
        for (const auto& [id, unused] : indicators_) ids.push_back(id);
        ctx_.Error(e->value_mark,
                   fmt::format("unknown indicator '{}'{}", Show(*t), DidYouMean(*t, ids)));
      }
    }
  }
  std::optional<Measure> measure;
  const Entry* measure_entry = m.Require("measure", what);
  if (measure_entry != nullptr) measure = Enum(ctx_, *measure_entry, kMeasures);
  if (measure) cond->measure = *measure;
  if (const Entry* e = m.Require("op", what)) {
    // Unquoted `!=` is a YAML tag with an empty value; take it as meant.
    if (e->value.IsScalar() && e->value.Scalar().empty() && e->value.Tag() == "!=") {
      cond->op = Op::kNe;
    } else if (auto t = Text(ctx_, *e)) {
      if (auto op = Lookup(kOps, *t)) {
        cond->op = *op;
      } else {
        ctx_.Error(e->value_mark, fmt::format("unknown op '{}' (expected one of: >=, >, <=, <, "
                                              "==, !=)",
                                              Show(*t)));
      }
    }
  }
  if (const Entry* e = m.Require("value", what)) {
    if (auto v = Number(ctx_, *e)) {
      cond->value = *v;
      if (measure == Measure::kPercentile && (*v < 0 || *v > 100)) {
        ctx_.Error(e->value_mark, fmt::format("a percentile lies between 0 and 100, got {}", *v));
      } else if ((measure == Measure::kPoissonP || measure == Measure::kBinomialP ||
                  measure == Measure::kQValue) &&
                 (*v < 0 || *v > 1)) {
        ctx_.Error(e->value_mark, fmt::format("a {} probability lies between 0 and 1, got {}",
                                              MeasureName(*measure), *v));
      }
    }
  }
  if (ind != nullptr && measure && ind->aggregate_known) {
    const IndicatorSpec& spec = pack_.indicators[ind->index];
    const bool count_or_share =
        spec.aggregate == Aggregate::kCount || spec.aggregate == Aggregate::kShare;
    const std::string kind = spec.is_reference()
                                 ? std::string("a reference indicator")
                                 : fmt::format("a {}", AggregateName(spec.aggregate));
    if (*measure == Measure::kBinomialP && spec.aggregate != Aggregate::kShare) {
      ctx_.Error(
          measure_entry->value_mark,
          fmt::format("measure 'binomial_p' needs a share indicator (matching events out "
                      "of all events of the type); '{}' is {}{}",
                      spec.id, kind,
                      spec.aggregate == Aggregate::kCount ? "; use poisson_p for counts" : ""));
    } else if (*measure == Measure::kYoyRatio && spec.is_reference()) {
      ctx_.Error(measure_entry->value_mark,
                 fmt::format("measure 'yoy_ratio' does not apply to reference indicator '{}': "
                             "a table has no history of windows",
                             spec.id));
    } else if (*measure == Measure::kYoyRatio && ind->window_mark &&
               spec.window.ms() > kYoyMaxWindowDays * kMsPerDay) {
      ctx_.Error(
          measure_entry->value_mark,
          fmt::format("measure 'yoy_ratio' needs a window of at most {}d (a season, "
                      "compared with the same season a year earlier); indicator '{}' has "
                      "window {} (line {})",
                      kYoyMaxWindowDays, spec.id, spec.window.ToString(), ind->window_mark->line));
    } else if (*measure == Measure::kMunicipalityRatio && spec.level != Level::kNeighbourhood) {
      ctx_.Error(measure_entry->value_mark,
                 fmt::format("measure 'municipality_ratio' compares a neighbourhood with its own "
                             "municipality; indicator '{}' needs 'level: neighbourhood'",
                             spec.id));
    } else if ((*measure == Measure::kFunnelZ || *measure == Measure::kShrunkRatio ||
                *measure == Measure::kQValue) &&
               !count_or_share) {
      ctx_.Error(measure_entry->value_mark,
                 fmt::format("measure '{}' needs a count or share indicator; '{}' is {}",
                             MeasureName(*measure), spec.id, kind));
    }
    if ((*measure == Measure::kNationalZscore || *measure == Measure::kPoissonP) &&
        spec.aggregate != Aggregate::kCount && spec.aggregate != Aggregate::kShare) {
      ctx_.Error(
          measure_entry->value_mark,
          fmt::format("measure '{}' needs a count or share indicator; '{}' is {}",
                      MeasureName(*measure), spec.id,
                      spec.is_reference() ? "a reference indicator"
                                          : fmt::format("a {}", AggregateName(spec.aggregate))));
    } else if (*measure == Measure::kTrendRatio && spec.is_reference()) {
      ctx_.Error(measure_entry->value_mark,
                 fmt::format("measure 'trend_ratio' does not apply to reference indicator '{}': "
                             "a table has no history of windows",
                             spec.id));
    }
    if (*measure == Measure::kTrendRatio) {
      trend_users_.emplace(spec.id, fmt::format("rule '{}'", current_rule_hint_));
    }
    if (*measure == Measure::kYoyRatio) {
      yoy_users_.emplace(spec.id, fmt::format("rule '{}'", current_rule_hint_));
    }
  }
}

// A rule is evaluated per municipality or per neighbourhood, so its
// indicators must all keep their windows at the same level.
void PackParser::CheckOneLevel(const RuleSpec& rule, const std::string& what) {
  const IndicatorSpec* first = nullptr;
  for (const ConditionSpec& c : rule.conditions) {
    auto it = indicators_.find(c.indicator);
    if (it == indicators_.end()) continue;
    const IndicatorSpec& spec = pack_.indicators[it->second.index];
    if (first == nullptr) {
      first = &spec;
    } else if (spec.level != first->level) {
      const IndicatorSpec& n = spec.level == Level::kNeighbourhood ? spec : *first;
      const IndicatorSpec& m = spec.level == Level::kNeighbourhood ? *first : spec;
      ctx_.Error(c.mark,
                 fmt::format("{} mixes neighbourhood indicator '{}' with municipality indicator "
                             "'{}': a rule is evaluated either per neighbourhood or per "
                             "municipality; give '{}' 'level: neighbourhood' too or split the rule",
                             what, n.id, m.id, m.id));
      return;
    }
  }
}

void PackParser::ParseScore(const MapView& score, const std::vector<SourceMark>& id_marks,
                            RuleSpec* rule) {
  const Entry* weights = score.Require("weights", "score");
  const Entry* alert_at = score.Require("alert_at", "score");
  if (alert_at != nullptr) {
    if (auto v = Number(ctx_, *alert_at)) {
      rule->alert_at = *v;
      if (*v <= 0) {
        ctx_.Error(alert_at->value_mark,
                   fmt::format("alert_at must be above 0, got {}: at 0 the rule would fire "
                               "while no condition holds",
                               *v));
      } else if (*v > 1) {
        ctx_.Error(alert_at->value_mark,
                   fmt::format("alert_at {} can never be reached: the score (sum of the "
                               "weights of the conditions that hold / sum of all weights) is "
                               "at most 1",
                               *v));
      }
    }
  }
  if (weights == nullptr || !IsMap(ctx_, *weights)) return;
  MapView wm(ctx_, weights->value, {});
  std::vector<std::string> ids;
  for (const ConditionSpec& c : rule->conditions) ids.push_back(c.id);
  double total = 0;
  bool all_numbers = true;
  for (const Entry& w : wm.entries()) {
    auto v = Number(ctx_, w);
    if (!v) {
      all_numbers = false;
    } else if (*v < 0) {
      ctx_.Error(w.value_mark,
                 fmt::format("weight of '{}' must be 0 or more, got {}", Show(w.key), *v));
      all_numbers = false;
    } else {
      rule->weights[w.key] = *v;
      total += *v;
    }
    if (std::find(ids.begin(), ids.end(), w.key) == ids.end()) {
      ctx_.Error(w.key_mark, fmt::format("weight for unknown condition '{}'{}", Show(w.key),
                                         DidYouMean(w.key, ids)));
    }
  }
  for (size_t i = 0; i < rule->conditions.size(); ++i) {
    const ConditionSpec& c = rule->conditions[i];
    if (c.id.empty()) {
      ctx_.Error(id_marks[i],
                 "a condition of a score rule needs an 'id': its weight is "
                 "looked up by id in score.weights");
    } else if (wm.Find(c.id) == nullptr) {
      ctx_.Error(id_marks[i], fmt::format("condition '{}' has no weight in score.weights", c.id));
    }
  }
  if (all_numbers && !wm.entries().empty() && total <= 0) {
    ctx_.Error(weights->value_mark,
               "the weights add up to 0, so no score can be computed; give at least one "
               "condition a weight above 0");
  } else if (wm.entries().empty()) {
    ctx_.Error(weights->value_mark, "score.weights needs a weight per condition id");
  }
}

}  // namespace zicht::rules::parse
