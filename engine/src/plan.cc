#include "zicht/engine/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "zicht/base/csv.h"
#include "zicht/base/hash.h"
#include "zicht/base/sha256.h"

namespace zicht::engine {
namespace {

uint64_t HashKey(std::string_view text) {
  std::string hex = Sha256Hex(text).substr(0, 16);
  uint64_t v = 0;
  std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
  return v;
}

bool ParseDouble(std::string_view s, double* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(*out);
}

Result<ReferenceValues> LoadReference(const rules::ReferenceSource& source,
                                      const MunicipalityTable& municipalities) {
  auto csv = ReadCsvFile(source.path);
  if (!csv.ok()) return csv.status();
  int col_m = csv->Column("municipality");
  int col_v = csv->Column(source.column);
  if (col_m < 0 || col_v < 0) {
    return Status::InvalidArgument(
        fmt::format("{}:1:1: needs columns 'municipality' and '{}'", source.path, source.column));
  }
  ReferenceValues ref;
  ref.path = source.path;
  ref.column = source.column;
  ref.by_municipality.resize(municipalities.size());
  for (const CsvRow& row : csv->rows) {
    const std::string& code = row.fields[static_cast<size_t>(col_m)];
    const std::string& text = row.fields[static_cast<size_t>(col_v)];
    int m = municipalities.IndexOf(code);
    if (m < 0) {
      return Status::InvalidArgument(fmt::format(
          "{}:{}:1: municipality '{}' is not in the reference data", source.path, row.line, code));
    }
    if (text.empty()) continue;  // no figure published for this municipality
    double v;
    if (!ParseDouble(text, &v)) {
      return Status::InvalidArgument(fmt::format("{}:{}: '{}' in column '{}' is not a number",
                                                 source.path, row.line, text, source.column));
    }
    ref.by_municipality[static_cast<size_t>(m)] = v;
  }
  return ref;
}

// Dense group ids of a `baseline: {peers: COLUMN}` column, in order of first
// appearance; -1 for municipalities without a value.
Result<std::vector<int>> PeerGroups(const rules::IndicatorSpec& spec,
                                    const MunicipalityTable& municipalities) {
  const std::string& column = spec.baseline.column;
  const int col = municipalities.ColumnIndex(column);
  if (col < 0) {
    const SourceMark& at = spec.baseline.mark.line > 0 ? spec.baseline.mark : spec.mark;
    return Status::InvalidArgument(
        fmt::format("{}:{}:{}: indicator '{}': the municipalities file {} has no column '{}' "
                    "(columns: {})",
                    at.file, at.line, at.column, spec.id, municipalities.source(), column,
                    fmt::join(municipalities.columns(), ", ")));
  }
  std::map<std::string, int, std::less<>> ids;
  std::vector<int> groups(municipalities.size(), -1);
  for (size_t m = 0; m < municipalities.size(); ++m) {
    std::string_view v = municipalities.Cell(m, col);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    if (v.empty()) continue;
    auto it = ids.find(v);
    if (it == ids.end()) it = ids.emplace(std::string(v), static_cast<int>(ids.size())).first;
    groups[m] = it->second;
  }
  return groups;
}

}  // namespace

FixedSum ToFixed(double v) {
  return static_cast<FixedSum>(std::llround(v * kFixedScale));
}

bool CompiledFilter::Matches(const FieldValue& v) const {
  if (!v.present) return false;
  switch (type) {
    case rules::FieldType::kString:
      if (v.value_index >= 0) return (value_mask >> v.value_index) & 1u;
      for (const std::string& s : strings) {
        if (s == v.text) return true;
      }
      return false;
    case rules::FieldType::kNumber:
      return std::find(numbers.begin(), numbers.end(), v.number) != numbers.end();
    case rules::FieldType::kBool:
      return (bool_mask >> (v.boolean ? 1 : 0)) & 1;
  }
  return false;
}

Result<PlanPtr> Plan::Build(const std::shared_ptr<const rules::RuleSet>& rule_set,
                            const MunicipalityTablePtr& municipalities,
                            const PlanOptions& options) {
  auto plan = std::make_shared<Plan>();
  plan->rule_set_ = rule_set;
  plan->municipalities_ = municipalities;
  plan->options_ = options;
  plan->schemas_ = std::make_shared<SchemaRegistry>(rule_set->event_types());
  for (const Municipality& m : municipalities->rows())
    plan->populations_[0].push_back(m.population);
  if (options.neighbourhoods) {
    for (size_t n = 0; n < options.neighbourhoods->size(); ++n) {
      plan->populations_[1].push_back(options.neighbourhoods->at(n).population);
    }
  }
  if (!options.mergers.empty()) plan->IndexMergers();
  const SchemaRegistry& schemas = *plan->schemas_;
  plan->series_by_type_.resize(schemas.size());

  std::map<uint64_t, int> series_index;
  const auto& rs_indicators = rule_set->indicators();
  for (size_t i = 0; i < rs_indicators.size(); ++i) {
    const rules::RuleSet::Indicator& ri = rs_indicators[i];
    const rules::IndicatorSpec& spec = *ri.spec;
    IndicatorDef def;
    def.index = static_cast<int>(i);
    def.spec = &spec;
    def.key = ri.key;
    def.aggregate = spec.aggregate;
    def.per = spec.per;
    def.baseline = spec.baseline.kind;
    def.uses_q = ri.uses_q;
    def.neighbourhood = spec.level == rules::Level::kNeighbourhood;
    const NeighbourhoodTable* buurten = options.neighbourhoods.get();
    if (def.neighbourhood && buurten == nullptr) {
      const SourceMark& at = spec.level_mark.line > 0 ? spec.level_mark : spec.mark;
      return Status::InvalidArgument(fmt::format(
          "{}:{}:{}: indicator '{}' has level: neighbourhood, but no neighbourhood table is "
          "loaded (reference.neighbourhoods in the engine config, --neighbourhoods on the "
          "command line)",
          at.file, at.line, at.column, spec.id));
    }
    if (def.baseline == rules::BaselineKind::kPeers) {
      auto groups = PeerGroups(spec, *municipalities);
      if (!groups.ok()) return groups.status();
      def.peer_group = std::move(*groups);
      if (def.neighbourhood) {
        // A neighbourhood's peers are the neighbourhoods of its municipality's peers.
        std::vector<int> by_buurt(buurten->size());
        for (size_t n = 0; n < buurten->size(); ++n) {
          by_buurt[n] = def.peer_group[static_cast<size_t>(buurten->at(n).municipality)];
        }
        def.peer_group = std::move(by_buurt);
      }
    }
    if (spec.is_reference()) {
      auto ref = LoadReference(*spec.source, *municipalities);
      if (!ref.ok()) return ref.status();
      def.reference = static_cast<int>(plan->references_.size());
      plan->references_.push_back(std::move(*ref));
      plan->indicators_.push_back(std::move(def));
      continue;
    }
    int type = schemas.TypeIndex(spec.event);
    if (type < 0) return Status::Internal(fmt::format("indicator {}: unknown event type", ri.key));
    const EventTypeSchema& schema = schemas.type(type);

    // Normalised text of what is counted; indicators that count the same
    // thing share one series (and its history survives window edits).
    std::vector<std::string> clause_texts;
    std::vector<CompiledFilter> filters;
    for (const rules::FilterClause& clause : spec.where) {
      CompiledFilter f;
      f.field = schema.FieldIndex(clause.field);
      if (f.field < 0) {
        return Status::Internal(
            fmt::format("indicator {}: unknown field {}", ri.key, clause.field));
      }
      const FieldSchema& fs = schema.fields[static_cast<size_t>(f.field)];
      f.type = fs.type;
      std::vector<std::string> values = clause.values;
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
      for (const std::string& v : values) {
        switch (fs.type) {
          case rules::FieldType::kString: {
            auto it = std::find(fs.values.begin(), fs.values.end(), v);
            if (!fs.values.empty() && it != fs.values.end() && fs.values.size() <= 64) {
              f.value_mask |= uint64_t{1} << (it - fs.values.begin());
            }
            f.strings.push_back(v);
            break;
          }
          case rules::FieldType::kNumber: {
            double d;
            if (!ParseDouble(v, &d)) {
              return Status::Internal(fmt::format("indicator {}: bad number {}", ri.key, v));
            }
            f.numbers.push_back(d);
            break;
          }
          case rules::FieldType::kBool:
            f.bool_mask |= v == "true" ? 2 : 1;
            break;
        }
      }
      clause_texts.push_back(fmt::format("{} in [{}]", clause.field, fmt::join(values, ", ")));
      filters.push_back(std::move(f));
    }
    std::sort(clause_texts.begin(), clause_texts.end());
    bool needs_sum =
        spec.aggregate == rules::Aggregate::kSum || spec.aggregate == rules::Aggregate::kMean;
    std::string description = spec.event;
    if (!clause_texts.empty())
      description += " where " + fmt::format("{}", fmt::join(clause_texts, " and "));
    if (needs_sum) description += " sum " + spec.field;
    description += spec.window.hours ? " /hour" : " /day";
    if (def.neighbourhood) description += " by neighbourhood";
    uint64_t key = HashKey(description);
    auto [it, inserted] = series_index.emplace(key, static_cast<int>(plan->series_.size()));
    if (inserted) {
      SeriesDef s;
      s.key = key;
      s.description = description;
      s.event_type = type;
      // Filters must all match; order them so cheap enum checks go first.
      s.filters = std::move(filters);
      s.sum_field = needs_sum ? schema.FieldIndex(spec.field) : -1;
      s.hours = spec.window.hours;
      s.neighbourhood = def.neighbourhood;
      s.bucket_ms = spec.window.hours ? kMsPerHour : kMsPerDay;
      plan->series_.push_back(std::move(s));
      plan->series_by_type_[static_cast<size_t>(type)].push_back(it->second);
    }
    SeriesDef& series = plan->series_[static_cast<size_t>(it->second)];
    def.series = it->second;
    def.window = spec.window.count;
    def.windows = ri.uses_trend ? 5 : 1;
    if (ri.uses_yoy) {
      def.yoy_lag = spec.window.hours ? rules::kYoyLagDays * 24 : rules::kYoyLagDays;
    }
    if (spec.aggregate == rules::Aggregate::kShare) {
      series.count_all = true;
      series.share_indicators.push_back(def.index);
    }
    series.indicators.push_back(def.index);
    if (series.hours) plan->uses_hours_ = true;
    if (series.neighbourhood) plan->uses_neighbourhoods_ = true;
    int64_t lateness_buckets =
        (options.allowed_lateness_ms + series.bucket_ms - 1) / series.bucket_ms;
    const int64_t history = std::max(def.window * def.windows, def.yoy_lag + def.window);
    series.retention =
        std::max(series.retention, history + lateness_buckets + options.slack_buckets);
    plan->indicators_.push_back(std::move(def));
  }

  for (const rules::RuleSet::Rule& rr : rule_set->rules()) {
    RuleDef rule;
    rule.spec = rr.spec;
    rule.pack = rule_set->packs()[static_cast<size_t>(rr.pack)].name;
    rule.condition_indicator = rr.condition_indicator;
    std::set<int> series, share_series;
    for (size_t c = 0; c < rr.condition_indicator.size(); ++c) {
      const IndicatorDef& ind = plan->indicators_[static_cast<size_t>(rr.condition_indicator[c])];
      if (ind.series >= 0) series.insert(ind.series);
      if (ind.neighbourhood) rule.neighbourhood = true;
      if (ind.series >= 0 && ind.aggregate == rules::Aggregate::kShare)
        share_series.insert(ind.series);
    }
    rule.series.assign(series.begin(), series.end());
    for (const rules::ConditionSpec& c : rr.spec->conditions) {
      if (c.measure == rules::Measure::kMunicipalityRatio) rule.reads_parent = true;
    }
    rule.condition_base = plan->total_conditions_;
    for (size_t c = 0; c < rr.condition_indicator.size(); ++c) {
      plan->indicators_[static_cast<size_t>(rr.condition_indicator[c])].conditions.emplace_back(
          static_cast<int>(plan->rules_.size()), static_cast<int>(c));
    }
    plan->total_conditions_ += static_cast<int>(rr.spec->conditions.size());
    int rule_index = static_cast<int>(plan->rules_.size());
    for (int s : rule.series) plan->series_[static_cast<size_t>(s)].rules.push_back(rule_index);
    for (int s : share_series)
      plan->series_[static_cast<size_t>(s)].share_rules.push_back(rule_index);
    plan->rules_.push_back(std::move(rule));
  }
  return PlanPtr(std::move(plan));
}

void Plan::IndexMergers() {
  const size_t n = municipalities_->size();
  merged_in_.assign(n, -1);
  created_by_.assign(n, -1);
  final_of_.resize(n);
  for (size_t m = 0; m < n; ++m) final_of_[m] = static_cast<int>(m);
  const auto& steps = options_.mergers;
  for (size_t s = 0; s < steps.size(); ++s) {
    created_by_[static_cast<size_t>(steps[s].new_unit)] = static_cast<int>(s);
    for (int old : steps[s].old_units) merged_in_[static_cast<size_t>(old)] = static_cast<int>(s);
  }
  // Chains (A into B, later B into C) end at C; the table has no cycles.
  for (size_t m = 0; m < n; ++m) {
    int f = static_cast<int>(m);
    for (size_t guard = 0; guard <= steps.size() && merged_in_[static_cast<size_t>(f)] >= 0;
         ++guard) {
      f = steps[static_cast<size_t>(merged_in_[static_cast<size_t>(f)])].new_unit;
    }
    final_of_[m] = f;
  }
  merged_population_ = populations_[0];
  for (const reference::MergerStep& step : steps) {
    if (!step.old_units.empty()) mergers_fold_ = true;
    int64_t sum = step.new_unit_added ? 0 : populations_[0][static_cast<size_t>(step.new_unit)];
    for (int old : step.old_units) sum += merged_population_[static_cast<size_t>(old)];
    merged_population_[static_cast<size_t>(step.new_unit)] = sum;
  }
}

int Plan::PartitionOf(int municipality, int partitions) const {
  if (partitions == 1) return 0;
  // Every code of a merger lives where its final code does, so that the
  // merger folds within one partition (SPEC 8.3).
  const int key = final_of(municipality);
  return KafkaPartitionForKey(municipalities_->at(static_cast<size_t>(key)).code, partitions);
}

bool Plan::MergerInForce(int step, int64_t final_bucket, bool hours, int lag_days) const {
  // A partition at time T compares with final bucket
  // floor((T - lateness) / width) - 1 - lag; the first T of the day is E.
  const int64_t width = hours ? kMsPerHour : kMsPerDay;
  const TimeMs day_start = options_.mergers[static_cast<size_t>(step)].effective_day * kMsPerDay;
  const int64_t first = FloorDiv(day_start - options_.allowed_lateness_ms, width) - 1 -
                        int64_t{hours ? 24 : 1} * lag_days;
  return final_bucket >= first;
}

std::shared_ptr<const std::vector<int64_t>> Plan::NationalPopulations(int64_t final_bucket,
                                                                      bool hours,
                                                                      int lag_days) const {
  if (!mergers_fold_) return nullptr;
  auto pop = std::make_shared<std::vector<int64_t>>(populations_[0]);
  // In step order, so that a chain's middle code counts only between its days.
  for (size_t s = 0; s < options_.mergers.size(); ++s) {
    const reference::MergerStep& step = options_.mergers[s];
    if (MergerInForce(static_cast<int>(s), final_bucket, hours, lag_days)) {
      for (int old : step.old_units) (*pop)[static_cast<size_t>(old)] = 0;
      (*pop)[static_cast<size_t>(step.new_unit)] =
          merged_population_[static_cast<size_t>(step.new_unit)];
    } else if (step.new_unit_added) {
      (*pop)[static_cast<size_t>(step.new_unit)] = 0;
    }
  }
  return pop;
}

}  // namespace zicht::engine
