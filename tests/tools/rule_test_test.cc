// Tests of the rule test runner (`zicht rules test`): passing and failing
// cases with the diff they print, every way a test file can be invalid, and
// the compact event forms (repeat, cycle, files, background).
#include "zicht/tools/rule_test.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "zicht/base/file.h"
#include "zicht/runtime/plan_loader.h"

namespace zicht::tools {
namespace {

namespace fs = std::filesystem;

const std::string kMunicipalities = ZICHT_SOURCE_DIR "/config/reference/municipalities.csv";

// A small pack with a type of its own: boxes per municipality in 10 days.
constexpr const char* kPack = R"(apiVersion: zicht/v1
kind: RulePack
metadata: { name: parcels }
events:
  - type: parcel
    fields:
      weight_kg: number
      kind: { type: string, values: [letter, box] }
indicators:
  - id: boxes
    event: parcel
    aggregate: count
    where: { kind: [box] }
    window: 10d
rules:
  - id: many-boxes
    severity: low
    conditions:
      - { indicator: boxes, measure: national_ratio, op: ">=", value: 3 }
      - { indicator: boxes, measure: poisson_p, op: "<=", value: 0.001 }
    min_events: 5
    cooldown: 30d
)";

// Every municipality sends a box or a letter now and then (half boxes).
constexpr const char* kHeader = R"(rule_files: [parcels.yaml]
municipalities: MUNICIPALITIES
background:
  - type: parcel
    per_1000_per_day: 0.02
    from: 2026-03-01
    to: 2026-03-31
    fields: { weight_kg: 2, kind: [box, letter] }
tests:
)";

// Tilburg (230k inhabitants, ~23 boxes in 10 days) gets 60 more on 20 March.
constexpr const char* kTilburgBoxes = R"(    events:
      - repeat: 60
        every: 10m
        event: { type: parcel, id: "tb-{i}", time: "2026-03-20T08:00:00Z", municipality: GM0855,
                 weight_kg: 12, kind: box }
)";

class RuleTestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TemporaryDirectory::Make("zicht-rule-test-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    Write("parcels.yaml", kPack);
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (fs::path(dir_.path()) / name).string();
    std::ofstream(path) << text;
    return path;
  }

  // A test file of the parcels pack: header, then the given cases.
  std::string WriteTest(const std::string& cases, const std::string& name = "parcels.test.yaml") {
    std::string header = kHeader;
    header.replace(header.find("MUNICIPALITIES"), 14, kMunicipalities);
    return Write(name, header + cases);
  }

  TemporaryDirectory dir_;
};

TEST_F(RuleTestTest, PassingFile) {
  const std::string path = WriteTest(std::string(R"(  - name: boxes pile up in Tilburg
)") + kTilburgBoxes + R"(    expect_alerts:
      - rule: many-boxes
        municipality: Tilburg
        at: 2026-03-20
        count: 1
        severity: low
        conditions:
          - { indicator: boxes, measure: national_ratio, held: true, observed_ge: 3 }
          - { indicator: boxes, measure: poisson_p, held: true, observed_le: 0.001, count_ge: 30 }
    expect_no_alerts:
      - { municipality: GM0363 }
  - name: no boxes, no alerts
    events:
      - { type: parcel, id: one, time: "2026-03-10T10:00:00Z", municipality: GM0855, weight_kg: 1, kind: letter }
    expect_no_alerts:
      - { rule: many-boxes }
)");
  RuleTestFileResult result = RunRuleTestFile(path);
  const std::string report = FormatRuleTestResult(result);
  ASSERT_TRUE(result.errors.empty()) << report;
  ASSERT_EQ(result.cases.size(), 2u);
  EXPECT_TRUE(result.passed()) << report;
  EXPECT_TRUE(result.cases[0].passed);
  EXPECT_EQ(result.cases[0].alerts, 1);
  EXPECT_EQ(result.cases[0].line, 10);
  EXPECT_GT(result.cases[0].events, 60);
  EXPECT_EQ(result.cases[1].alerts, 0);
  EXPECT_NE(report.find("  PASS  boxes pile up in Tilburg (line 10; "), std::string::npos)
      << report;
  EXPECT_NE(report.find("  2 passed, 0 failed"), std::string::npos) << report;
}

TEST_F(RuleTestTest, FailingCaseShowsMissingAndUnexpectedAlerts) {
  // The alert comes on 20 March, not on 25 March; and Amsterdam was not
  // expected to be quiet... it is, but an expectation for it is missing.
  const std::string path = WriteTest(std::string(R"(  - name: wrong day
)") + kTilburgBoxes + R"(    expect_alerts:
      - { rule: many-boxes, municipality: GM0855, at: 2026-03-25 }
      - { rule: many-boxes, municipality: GM0363, count: 1 }
)");
  RuleTestFileResult result = RunRuleTestFile(path);
  ASSERT_TRUE(result.errors.empty()) << FormatRuleTestResult(result);
  ASSERT_EQ(result.cases.size(), 1u);
  EXPECT_FALSE(result.passed());
  EXPECT_EQ(result.failed_cases(), 1);
  const std::string& f = result.cases[0].failure;
  EXPECT_NE(f.find("    missing alerts (expected, not received):\n"
                   "    - many-boxes GM0855 (Tilburg) on 2026-03-25  (line 17)\n"
                   "        no alert matched\n"
                   "        many-boxes fired for GM0855 at other times: 2026-03-20T"),
            std::string::npos)
      << f;
  EXPECT_NE(f.find("    - many-boxes GM0363 (Amsterdam), count 1  (line 18)\n"
                   "        matched 0 alerts, expected 1"),
            std::string::npos)
      << f;
  EXPECT_NE(f.find("    unexpected alerts (received, not expected):\n"
                   "    + many-boxes GM0855 (Tilburg) at 2026-03-20T"),
            std::string::npos)
      << f;
  // Every condition with its observed value, threshold and outcome.
  EXPECT_NE(f.find("score 1, severity low\n        boxes national_ratio >= 3: observed "),
            std::string::npos)
      << f;
  EXPECT_NE(f.find("        boxes poisson_p <= 0.001: observed "), std::string::npos) << f;
  EXPECT_NE(f.find(", held"), std::string::npos) << f;
  EXPECT_NE(f.find("    received 1 alert:\n      many-boxes GM0855 (Tilburg) at 2026-03-20T"),
            std::string::npos)
      << f;
  const std::string report = FormatRuleTestResult(result);
  EXPECT_NE(report.find("  FAIL  wrong day (line 10; "), std::string::npos) << report;
  EXPECT_NE(report.find("  0 passed, 1 failed"), std::string::npos) << report;
}

TEST_F(RuleTestTest, FailedChecksAreExplained) {
  const std::string path = WriteTest(std::string(R"(  - name: checks
)") + kTilburgBoxes + R"(    expect_alerts:
      - rule: many-boxes
        municipality: GM0855
        conditions:
          - { indicator: boxes, measure: poisson_p, observed_ge: 0.5 }
      - { rule: many-boxes, municipality: GM0855, severity: high }
      - { rule: many-boxes, municipality: GM0855, count: 2 }
  - name: forbidden
)" + kTilburgBoxes + R"(    expect_no_alerts:
      - { municipality: Tilburg, from: 2026-03-01, to: 2026-03-31 }
)");
  RuleTestFileResult result = RunRuleTestFile(path);
  ASSERT_EQ(result.cases.size(), 2u) << FormatRuleTestResult(result);
  const std::string& f = result.cases[0].failure;
  EXPECT_NE(f.find("but boxes poisson_p: observed "), std::string::npos) << f;
  EXPECT_NE(f.find(" is not >= 0.5"), std::string::npos) << f;
  EXPECT_NE(f.find("but severity low is not high"), std::string::npos) << f;
  EXPECT_NE(f.find("matched 1 alert, expected 2"), std::string::npos) << f;
  // An alert that matches an expectation's rule, municipality and time is
  // not also reported as unexpected.
  EXPECT_EQ(f.find("unexpected alerts"), std::string::npos) << f;
  const std::string& g = result.cases[1].failure;
  EXPECT_NE(g.find("    alerts that expect_no_alerts forbids:\n    + many-boxes GM0855 (Tilburg) "
                   "at 2026-03-20T"),
            std::string::npos)
      << g;
  EXPECT_NE(g.find("(expect_no_alerts at line 30)"), std::string::npos) << g;
}

TEST_F(RuleTestTest, RepeatedEventsCycleFieldsAndNumberIds) {
  // 6 boxes with ids b-1..b-6 every 2 hours, alternating weights; the event
  // b-3 is sent again from a file: a duplicate the case expects.
  Write(
      "extra.jsonl",
      "\n"
      R"({"type":"parcel","id":"b-3","time":"2026-03-20T05:00:00Z","municipality":"GM0088","weight_kg":1,"kind":"box"})"
      "\n"
      R"({"type":"parcel","id":"bad","time":"2026-03-20T06:00:00Z","municipality":"GM0088","weight_kg":"heavy","kind":"box"})"
      "\n");
  const std::string path = WriteTest(R"(  - name: repeat and cycle
    background: []
    events:
      - repeat: 6
        every: 2h
        event: { type: parcel, id: "b-{i}", time: "2026-03-20T00:00:00Z", municipality: GM0088, weight_kg: 1 }
        cycle: { kind: [box, letter], weight_kg: [1, 30] }
    events_file: extra.jsonl
    expect_dead_letters:
      - { reason: duplicate, id: b-3, count: 1 }
      - { reason: bad_type, count: 1 }
  - name: unexpected dead letter
    background: []
    events:
      - { type: parcel, id: x1, time: "2026-03-20T00:00:00Z", municipality: GM0088, weight_kg: "1", kind: box }
      - { type: parcel, id: x2, time: "2026-03-20T00:00:00Z", municipality: GM0088, weight_kg: 1, kind: crate }
)");
  RuleTestFileResult result = RunRuleTestFile(path);
  ASSERT_TRUE(result.errors.empty()) << FormatRuleTestResult(result);
  ASSERT_EQ(result.cases.size(), 2u);
  EXPECT_TRUE(result.cases[0].passed) << result.cases[0].failure;
  EXPECT_EQ(result.cases[0].events, 8);
  EXPECT_EQ(result.cases[0].dead_letters, 2);
  // A quoted number is a string, so the engine rejects it: the case says
  // which line of the test file the event came from.
  EXPECT_FALSE(result.cases[1].passed);
  const std::string& f = result.cases[1].failure;
  EXPECT_NE(
      f.find("    dead letters (test events the engine rejected):\n"
             "    + dead letter bad_type at parcels.test.yaml:24: weight_kg: expected number"),
      std::string::npos)
      << f;
  EXPECT_NE(f.find("    + dead letter bad_type at parcels.test.yaml:25: kind: "), std::string::npos)
      << f;
}

TEST_F(RuleTestTest, EvaluationTimesAndWarmUp) {
  // The alert of 20 March is before ignore_alerts_before; after the last
  // event the clock moves with eval_at only, and by then the boxes have left
  // the 10-day window: nothing more to compare.
  const std::string path = WriteTest(std::string(R"(  - name: clock moves on
)") + kTilburgBoxes + R"(    eval_at: [{ from: 2026-04-01, to: 2026-04-30, every: 1d }]
    ignore_alerts_before: 2026-03-21
    expect_no_alerts:
      - { rule: many-boxes }
)");
  RuleTestFileResult result = RunRuleTestFile(path);
  ASSERT_EQ(result.cases.size(), 1u) << FormatRuleTestResult(result);
  EXPECT_TRUE(result.cases[0].passed) << result.cases[0].failure;
  EXPECT_EQ(result.cases[0].ignored_alerts, 1);
  EXPECT_NE(FormatRuleTestResult(result).find("0 alerts, 1 before ignore_alerts_before"),
            std::string::npos);
}

TEST_F(RuleTestTest, SameFileSameReport) {
  const std::string path = WriteTest(std::string(R"(  - name: deterministic
)") + kTilburgBoxes + R"(    expect_alerts:
      - { rule: many-boxes, municipality: GM0855, at: 2026-03-21 }
)");
  const std::string first = FormatRuleTestResult(RunRuleTestFile(path));
  const std::string second = FormatRuleTestResult(RunRuleTestFile(path));
  EXPECT_NE(first.find("FAIL"), std::string::npos);
  EXPECT_EQ(first, second);
}

// Each invalid file reports `file:line:column: message` and runs no case.
struct InvalidCase {
  std::string name;
  std::string text;      // appended to the header, or a whole file with `whole`
  std::string expected;  // substring of the errors, after "parcels.test.yaml:"
  bool whole = false;
};

class InvalidRuleTestFile : public RuleTestTest,
                            public ::testing::WithParamInterface<InvalidCase> {};

TEST_P(InvalidRuleTestFile, Reports) {
  const InvalidCase& c = GetParam();
  const std::string path = c.whole ? Write("parcels.test.yaml", c.text) : WriteTest(c.text);
  RuleTestFileResult result = RunRuleTestFile(path);
  ASSERT_FALSE(result.errors.empty()) << FormatRuleTestResult(result);
  EXPECT_TRUE(result.cases.empty());
  EXPECT_FALSE(result.passed());
  std::string all;
  for (const std::string& e : result.errors) all += e + "\n";
  EXPECT_NE(all.find(c.expected), std::string::npos) << all;
  EXPECT_NE(FormatRuleTestResult(result).find("  invalid test file:\n"), std::string::npos);
}

const std::string kOkCase = R"(  - name: ok
    events:
      - { type: parcel, id: one, time: "2026-03-10T10:00:00Z", municipality: GM0855, weight_kg: 1, kind: box }
)";

INSTANTIATE_TEST_SUITE_P(
    Files, InvalidRuleTestFile,
    ::testing::Values(
        InvalidCase{"yaml_syntax", "rule_files: [parcels.yaml\ntests: []\n",
                    "parcels.test.yaml:2:", true},
        InvalidCase{"not_a_mapping", "- 1\n- 2\n",
                    "parcels.test.yaml:1:1: a rule test file must be a mapping", true},
        InvalidCase{"no_rule_files", "tests:\n  - name: x\n", "missing 'rule_files'", true},
        InvalidCase{"missing_pack", "rule_files: [nowhere.yaml]\ntests:\n  - name: x\n",
                    "nowhere.yaml", true},
        InvalidCase{"unknown_top_key", "rule_file: [parcels.yaml]\ntests: []\n",
                    "parcels.test.yaml:1:1: unknown key 'rule_file' in the test file (did you mean "
                    "'rule_files'?)",
                    true},
        InvalidCase{
            "unknown_case_key", kOkCase + "    expect_alert: []\n",
            "parcels.test.yaml:13:5: unknown key 'expect_alert' in a test case (did you mean "
            "'expect_alerts'?)"},
        InvalidCase{
            "unknown_rule",
            kOkCase + "    expect_alerts:\n      - { rule: many-box, municipality: GM0855 }\n",
            "parcels.test.yaml:14:17: no rule 'many-box' in the packs under test (did you mean "
            "'many-boxes'?)"},
        InvalidCase{
            "unknown_municipality",
            kOkCase + "    expect_alerts:\n      - { rule: many-boxes, municipality: Atlantis }\n",
            "parcels.test.yaml:14:43: 'Atlantis' is not a municipality code or name"},
        InvalidCase{
            "condition_not_in_rule",
            kOkCase + "    expect_alerts:\n      - rule: many-boxes\n        municipality: GM0855\n"
                      "        conditions:\n          - { indicator: letters }\n",
            "rule many-boxes has no condition with indicator 'letters'"},
        InvalidCase{
            "bad_measure",
            kOkCase + "    expect_alerts:\n      - rule: many-boxes\n        municipality: GM0855\n"
                      "        conditions:\n          - { indicator: boxes, measure: poison_p }\n",
            "unknown measure 'poison_p' (did you mean 'poisson_p'?)"},
        InvalidCase{
            "bad_time",
            kOkCase + "    expect_alerts:\n      - { rule: many-boxes, municipality: GM0855, "
                      "from: 2026-13-01 }\n",
            "'from' must be an RFC 3339 time (2026-03-01T12:00:00Z) or a date (2026-03-01), got "
            "'2026-13-01'"},
        InvalidCase{"name_in_event",
                    "  - name: x\n    events:\n      - { type: parcel, id: a, time: "
                    "\"2026-03-10T10:00:00Z\", "
                    "municipality: Tilburg, weight_kg: 1, kind: box }\n",
                    "parcels.test.yaml:12:76: events carry the CBS code of a municipality: write "
                    "GM0855 for "
                    "Tilburg"},
        InvalidCase{
            "repeat_without_index",
            "  - name: x\n    events:\n      - repeat: 3\n        event: { type: parcel, id: same, "
            "time: \"2026-03-10T10:00:00Z\", municipality: GM0855, weight_kg: 1, kind: box }\n",
            "the id of a repeated event needs '{i}'"},
        InvalidCase{"repeat_without_time",
                    "  - name: x\n    events:\n      - repeat: 3\n        event: { type: parcel, "
                    "id: \"a{i}\", "
                    "municipality: GM0855, weight_kg: 1, kind: box }\n",
                    "a repeated event needs a 'time' in RFC 3339"},
        InvalidCase{"background_missing_field",
                    "  - name: x\n    background:\n      - { type: parcel, per_1000_per_day: 1, "
                    "from: 2026-01-01, "
                    "to: 2026-01-02, fields: { kind: box } }\n",
                    "the background of parcel needs a value for its field 'weight_kg' in 'fields'"},
        InvalidCase{"background_unknown_type",
                    "  - name: x\n    background:\n      - { type: parcels, per_1000_per_day: 1, "
                    "from: 2026-01-01, "
                    "to: 2026-01-02 }\n",
                    "unknown event type 'parcels' (did you mean 'parcel'?)"},
        InvalidCase{"duplicate_case_names", kOkCase + kOkCase, "two test cases are named 'ok'"},
        InvalidCase{"no_events", "  - name: x\n    background: []\n",
                    "a test case needs 'events', 'events_file' or 'background'"},
        InvalidCase{"missing_events_file", "  - name: x\n    events_file: nope.jsonl\n",
                    "cannot read events file"},
        InvalidCase{"bad_dead_letter_reason",
                    kOkCase + "    expect_dead_letters: [{ reason: late }]\n",
                    "unknown dead-letter reason 'late'"}),
    [](const ::testing::TestParamInfo<InvalidCase>& param) { return param.param.name; });

TEST_F(RuleTestTest, InvalidPackIsReportedAtThePack) {
  Write("parcels.yaml", std::string(kPack) + "  - id: broken\n    conditions: []\n");
  const std::string path = WriteTest(kOkCase);
  RuleTestFileResult result = RunRuleTestFile(path);
  ASSERT_FALSE(result.errors.empty());
  EXPECT_NE(result.errors[0].find("parcels.yaml:24:17: rule 'broken' needs at least one condition"),
            std::string::npos)
      << result.errors[0];
}

TEST_F(RuleTestTest, MissingFileAndDefaultMunicipalities) {
  RuleTestFileResult missing = RunRuleTestFile((fs::path(dir_.path()) / "none.yaml").string());
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_NE(missing.errors[0].find("none.yaml:1:1: "), std::string::npos);
  // Without `municipalities` the table is found above the search directory
  // (here: the repository).
  const std::string path =
      Write("default.test.yaml", "rule_files: [parcels.yaml]\ntests:\n" + kOkCase);
  RuleTestOptions options;
  options.search_dir = ZICHT_SOURCE_DIR "/tests/engine";
  RuleTestFileResult result = RunRuleTestFile(path, options);
  EXPECT_TRUE(result.passed()) << FormatRuleTestResult(result);
}

}  // namespace
}  // namespace zicht::tools
