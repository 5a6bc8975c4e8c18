// The rule-pack model: names, the built-in event types, canonical texts and versions.
#include "zicht/rules/rule_pack.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "zicht/base/json_writer.h"
#include "zicht/base/sha256.h"

namespace zicht::rules {
namespace {

FieldSpec Field(std::string name, FieldType type, std::vector<std::string> values = {},
                bool optional = false) {
  FieldSpec f;
  f.name = std::move(name);
  f.type = type;
  f.values = std::move(values);
  f.optional = optional;
  return f;
}

EventTypeSpec Builtin(std::string type, std::vector<FieldSpec> fields) {
  EventTypeSpec t;
  t.type = std::move(type);
  t.fields = std::move(fields);
  t.builtin = true;
  t.mark.file = "<built-in>";
  return t;
}

std::vector<std::string> SortedUnique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// Versions are short: 16 hex digits (64 bits) are plenty to tell edits apart.
std::string ShortHash(std::string_view text) {
  return Sha256Hex(text).substr(0, 16);
}

}  // namespace

const std::vector<EventTypeSpec>& BuiltinEventTypes() {
  static const std::vector<EventTypeSpec> kTypes = {
      Builtin("suspicious_transaction",
              {Field("amount_eur", FieldType::kNumber), Field("channel", FieldType::kString),
               Field("sector", FieldType::kString)}),
      Builtin("property_sale",
              {Field("price_eur", FieldType::kNumber),
               Field("buyer_type", FieldType::kString, {"person", "company", "foreign_company"}),
               Field("financing", FieldType::kString, {"mortgage", "none", "unknown"}),
               Field("resale_days", FieldType::kNumber, {}, /*optional=*/true)}),
      Builtin("business_registration",
              {Field("sbi", FieldType::kString), Field("sector", FieldType::kString),
               Field("revenue_eur", FieldType::kNumber)}),
      Builtin("drug_finding",
              {Field("kind", FieldType::kString), Field("property", FieldType::kString)}),
  };
  return kTypes;
}

std::string Baseline::ToString() const {
  switch (kind) {
    case BaselineKind::kNational:
      return "national";
    case BaselineKind::kLeaveOneOut:
      return "leave_one_out";
    case BaselineKind::kPeers:
      return "peers:" + column;
  }
  return "national";
}

std::string Window::ToString() const {
  return fmt::format("{}{}", count, hours ? 'h' : 'd');
}

std::string_view AggregateName(Aggregate a) {
  switch (a) {
    case Aggregate::kCount:
      return "count";
    case Aggregate::kSum:
      return "sum";
    case Aggregate::kMean:
      return "mean";
    case Aggregate::kShare:
      return "share";
    case Aggregate::kValue:
      return "value";
  }
  return "?";
}

std::string_view MeasureName(Measure m) {
  switch (m) {
    case Measure::kValue:
      return "value";
    case Measure::kRate:
      return "rate";
    case Measure::kNationalRatio:
      return "national_ratio";
    case Measure::kNationalZscore:
      return "national_zscore";
    case Measure::kPoissonP:
      return "poisson_p";
    case Measure::kPercentile:
      return "percentile";
    case Measure::kTrendRatio:
      return "trend_ratio";
    case Measure::kBinomialP:
      return "binomial_p";
    case Measure::kFunnelZ:
      return "funnel_z";
    case Measure::kShrunkRatio:
      return "shrunk_ratio";
    case Measure::kQValue:
      return "q_value";
    case Measure::kYoyRatio:
      return "yoy_ratio";
    case Measure::kMunicipalityRatio:
      return "municipality_ratio";
  }
  return "?";
}

std::string_view OpName(Op op) {
  switch (op) {
    case Op::kGe:
      return ">=";
    case Op::kGt:
      return ">";
    case Op::kLe:
      return "<=";
    case Op::kLt:
      return "<";
    case Op::kEq:
      return "==";
    case Op::kNe:
      return "!=";
  }
  return "?";
}

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "?";
}

std::string_view FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kString:
      return "string";
    case FieldType::kNumber:
      return "number";
    case FieldType::kBool:
      return "bool";
  }
  return "?";
}

std::string_view MatchKindName(MatchKind m) {
  switch (m) {
    case MatchKind::kAll:
      return "all";
    case MatchKind::kAny:
      return "any";
    case MatchKind::kAtLeast:
      return "at_least";
    case MatchKind::kScore:
      return "score";
  }
  return "?";
}

std::string CanonicalText(const EventTypeSpec& type) {
  std::vector<const FieldSpec*> fields;
  for (const FieldSpec& f : type.fields) fields.push_back(&f);
  std::sort(fields.begin(), fields.end(),
            [](const FieldSpec* a, const FieldSpec* b) { return a->name < b->name; });
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("type").String(type.type).Key("fields").BeginArray();
  for (const FieldSpec* f : fields) {
    w.BeginObject().Key("name").String(f->name).Key("type").String(FieldTypeName(f->type));
    w.Key("values").BeginArray();
    for (const std::string& v : SortedUnique(f->values)) w.String(v);
    w.EndArray().Key("optional").Bool(f->optional).EndObject();
  }
  w.EndArray().EndObject();
  return out;
}

std::string CanonicalText(const IndicatorSpec& ind) {
  std::vector<const FilterClause*> where;
  for (const FilterClause& c : ind.where) where.push_back(&c);
  std::sort(where.begin(), where.end(),
            [](const FilterClause* a, const FilterClause* b) { return a->field < b->field; });
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("id").String(ind.id).Key("aggregate").String(AggregateName(ind.aggregate));
  if (ind.source) {
    w.Key("source").BeginObject().Key("file").String(ind.source->file);
    w.Key("column").String(ind.source->column).EndObject();
  } else {
    w.Key("event").String(ind.event);
    w.Key("where").BeginArray();
    for (const FilterClause* c : where) {
      w.BeginObject().Key("field").String(c->field).Key("values").BeginArray();
      for (const std::string& v : SortedUnique(c->values)) w.String(v);
      w.EndArray().EndObject();
    }
    w.EndArray();
    w.Key("field").String(ind.field);
    w.Key("window").String(ind.window.ToString());
    w.Key("per").Double(ind.per);
  }
  // Written only when set, so the versions of packs without it stay the same.
  if (ind.baseline.kind != BaselineKind::kNational) {
    w.Key("baseline").String(ind.baseline.ToString());
  }
  if (ind.level == Level::kNeighbourhood) w.Key("level").String("neighbourhood");
  w.EndObject();
  return out;
}

std::string CanonicalText(const RuleSpec& rule, const RulePack& pack) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("pack").String(pack.name).Key("id").String(rule.id);
  w.Key("severity").String(SeverityName(rule.severity));
  w.Key("match").String(MatchKindName(rule.match));
  if (rule.match == MatchKind::kAtLeast) w.Key("at_least").Int(rule.at_least);
  if (rule.match == MatchKind::kScore) {
    w.Key("weights").BeginObject();
    for (const auto& [id, weight] : rule.weights) w.Key(id).Double(weight);
    w.EndObject().Key("alert_at").Double(rule.alert_at);
  }
  w.Key("conditions").BeginArray();
  std::set<std::string> read;
  for (const ConditionSpec& c : rule.conditions) {
    w.BeginObject().Key("id").String(c.id).Key("indicator").String(c.indicator);
    w.Key("measure").String(MeasureName(c.measure)).Key("op").String(OpName(c.op));
    w.Key("value").Double(c.value).EndObject();
    read.insert(c.indicator);
  }
  w.EndArray();
  w.Key("min_events").Int(rule.min_events).Key("for_ms").Int(rule.for_ms);
  w.Key("cooldown_ms").Int(rule.cooldown_ms);
  w.Key("labels").BeginObject();
  for (const auto& [k, v] : rule.labels) w.Key(k).String(v);
  w.EndObject();
  // The definitions it reads: editing an indicator changes what the rule means.
  w.Key("indicators").BeginArray();
  for (const std::string& id : read) {
    auto it = std::find_if(pack.indicators.begin(), pack.indicators.end(),
                           [&](const IndicatorSpec& i) { return i.id == id; });
    if (it == pack.indicators.end()) {
      w.BeginObject().Key("missing").String(id).EndObject();
    } else {
      w.Raw(CanonicalText(*it));
    }
  }
  w.EndArray().EndObject();
  return out;
}

void FinalizePack(RulePack* pack) {
  std::string whole;
  JsonWriter w(&whole);
  w.BeginObject().Key("api_version").String(pack->api_version).Key("name").String(pack->name);
  w.Key("events").BeginArray();
  for (const EventTypeSpec& t : pack->events) w.Raw(CanonicalText(t));
  w.EndArray().Key("indicators").BeginArray();
  for (const IndicatorSpec& i : pack->indicators) w.Raw(CanonicalText(i));
  w.EndArray().Key("rules").BeginArray();
  for (RuleSpec& rule : pack->rules) {
    rule.condition_weights.clear();
    if (rule.match == MatchKind::kScore) {
      for (const ConditionSpec& c : rule.conditions) {
        auto it = rule.weights.find(c.id);
        rule.condition_weights.push_back(it == rule.weights.end() ? 0.0 : it->second);
      }
    }
    std::string text = CanonicalText(rule, *pack);
    rule.version = ShortHash(text);
    w.Raw(text);
  }
  w.EndArray().EndObject();
  pack->version = ShortHash(whole);
}

}  // namespace zicht::rules
