// The alerts a case received, read back from their JSON, and how they are
// compared with the case's expectations and described in a failure report.
#pragma once

#include <simdjson.h>

#include "test_case.h"

namespace zicht::tools::rule_test {

struct GotCondition {
  std::string id, indicator, measure, op, window;
  double value = 0;
  std::optional<double> observed;
  std::optional<double> expected;
  int64_t count = 0;
  bool held = false;
};

struct GotAlert {
  std::string rule, pack, severity, municipality, municipality_name, event_time_text;
  TimeMs event_time = 0;
  double score = 0;
  std::vector<GotCondition> conditions;
  std::vector<std::string> evidence;
};

struct GotDeadLetter {
  std::string reason, detail, source, id;
};

Result<GotAlert> ParseAlert(simdjson::dom::parser& parser, const std::string& json);
// A number as the report prints it: 6 significant digits, +Inf/-Inf.
std::string Num(double v);
std::string DescribeAlert(const GotAlert& a);
std::string DescribeExpectation(const AlertExpectation& x, const MunicipalityTable& table);
bool InRange(TimeMs t, TimeMs from, TimeMs to);
// The rule, pack, municipality and time of the alert are the expected ones.
bool FilterMatches(const AlertExpectation& x, const GotAlert& a);
bool NoAlertMatches(const NoAlertExpectation& x, const GotAlert& a);
// Why an alert that passes the filter fails the expectation's checks ("" = it passes).
std::string CheckAlert(const AlertExpectation& x, const GotAlert& a);

}  // namespace zicht::tools::rule_test
