// PackParser: one rule pack's YAML into a RulePack, every error reported with
// its file:line:column and all of them at once. Internal to rules/: the
// loader (loader.cc) drives it; its parts live in pack_parser.cc (top level,
// metadata, events), indicator_parser.cc and rule_parser.cc.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zicht/base/csv.h"
#include "zicht/base/text.h"
#include "zicht/rules/loader.h"
#include "zicht/yaml/diagnostics.h"
#include "zicht/yaml/map_view.h"

namespace zicht::rules::parse {

using yaml::Bool;
using yaml::Closest;
using yaml::DidYouMean;
using yaml::DurationOf;
using yaml::Entry;
using yaml::Enum;
using yaml::Integer;
using yaml::IsListOrEmpty;
using yaml::IsMap;
using yaml::JoinNames;
using yaml::Keys;
using yaml::KindOf;
using yaml::MapView;
using yaml::Number;
using yaml::ParseBool;
using yaml::ParseInteger;
using yaml::ParseNumber;
using yaml::Text;

// The diagnostics of one pack and the options it is loaded with.
struct Ctx : yaml::Diagnostics {
  Ctx(std::string file, const LoadOptions* load_options)
      : yaml::Diagnostics(std::move(file)), options(load_options) {}
  const LoadOptions* options;
};

inline constexpr std::string_view kApiVersion = "zicht/v1";
inline constexpr size_t kMaxIdLength = 128;
// The envelope (SPEC 2; the optional neighbourhood, 8.3): the decoder reads
// these for every type, so a pack cannot declare them as its own fields.
inline constexpr std::string_view kEnvelopeFields[] = {"type", "id", "time", "municipality",
                                                       "neighbourhood"};

// User text inside a message: one readable line whatever the input.
inline std::string Show(std::string_view s) {
  return PrintableText(s);
}

inline std::string FormatMs(TimeMs ms) {
  if (ms % kMsPerDay == 0) return fmt::format("{}d", ms / kMsPerDay);
  if (ms % kMsPerHour == 0) return fmt::format("{}h", ms / kMsPerHour);
  if (ms % kMsPerMinute == 0) return fmt::format("{}m", ms / kMsPerMinute);
  if (ms % kMsPerSecond == 0) return fmt::format("{}s", ms / kMsPerSecond);
  return fmt::format("{}ms", ms);
}

// Indicator, rule and condition ids: [a-z0-9][a-z0-9_-]*.
inline bool IsId(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdLength) return false;
  auto ok = [](char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (!first && (c == '_' || c == '-'));
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (!ok(s[i], i == 0)) return false;
  }
  return true;
}

// metadata.name: a DNS label (RFC 1123): [a-z0-9]([a-z0-9-]*[a-z0-9])?, ≤ 63.
inline bool IsDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// Event type names: [a-z][a-z0-9_]* (like the built-in ones).
inline bool IsTypeName(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdLength || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Field names are JSON keys of events: [A-Za-z_][A-Za-z0-9_]*.
inline bool IsFieldName(std::string_view s) {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (s.empty() || s.size() > kMaxIdLength || !alpha(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

inline constexpr yaml::Named<Aggregate> kAggregates[] = {{"count", Aggregate::kCount},
                                                         {"sum", Aggregate::kSum},
                                                         {"mean", Aggregate::kMean},
                                                         {"share", Aggregate::kShare},
                                                         {"value", Aggregate::kValue}};
inline constexpr yaml::Named<Measure> kMeasures[] = {
    {"value", Measure::kValue},
    {"rate", Measure::kRate},
    {"national_ratio", Measure::kNationalRatio},
    {"national_zscore", Measure::kNationalZscore},
    {"poisson_p", Measure::kPoissonP},
    {"percentile", Measure::kPercentile},
    {"trend_ratio", Measure::kTrendRatio},
    {"binomial_p", Measure::kBinomialP},
    {"funnel_z", Measure::kFunnelZ},
    {"shrunk_ratio", Measure::kShrunkRatio},
    {"q_value", Measure::kQValue},
    {"yoy_ratio", Measure::kYoyRatio},
    {"municipality_ratio", Measure::kMunicipalityRatio}};
inline constexpr yaml::Named<Level> kLevels[] = {{"municipality", Level::kMunicipality},
                                                 {"neighbourhood", Level::kNeighbourhood}};
inline constexpr yaml::Named<Op> kOps[] = {{">=", Op::kGe}, {">", Op::kGt},  {"<=", Op::kLe},
                                           {"<", Op::kLt},  {"==", Op::kEq}, {"!=", Op::kNe}};
inline constexpr yaml::Named<Severity> kSeverities[] = {{"info", Severity::kInfo},
                                                        {"low", Severity::kLow},
                                                        {"medium", Severity::kMedium},
                                                        {"high", Severity::kHigh},
                                                        {"critical", Severity::kCritical}};
inline constexpr yaml::Named<FieldType> kFieldTypes[] = {
    {"string", FieldType::kString}, {"number", FieldType::kNumber}, {"bool", FieldType::kBool}};

// What later parts need to know about an indicator, also when it had errors
// (so that a bad indicator does not make every rule that reads it fail too).
struct IndicatorInfo {
  size_t index = 0;  // into RulePack::indicators
  bool aggregate_known = false;
  SourceMark id_mark;
  std::optional<SourceMark> window_mark;  // set when the window is valid
};

class PackParser {
 public:
  PackParser(Ctx& ctx, RulePack* pack) : ctx_(ctx), pack_(*pack) {}

  void Parse(const YAML::Node& root);

 private:
  void ParseMetadata(const Entry& meta);

  // --- events -------------------------------------------------------------

  void ParseEvents(const Entry& list);

  std::optional<FieldSpec> ParseField(const Entry& e);

  static bool IsBuiltin(std::string_view type);

  void BuildTypeIndex();

  // --- indicators ---------------------------------------------------------

  void ParseIndicators(const Entry& list);

  void ParseIndicator(const YAML::Node& item);

  void ParseEventIndicator(const MapView& m, const std::string& what,
                           std::optional<Aggregate> aggregate, IndicatorSpec* spec,
                           IndicatorInfo* info);

  static SourceMark agg_mark(const MapView& m);

  const FieldSpec* FindField(const EventTypeSpec& type, std::string_view name,
                             const SourceMark& mark);

  std::optional<FilterClause> ParseClause(const Entry& clause, const EventTypeSpec* type);

  void ParseSource(const Entry& src, ReferenceSource* out);

  // `baseline: national | leave_one_out | {peers: COLUMN}`.
  void ParseBaseline(const Entry& e, Baseline* out);

  // Relative paths: the working directory, then reference_base_dir, then the
  // pack's own directory.
  std::optional<std::string> ResolveReference(const std::string& file,
                                              std::vector<std::string>* tried);

  // --- rules --------------------------------------------------------------

  void ParseRules(const Entry& list);

  void ParseRule(const YAML::Node& item, std::map<std::string, int>* first_line);

  // Returns the mark of at_least's value, checked once the conditions are counted.
  std::optional<SourceMark> ParseMatch(const Entry& match, RuleSpec* rule);

  void ParseCondition(const YAML::Node& node, ConditionSpec* cond, SourceMark* id_mark,
                      std::map<std::string, int>* seen_ids);

  void CheckOneLevel(const RuleSpec& rule, const std::string& what);
  void ParseScore(const MapView& score, const std::vector<SourceMark>& id_marks, RuleSpec* rule);

  bool IndicatorIdSeen(std::string_view id) const;

  // --- history ------------------------------------------------------------

  void CheckHistory();

  static constexpr std::string_view kIdRule =
      "use lowercase letters, digits, '_' and '-', starting with a letter or digit";

  Ctx& ctx_;
  RulePack& pack_;
  std::map<std::string, const EventTypeSpec*, std::less<>> types_;
  std::map<std::string, IndicatorInfo, std::less<>> indicators_;
  // Indicator id -> the first rule that reads its trend_ratio / yoy_ratio.
  std::map<std::string, std::string> trend_users_;
  std::map<std::string, std::string> yoy_users_;
  std::string current_rule_hint_;  // id of the rule being parsed, for messages
};

}  // namespace zicht::rules::parse
