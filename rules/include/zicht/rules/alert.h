// The alert record of SPEC section 5 and its JSON form.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "zicht/rules/rule_pack.h"

namespace zicht::rules {

// One condition of a rule as evaluated, with its explanation.
struct ConditionOutcome {
  std::string id;
  std::string indicator;
  Measure measure = Measure::kValue;
  Op op = Op::kGe;
  double value = 0;                     // threshold
  std::optional<double> observed;       // the measure; empty when it cannot be computed
  int64_t count = 0;                    // events counted by the indicator in its window
  std::optional<double> expected;       // count/share indicators
  std::optional<double> rate;           // municipality rate (or share / mean / value)
  std::optional<double> national_rate;  // national rate (or share / mean / value)
  std::string window;                   // "90d"; empty for reference indicators
  // What expected and national_rate were computed against (SPEC 8.1):
  // "national", "leave_one_out" or "peers:COLUMN".
  std::string baseline = "national";
  bool held = false;
};

struct Alert {
  std::string alert_id;
  std::string rule;
  std::string rule_version;
  std::string pack;
  Severity severity = Severity::kMedium;
  std::string municipality;
  std::string municipality_name;
  // Rules on neighbourhood indicators (SPEC 8.3); empty otherwise.
  std::string neighbourhood;
  std::string neighbourhood_name;
  TimeMs event_time = 0;
  TimeMs emitted_at = 0;
  std::vector<ConditionOutcome> conditions;
  double score = 0;
  std::vector<std::string> evidence;  // at most 20 event ids, newest first
  std::map<std::string, std::string> labels;
};

// lowercase hex SHA-256 of "rule|rule_version|municipality|YYYY-MM-DD" (day of T);
// for a neighbourhood `municipality` is "GM0363/BU03630000" (SPEC 8.3).
std::string AlertId(std::string_view rule, std::string_view rule_version,
                    std::string_view municipality, TimeMs event_time);

// One JSON object, no trailing newline. Non-finite numbers become null
// (+inf trend ratios become the string "+Inf").
std::string AlertToJson(const Alert& alert);

}  // namespace zicht::rules
