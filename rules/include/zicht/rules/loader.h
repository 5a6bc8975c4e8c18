// Loading and validating rule packs: YAML (yaml-cpp) with source marks, every
// error reported as file:line:column, all errors at once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zicht/rules/rule_pack.h"

namespace zicht::rules {

// "file:line:column: message" (zicht/base/diagnostic.h).
using Diagnostic = zicht::Diagnostic;

struct LoadOptions {
  // Longest history kept per series of buckets (default 1830d = 5 x 366d, so a
  // one-year window can use trend_ratio; the SPEC example needs 5 x 90d = 450d).
  // A window, or five windows for trend_ratio, longer than this does not validate.
  TimeMs retention_ms = 1830 * kMsPerDay;
  size_t max_pack_bytes = 4u << 20;  // refuse larger files (default 4 MiB)
  size_t max_rules = 1000;           // per pack (default 1000)
  size_t max_indicators = 1000;      // per pack (default 1000)
  size_t max_conditions = 64;        // per rule (default 64)
  // Directory tried after the working directory for relative reference files;
  // empty = the pack's own directory.
  std::string reference_base_dir;
  // Columns of the municipalities file the engine will run with; when set, a
  // `baseline: {peers: COLUMN}` naming another column does not validate.
  // Unset (offline checks without a table): any column name is accepted here
  // and the engine checks it when it builds its plan.
  std::optional<std::vector<std::string>> municipality_columns;
};

struct PackLoadResult {
  std::optional<RulePack> pack;  // set only when there are no errors
  std::vector<Diagnostic> errors;
};

PackLoadResult LoadRulePackFile(const std::string& path, const LoadOptions& options = {});
// `file_name` is used in marks and messages.
PackLoadResult LoadRulePackText(std::string_view yaml, const std::string& file_name,
                                const LoadOptions& options = {});

// The packs the engine runs, validated together, with global indices.
// Immutable once built and shared as shared_ptr<const RuleSet>; not copyable
// because indicators() and rules() point into its own packs().
class RuleSet {
 public:
  RuleSet() = default;
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  struct Indicator {
    int pack = 0;  // index into packs()
    const IndicatorSpec* spec = nullptr;
    std::string key;          // "pack/indicator"
    bool uses_trend = false;  // some rule reads trend_ratio of it
    bool uses_yoy = false;    // some rule reads yoy_ratio of it
    // Some rule reads a measure ranked over all municipalities (q_value).
    bool uses_q = false;
    // Window; 5 windows when uses_trend; 364 days + window when uses_yoy.
    TimeMs history_ms = 0;
  };
  struct Rule {
    int pack = 0;
    const RuleSpec* spec = nullptr;
    std::vector<int> condition_indicator;  // per condition: index into indicators()
  };

  const std::vector<RulePack>& packs() const { return packs_; }
  // Built-in types first, then declared ones (a type declared by two packs must
  // be declared identically).
  const std::vector<EventTypeSpec>& event_types() const { return event_types_; }
  const std::vector<Indicator>& indicators() const { return indicators_; }
  const std::vector<Rule>& rules() const { return rules_; }
  // Index into event_types() / indicators(), or -1.
  int EventTypeIndex(std::string_view type) const;
  int IndicatorIndex(std::string_view pack_name, std::string_view indicator_id) const;
  // Hash over the pack versions, in load order.
  const std::string& version() const { return version_; }

 private:
  friend struct RuleSetBuilder;
  std::vector<RulePack> packs_;
  std::vector<EventTypeSpec> event_types_;
  std::vector<Indicator> indicators_;
  std::vector<Rule> rules_;
  std::string version_;
};

struct RuleSetLoadResult {
  std::shared_ptr<const RuleSet> rule_set;  // set only when there are no errors
  std::vector<Diagnostic> errors;
};

// Loads every pack and checks them together (conflicting event type
// declarations, two packs with the same name). Reports the errors of all packs.
RuleSetLoadResult LoadRuleSet(const std::vector<std::string>& paths,
                              const LoadOptions& options = {});
// Checks already loaded (or hand-built) packs together and builds the set;
// derived fields (condition weights, versions) are recomputed. A condition
// naming an indicator the pack lacks, or an indicator of an unknown event
// type, is an error here too.
RuleSetLoadResult BuildRuleSet(std::vector<RulePack> packs);

}  // namespace zicht::rules
