// Rule tests (`zicht rules test`): load a test file, run each case, report.
#include "zicht/tools/rule_test.h"

#include <fmt/format.h>

#include "case_runner.h"
#include "test_file_parser.h"
#include "zicht/base/file.h"

namespace zicht::tools {

using rule_test::CaseRunner;
using rule_test::TestCase;
using rule_test::TestFileParser;

bool RuleTestFileResult::passed() const {
  return errors.empty() && failed_cases() == 0;
}

int RuleTestFileResult::failed_cases() const {
  int n = 0;
  for (const RuleTestCaseResult& c : cases) n += c.passed ? 0 : 1;
  return n;
}

RuleTestFileResult RunRuleTestFile(const std::string& path, const RuleTestOptions& options) {
  RuleTestFileResult result;
  result.file = path;
  yaml::Diagnostics errors(path);
  auto text = ReadFileToString(path, 16u << 20);
  if (!text.ok()) {
    result.errors.push_back(fmt::format("{}:1:1: {}", path, text.status().message()));
    return result;
  }
  auto take = [&] {
    for (const Diagnostic& d : errors.Take()) result.errors.push_back(d.ToString());
  };
  YAML::Node root = yaml::LoadDocument(*text, "rule test file", errors);
  if (!root.IsDefined()) {
    take();
    return result;
  }
  TestFileParser parser(path, options, &errors);
  std::vector<TestCase> cases;
  try {
    if (parser.LoadHeader(root)) cases = parser.ParseCases();
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on malformed node access; report rather than crash.
    errors.Error(errors.Mark(std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1), e.msg);
  }
  if (!errors.empty()) {
    take();
    return result;
  }
  CaseRunner runner(parser.plan(), parser.allowed_lateness(), options);
  for (const TestCase& c : cases) result.cases.push_back(runner.Run(c));
  return result;
}

std::string FormatRuleTestResult(const RuleTestFileResult& result) {
  std::string out = result.file + "\n";
  if (!result.errors.empty()) {
    out += "  invalid test file:\n";
    for (const std::string& e : result.errors) out += "  " + e + "\n";
    return out;
  }
  for (const RuleTestCaseResult& c : result.cases) {
    out += fmt::format("  {}  {} (line {}; {} events, {} alert{}{})\n", c.passed ? "PASS" : "FAIL",
                       c.name, c.line, c.events, c.alerts, c.alerts == 1 ? "" : "s",
                       c.ignored_alerts > 0
                           ? fmt::format(", {} before ignore_alerts_before", c.ignored_alerts)
                           : "");
    if (!c.passed) out += c.failure + "\n";
  }
  const int failed = result.failed_cases();
  out += fmt::format("  {} passed, {} failed\n", static_cast<int>(result.cases.size()) - failed,
                     failed);
  return out;
}

}  // namespace zicht::tools
