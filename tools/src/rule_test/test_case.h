// The rule-test file model: a test case's events, evaluation times and the
// alerts and dead letters it expects, as TestFileParser reads them from YAML
// and CaseRunner runs them. Internal to tools/.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "zicht/base/time.h"
#include "zicht/engine/plan.h"
#include "zicht/tools/rule_test.h"
#include "zicht/yaml/diagnostics.h"
#include "zicht/yaml/map_view.h"

namespace zicht::tools::rule_test {

namespace fs = std::filesystem;

using engine::Municipality;
using engine::MunicipalityTable;
using engine::Plan;
using engine::PlanOptions;
using engine::PlanPtr;
using engine::RuleDef;
using yaml::DidYouMean;
using yaml::Entry;
using yaml::JoinNames;
using yaml::KindOf;
using yaml::MapView;

inline constexpr TimeMs kMaxTime = INT64_MAX / 4;
inline constexpr std::string_view kDefaultMunicipalities = "config/reference/municipalities.csv";

struct EventItem {
  TimeMs sort_time = kMinTime;  // event time, or that of the event before it
  std::string json;
  std::string source;  // file name for dead-letter sources
  int64_t line = 0;
};

struct BackgroundSpec {
  int line = 0;
  std::string type;
  double per_1000_per_day = 0;
  TimeMs from = 0, to = 0;  // [from, to)
  // Field name -> JSON values, taken in turn by consecutive events.
  std::vector<std::pair<std::string, std::vector<std::string>>> fields;
  std::vector<bool> include;  // per municipality
};

struct ConditionCheck {
  std::string id, indicator, measure;
  std::optional<bool> held;
  std::optional<double> observed_ge, observed_gt, observed_le, observed_lt;
  std::optional<int64_t> count, count_ge, count_le;
};

struct AlertExpectation {
  int line = 0;
  std::string rule, pack, municipality;
  TimeMs from = kMinTime, to = kMaxTime;
  std::optional<int64_t> count;
  std::string severity;
  std::optional<double> score_ge, score_le;
  std::vector<ConditionCheck> conditions;
  std::vector<std::string> evidence;
};

struct NoAlertExpectation {
  int line = 0;
  std::string rule, pack, municipality;
  TimeMs from = kMinTime, to = kMaxTime;
};

struct DeadLetterExpectation {
  int line = 0;
  std::string reason, id;
  std::optional<int64_t> count;
};

struct TestCase {
  std::string name;
  int line = 0;
  std::vector<BackgroundSpec> background;
  std::vector<EventItem> events;
  std::vector<TimeMs> eval_at;
  std::vector<AlertExpectation> expect_alerts;
  std::vector<NoAlertExpectation> expect_no_alerts;
  std::vector<DeadLetterExpectation> expect_dead_letters;
  bool ignore_other_alerts = false;
  // Alerts before this time are not compared (windows still filling up).
  TimeMs ignore_alerts_before = kMinTime;
};

// YAML -> JSON for events written in a test file. Plain scalars that read as
// JSON numbers, true/false or null keep that type; quoted ones are strings.
// `index` >= 0 replaces "{i}" in strings (repeated events).
void AppendJson(const YAML::Node& n, int64_t index, std::string* out);
// A JSON string literal.
std::string JsonString(std::string_view s);

// A scalar or a non-empty list of scalars, with their nodes.
std::vector<YAML::Node> ScalarList(yaml::Diagnostics& d, const Entry& e);
// A positive duration in milliseconds.
std::optional<TimeMs> DurationMs(yaml::Diagnostics& d, const Entry& e);

}  // namespace zicht::tools::rule_test
