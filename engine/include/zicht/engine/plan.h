// Plan: a rule set compiled against the municipality table into what the hot
// path needs: bucket series (what to count), indicators (windows over series),
// rules (conditions over indicators) and reference-indicator values.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/engine/event.h"
#include "zicht/reference/mergers.h"
#include "zicht/reference/municipalities.h"
#include "zicht/reference/neighbourhoods.h"
#include "zicht/rules/loader.h"

namespace zicht::engine {

// The engine names municipalities by the reference table's dense indices.
using reference::Municipality;
using reference::MunicipalityTable;
using reference::MunicipalityTablePtr;
using reference::NeighbourhoodTable;
using reference::NeighbourhoodTablePtr;

// A `where` clause compiled against the field schema.
struct CompiledFilter {
  int field = -1;
  rules::FieldType type = rules::FieldType::kString;
  uint64_t value_mask = 0;           // enumerated strings: bit i = values[i] accepted
  std::vector<std::string> strings;  // free strings
  std::vector<double> numbers;
  int bool_mask = 0;  // bit 0 false, bit 1 true

  bool Matches(const FieldValue& v) const;
};

// Sums are kept in fixed point (micro-units) so that every aggregate is exact
// and independent of the order of additions: restarts, partitionings and peer
// implementations give bit-identical results.
__extension__ typedef __int128 FixedSum;  // __extension__: GCC/Clang builtin type
inline constexpr double kFixedScale = 1e6;
FixedSum ToFixed(double v);
inline double FromFixed(FixedSum s) {
  return static_cast<double>(s) / kFixedScale;
}

// What is counted per (municipality, bucket): events of a type that pass the
// filters, all events of the type, and the sum of a field over the passing ones.
struct SeriesDef {
  uint64_t key = 0;         // stable across reloads: hash of the normalised definition
  std::string description;  // "property_sale where buyer_type in [company, foreign_company] /day"
  int event_type = -1;
  std::vector<CompiledFilter> filters;
  int sum_field = -1;
  bool count_all = false;  // some share indicator needs the denominator
  bool hours = false;
  // SPEC 8.3: kept per neighbourhood as well as per municipality (the
  // municipality rows count every event, the neighbourhood rows those that
  // name a neighbourhood).
  bool neighbourhood = false;
  TimeMs bucket_ms = kMsPerDay;
  int64_t retention = 0;  // buckets kept
  std::vector<int> indicators;
  std::vector<int> rules;             // rules reading an indicator of this series
  std::vector<int> share_rules;       // rules reading a share indicator of it (an event
                                      // that fails the filter still updates those)
  std::vector<int> share_indicators;  // its share indicators
};

struct IndicatorDef {
  int index = 0;  // == position in Plan::indicators, == RuleSet indicator index
  const rules::IndicatorSpec* spec = nullptr;
  std::string key;     // "pack/indicator"
  int series = -1;     // -1 for reference indicators
  int64_t window = 0;  // buckets
  int windows = 1;     // 5 when trend_ratio is read (current + 4 previous)
  rules::Aggregate aggregate = rules::Aggregate::kCount;
  double per = 1000;
  int reference = -1;  // index into Plan::reference_values
  // What it is compared with (SPEC 8.1). For peers: the group of each
  // municipality (dense ids of the column's values), -1 without a value.
  rules::BaselineKind baseline = rules::BaselineKind::kNational;
  std::vector<int> peer_group;  // per neighbourhood for neighbourhood indicators
  // level: neighbourhood. Its national figures are pooled over neighbourhoods
  // and indexed by neighbourhood.
  bool neighbourhood = false;
  // yoy_ratio: the window this many buckets earlier is kept too (0: not read).
  int64_t yoy_lag = 0;
  bool uses_q = false;  // q_value is read: rank p-values per national update
  // (rule, condition) pairs that read this indicator.
  std::vector<std::pair<int, int>> conditions;
};

struct RuleDef {
  const rules::RuleSpec* spec = nullptr;
  std::string pack;
  std::vector<int> condition_indicator;
  std::vector<int> series;     // distinct series behind its indicators (evidence)
  bool neighbourhood = false;  // evaluated per neighbourhood (its indicators are)
  bool reads_parent = false;   // a condition reads municipality_ratio
  int condition_base = 0;      // index of its first condition among all rules' conditions
};

// Values of the reference (table) indicators per municipality.
struct ReferenceValues {
  std::string path;
  std::string column;
  std::vector<std::optional<double>> by_municipality;
};

struct PlanOptions {
  TimeMs allowed_lateness_ms = kMsPerDay;  // SPEC default 1d
  // Extra buckets of history beyond what the windows need (default 2).
  int64_t slack_buckets = 2;
  // CBS buurten (SPEC 8.3; default none). Required by neighbourhood indicators.
  NeighbourhoodTablePtr neighbourhoods;
  // Municipal mergers (SPEC 8.3; default none), against the municipality
  // table the plan is built with (reference::MergerTable::Extend).
  std::vector<reference::MergerStep> mergers;
};

class Plan {
 public:
  static Result<std::shared_ptr<const Plan>> Build(
      const std::shared_ptr<const rules::RuleSet>& rule_set,
      const MunicipalityTablePtr& municipalities, const PlanOptions& options = {});

  const rules::RuleSet& rule_set() const { return *rule_set_; }
  const std::shared_ptr<const rules::RuleSet>& rule_set_ptr() const { return rule_set_; }
  const MunicipalityTable& municipalities() const { return *municipalities_; }
  const MunicipalityTablePtr& municipalities_ptr() const { return municipalities_; }
  // Null when no neighbourhood table is loaded.
  const NeighbourhoodTable* neighbourhoods() const { return options_.neighbourhoods.get(); }
  const NeighbourhoodTablePtr& neighbourhoods_ptr() const { return options_.neighbourhoods; }
  // Populations of the units an indicator's national figures range over:
  // municipalities, or neighbourhoods for neighbourhood indicators.
  const std::vector<int64_t>& populations(bool neighbourhood) const {
    return populations_[neighbourhood ? 1 : 0];
  }
  bool uses_neighbourhoods() const { return uses_neighbourhoods_; }
  const std::shared_ptr<const SchemaRegistry>& schemas() const { return schemas_; }
  const std::vector<SeriesDef>& series() const { return series_; }
  const std::vector<IndicatorDef>& indicators() const { return indicators_; }
  const std::vector<RuleDef>& rules() const { return rules_; }
  const std::vector<ReferenceValues>& references() const { return references_; }
  // Series fed by events of a type.
  const std::vector<int>& series_of_type(int type) const {
    return series_by_type_[static_cast<size_t>(type)];
  }
  const PlanOptions& options() const { return options_; }
  bool uses_hours() const { return uses_hours_; }
  // Conditions over all rules (RuleDef::condition_base indexes into this range).
  int total_conditions() const { return total_conditions_; }

  // --- Municipal mergers (SPEC 8.3) ---
  const std::vector<reference::MergerStep>& mergers() const { return options_.mergers; }
  // The step a municipality is merged away in / created by (-1: none).
  int step_merging(int municipality) const {
    return merged_in_.empty() ? -1 : merged_in_[static_cast<size_t>(municipality)];
  }
  int step_creating(int municipality) const {
    return created_by_.empty() ? -1 : created_by_[static_cast<size_t>(municipality)];
  }
  // The municipality a code ends up in after every merger (itself if none):
  // all of them share a partition, so that a merger folds partition-local.
  int final_of(int municipality) const {
    return final_of_.empty() ? municipality : final_of_[static_cast<size_t>(municipality)];
  }
  // final_of() of every municipality; empty without mergers.
  const std::vector<int>& final_codes() const { return final_of_; }
  // The partition (of `partitions`) a municipality's state lives in: its
  // final code's, murmur2 as Kafka keys it.
  int PartitionOf(int municipality, int partitions) const;
  // A code's population once its merger is done: its own row (if it had one
  // before) plus its old codes' (SPEC 8.3; a file that already lists only the
  // new code gives its row, one that predates the merger the sum), so that
  // the national population is unchanged by a merger.
  int64_t merged_population(int municipality) const {
    return merged_population_.empty() ? populations_[0][static_cast<size_t>(municipality)]
                                      : merged_population_[static_cast<size_t>(municipality)];
  }
  // Whether national figures at a final bucket count a merger as done: from
  // the first final bucket a partition whose clock entered the effective day
  // compares with (so readers on and after the day see the merged country).
  bool MergerInForce(int step, int64_t final_bucket, bool hours, int lag_days) const;
  // Populations the national figures at a final bucket pool: a merged-away
  // code counts no longer, a new code (not in the municipalities file) only
  // from its day. Null when no merger applies (use populations(false)).
  std::shared_ptr<const std::vector<int64_t>> NationalPopulations(int64_t final_bucket, bool hours,
                                                                  int lag_days) const;

 private:
  void IndexMergers();

  std::shared_ptr<const rules::RuleSet> rule_set_;
  MunicipalityTablePtr municipalities_;
  std::shared_ptr<const SchemaRegistry> schemas_;
  std::vector<SeriesDef> series_;
  std::vector<IndicatorDef> indicators_;
  std::vector<RuleDef> rules_;
  std::vector<ReferenceValues> references_;
  std::vector<std::vector<int>> series_by_type_;
  PlanOptions options_;
  bool uses_hours_ = false;
  bool uses_neighbourhoods_ = false;
  int total_conditions_ = 0;
  std::vector<int64_t> populations_[2];
  std::vector<int> merged_in_, created_by_, final_of_;  // empty without mergers
  std::vector<int64_t> merged_population_;
  bool mergers_fold_ = false;  // some merger has old codes with rows (not only aliases)
};

using PlanPtr = std::shared_ptr<const Plan>;

}  // namespace zicht::engine
