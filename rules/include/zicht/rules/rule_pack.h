// The rule-pack data model (SPEC section 4): event types, indicators, rules.
// Produced by the loader (loader.h) and consumed by the engine; plain data.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "zicht/base/diagnostic.h"
#include "zicht/base/time.h"

namespace zicht::rules {

// Where a YAML node came from, for file:line:column messages (1-based).
using SourceMark = zicht::SourceMark;

enum class FieldType : uint8_t { kString, kNumber, kBool };

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::kString;
  std::vector<std::string> values;  // allowed values (strings only); empty = any
  bool optional = false;
  SourceMark mark;
};

struct EventTypeSpec {
  std::string type;
  std::vector<FieldSpec> fields;  // declared fields, envelope excluded
  bool builtin = false;
  SourceMark mark;
};

// The four built-in event types of SPEC section 2, known to every pack.
const std::vector<EventTypeSpec>& BuiltinEventTypes();

enum class Aggregate : uint8_t { kCount, kSum, kMean, kShare, kValue };

// A `where` filter value: YAML scalars keep their text; the engine matches
// them against the declared field type (string equality, number, bool).
struct FilterClause {
  std::string field;
  std::vector<std::string> values;  // membership: the field equals one of these
  SourceMark mark;
};

// Window of an event indicator: N UTC days or N UTC hours.
struct Window {
  int64_t count = 0;
  bool hours = false;  // false: day buckets, true: hour buckets
  TimeMs ms() const { return count * (hours ? kMsPerHour : kMsPerDay); }
  std::string ToString() const;
};

// A figure per municipality read from a CSV table (SPEC section 4).
struct ReferenceSource {
  std::string file;    // as written in the pack
  std::string path;    // resolved path the engine reads
  std::string column;  // value column; the table also has a `municipality` column
};

// What an indicator is compared with (SPEC section 8.1).
enum class BaselineKind : uint8_t { kNational, kLeaveOneOut, kPeers };

struct Baseline {
  BaselineKind kind = BaselineKind::kNational;
  std::string column;  // kPeers: a column of the municipalities file
  SourceMark mark;     // of the `baseline` value; empty when not written
  // "national", "leave_one_out" or "peers:COLUMN" (as explanations name it).
  std::string ToString() const;
};

// Where an indicator's windows are kept (SPEC 8.3): per municipality, or per
// neighbourhood as well (its rules are evaluated per neighbourhood).
enum class Level : uint8_t { kMunicipality, kNeighbourhood };

struct IndicatorSpec {
  std::string id;
  std::string title;
  std::string event;  // event type (empty for reference indicators)
  Aggregate aggregate = Aggregate::kCount;
  std::vector<FilterClause> where;
  std::string field;  // for sum and mean
  Window window;
  double per = 1000;                      // rate per N inhabitants
  std::optional<ReferenceSource> source;  // set for reference indicators
  Baseline baseline;                      // default: national
  // SPEC 8.3: `level: neighbourhood` keeps windows per CBS buurt too.
  Level level = Level::kMunicipality;
  SourceMark level_mark;
  SourceMark mark;

  bool is_reference() const { return source.has_value(); }
};

enum class Measure : uint8_t {
  kValue,
  kRate,
  kNationalRatio,
  kNationalZscore,
  kPoissonP,
  kPercentile,
  kTrendRatio,
  // SPEC section 8.2.
  kBinomialP,
  kFunnelZ,
  kShrunkRatio,
  kQValue,
  kYoyRatio,
  kMunicipalityRatio,  // the last one: code that lists every measure iterates up to it
};

// yoy_ratio compares with the same window 364 days (52 weeks) earlier, for
// windows up to 92 days.
inline constexpr int64_t kYoyLagDays = 364;
inline constexpr int64_t kYoyMaxWindowDays = 92;

enum class Op : uint8_t { kGe, kGt, kLe, kLt, kEq, kNe };

enum class Severity : uint8_t { kInfo, kLow, kMedium, kHigh, kCritical };

struct ConditionSpec {
  std::string id;  // optional unless the rule uses `score`
  std::string indicator;
  Measure measure = Measure::kValue;
  Op op = Op::kGe;
  double value = 0;
  SourceMark mark;
};

enum class MatchKind : uint8_t { kAll, kAny, kAtLeast, kScore };

struct RuleSpec {
  std::string id;
  std::string title;
  Severity severity = Severity::kMedium;
  MatchKind match = MatchKind::kAll;
  int at_least = 0;                       // for kAtLeast
  std::map<std::string, double> weights;  // for kScore: condition id -> weight
  double alert_at = 0;                    // for kScore
  std::vector<ConditionSpec> conditions;
  // For kScore: the weight of conditions[i], so that Combine needs no lookup.
  // Filled by the loader and BuildRuleSet from `weights`.
  std::vector<double> condition_weights;
  int64_t min_events = 0;
  TimeMs for_ms = 0;
  TimeMs cooldown_ms = kMsPerDay;  // SPEC default 1d
  std::map<std::string, std::string> labels;
  std::string version;  // hash of the normalised rule and the indicators it reads
  SourceMark mark;
};

struct RulePack {
  std::string api_version;                      // zicht/v1
  std::string name;                             // metadata.name
  std::string theme;                            // metadata.theme
  std::map<std::string, std::string> metadata;  // everything under metadata, as text
  std::vector<EventTypeSpec> events;            // declared by this pack (built-ins not repeated)
  std::vector<IndicatorSpec> indicators;
  std::vector<RuleSpec> rules;
  std::string file;     // where it was loaded from
  std::string version;  // hash of the whole normalised pack
  SourceMark mark;      // of metadata.name, for messages about the pack as a whole
};

std::string_view AggregateName(Aggregate a);
std::string_view MeasureName(Measure m);
std::string_view OpName(Op op);  // ">=", ">", "<=", "<", "==", "!="
std::string_view SeverityName(Severity s);
std::string_view FieldTypeName(FieldType t);
std::string_view MatchKindName(MatchKind m);  // "all", "any", "at_least", "score"

// Canonical text of what changes behaviour or output (no titles, no marks,
// no YAML formatting or key order; numbers in shortest round-trip form; map-like
// parts sorted). Versions are SHA-256 prefixes of these texts.
std::string CanonicalText(const EventTypeSpec& type);
std::string CanonicalText(const IndicatorSpec& indicator);
// The rule itself plus the pack name and the indicators it reads (looked up in
// `pack` by id; an id not found there is written as such).
std::string CanonicalText(const RuleSpec& rule, const RulePack& pack);

// Fills RuleSpec::condition_weights, RuleSpec::version and RulePack::version.
// Idempotent; the loader calls it on every valid pack.
void FinalizePack(RulePack* pack);

// Applies op to (observed, threshold).
inline bool ApplyOp(Op op, double observed, double threshold) {
  switch (op) {
    case Op::kGe:
      return observed >= threshold;
    case Op::kGt:
      return observed > threshold;
    case Op::kLe:
      return observed <= threshold;
    case Op::kLt:
      return observed < threshold;
    case Op::kEq:
      return observed == threshold;
    case Op::kNe:
      return observed != threshold;
  }
  return false;
}

}  // namespace zicht::rules
