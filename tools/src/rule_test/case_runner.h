// CaseRunner: one test case on a fresh engine (real RocksDB in a temporary
// directory): the background and the events in time order, evaluations at
// the given times, then the comparison with what the case expects.
#pragma once

#include "alert_check.h"
#include "test_case.h"
#include "zicht/connectors/record_sink.h"

namespace zicht::tools::rule_test {

class CaseRunner {
 public:
  CaseRunner(const PlanPtr& plan, TimeMs allowed_lateness, const RuleTestOptions& options)
      : plan_(plan), allowed_lateness_(allowed_lateness), options_(options) {}

  RuleTestCaseResult Run(const TestCase& c);

 private:
  Status Feed(const TestCase& c, const std::vector<EventItem>& events,
              connectors::MemorySink* alerts, connectors::MemorySink* dead_letters);
  // The failure report ("" when everything expected was received and nothing else).
  std::string Compare(const TestCase& c, const std::vector<GotAlert>& got,
                      const std::vector<GotDeadLetter>& dead);

  PlanPtr plan_;
  TimeMs allowed_lateness_;
  const RuleTestOptions& options_;
};

}  // namespace zicht::tools::rule_test
