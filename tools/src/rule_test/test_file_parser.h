// TestFileParser: a rule-test file (docs/rules.md, "Testing rules") into test
// cases, validated against the packs under test and the municipality table;
// every error located at file:line:column. Its parts: test_file_parser.cc
// (the file, cases, ranges), event_parser.cc (events, backgrounds,
// evaluation times), expectation_parser.cc (expected alerts, dead letters).
#pragma once

#include "test_case.h"

namespace zicht::tools::rule_test {

class TestFileParser {
 public:
  // `diagnostics` receives every error; it outlives the parser.
  TestFileParser(const std::string& path, const RuleTestOptions& options,
                 yaml::Diagnostics* diagnostics);

  // Everything up to the plan; false when the file or its packs are invalid.
  bool LoadHeader(const YAML::Node& root);

  std::vector<TestCase> ParseCases();

  const PlanPtr& plan() const { return plan_; }
  TimeMs allowed_lateness() const { return allowed_lateness_; }

 private:
  std::string Resolve(const std::string& file) const;

  // The first config/reference/municipalities.csv above the test file, then
  // above the search directory; remembers the directory holding it (the
  // repository root) for reference tables named like config/reference/x.csv.
  std::string FindDefaultMunicipalities();

  int MunicipalityIndexOf(const std::string& code) const;

  // A CBS code or a municipality name -> the code ("" when unknown).
  std::string MunicipalityCode(const YAML::Node& node);

  const rules::EventTypeSpec* EventType(const std::string& type) const;

  // A rule by id (in `pack` when given): index into plan rules, or -1.
  int RuleIndex(const std::string& rule, const std::string& pack) const;

  bool CheckRule(const Entry* rule, const Entry* pack, std::string* rule_out,
                 std::string* pack_out);

  // from/to/at of an expectation (inclusive; a date covers its whole day).
  void ParseRange(const MapView& m, TimeMs* from, TimeMs* to);

  TestCase ParseCase(const YAML::Node& node, const std::vector<BackgroundSpec>& file_background);

  // The mappings of a list.
  std::vector<YAML::Node> Items(const Entry& e);

  std::vector<BackgroundSpec> ParseBackground(const Entry& e);

  // Events reach the engine as written, so a municipality written by name
  // would only be dead-lettered; say which code is meant instead.
  void CheckEventMunicipality(const YAML::Node& event);

  void AddEvent(std::string json, std::optional<TimeMs> time, int line,
                std::vector<EventItem>* out);

  void ParseEvents(const Entry& e, std::vector<EventItem>* out);

  // {repeat: N, every: 1d, event: {...}, cycle: {field: [values]}}
  void ParseRepeat(const YAML::Node& item, std::vector<EventItem>* out);

  void ReadEventsFile(const YAML::Node& node, std::vector<EventItem>* out);

  void ParseEvalAt(const Entry& e, std::vector<TimeMs>* out);

  ConditionCheck ParseConditionCheck(const YAML::Node& node, int rule);

  AlertExpectation ParseAlertExpectation(const YAML::Node& node);

  NoAlertExpectation ParseNoAlert(const YAML::Node& node);

  DeadLetterExpectation ParseDeadLetter(const YAML::Node& node);

  std::string path_;
  fs::path dir_;
  fs::path repo_root_;
  const RuleTestOptions& options_;
  yaml::Diagnostics* diag_;
  std::unique_ptr<MapView> root_;
  TimeMs allowed_lateness_ = kMsPerDay;
  PlanPtr plan_;
  std::map<std::string, std::string> municipality_by_name_;
};

}  // namespace zicht::tools::rule_test
