// Rule tests (`zicht rules test`): analyst-written YAML files that run rule
// packs on a fresh engine over given events and check the alerts they raise.
// The file format is documented in docs/rules.md ("Testing rules").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "zicht/base/time.h"

namespace zicht::tools {

struct RuleTestOptions {
  // Where the default municipality table (config/reference/municipalities.csv)
  // is looked for when a test file names none: the test file's directory and
  // its parents first, then this directory and its parents (empty = the
  // working directory).
  std::string search_dir;
  // `emitted_at` of every alert, so that runs are reproducible (default: the
  // Unix epoch, which no real alert has).
  TimeMs emitted_at = 0;
  // Refuse a case whose events (inline, files and background) exceed this
  // many (default 5 million): a mistyped rate should not exhaust memory.
  int64_t max_events = 5'000'000;
};

struct RuleTestCaseResult {
  std::string name;
  int line = 0;  // of the case in the test file
  bool passed = false;
  int64_t events = 0;          // records fed to the engine
  int64_t alerts = 0;          // compared with the expectations
  int64_t ignored_alerts = 0;  // before the case's ignore_alerts_before
  int64_t dead_letters = 0;
  // Why it failed: missing and unexpected alerts, failed checks, engine
  // errors; several lines, indented by four spaces. Empty when passed.
  std::string failure;
};

struct RuleTestFileResult {
  std::string file;
  // An invalid test file (or rule pack, or reference table): one
  // `file:line:column: message` per entry; no case ran.
  std::vector<std::string> errors;
  std::vector<RuleTestCaseResult> cases;

  bool passed() const;
  int failed_cases() const;
};

// Loads a test file, validates it against its rule packs and municipality
// table, and runs every case on its own engine (RocksDB state in a temporary
// directory).
RuleTestFileResult RunRuleTestFile(const std::string& path, const RuleTestOptions& options = {});

// The report `zicht rules test` prints for one file: a line per case (PASS or
// FAIL) and, for failures, the diff of expected and received alerts.
std::string FormatRuleTestResult(const RuleTestFileResult& result);

}  // namespace zicht::tools
