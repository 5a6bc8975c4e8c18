// `zicht rules test FILE...`: runs analyst-written rule test files (format in
// docs/rules.md); a line per case, a diff for failures, exit 1 on any failure
// or invalid file.
#include <fmt/format.h>

#include <cstdio>

#include "zicht/cli/commands.h"
#include "zicht/tools/rule_test.h"

namespace zicht::cli {

using tools::FormatRuleTestResult;
using tools::RuleTestFileResult;
using tools::RunRuleTestFile;

int RulesTestCommand(const std::vector<std::string>& files) {
  if (files.empty()) {
    fmt::print(stderr, "zicht rules test: no test files given\n");
    return 2;
  }
  int cases = 0, failed = 0, invalid = 0;
  for (const std::string& file : files) {
    RuleTestFileResult result = RunRuleTestFile(file);
    const std::string report = FormatRuleTestResult(result);
    std::FILE* out = result.errors.empty() ? stdout : stderr;
    std::fflush(stdout);
    std::fputs(report.c_str(), out);
    std::fflush(out);
    cases += static_cast<int>(result.cases.size());
    failed += result.failed_cases();
    invalid += result.errors.empty() ? 0 : 1;
  }
  fmt::print(
      "zicht rules test: {} file{}, {} case{}: {} passed, {} failed{}\n", files.size(),
      files.size() == 1 ? "" : "s", cases, cases == 1 ? "" : "s", cases - failed, failed,
      invalid > 0 ? fmt::format(", {} invalid file{}", invalid, invalid == 1 ? "" : "s") : "");
  return failed > 0 || invalid > 0 ? 1 : 0;
}

}  // namespace zicht::cli
