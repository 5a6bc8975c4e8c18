// The rule packs shipped in config/rules: they validate alone and together
// (as config/engine.yaml loads them), every rule has a firing rule test and a
// doc, their rule test files pass, and the tests notice a broken pack.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "zicht/base/file.h"
#include "zicht/cli/commands.h"
#include "zicht/rules/loader.h"
#include "zicht/runtime/plan_loader.h"
#include "zicht/tools/rule_test.h"

namespace zicht::tools {
namespace {
using cli::RulesCheckCommand;
using runtime::LoadPlan;
using runtime::PlanSources;

namespace fs = std::filesystem;

const fs::path kSource = ZICHT_SOURCE_DIR;
const std::vector<std::string> kPacks = {"ondermijning", "vakantieparken", "zorgfraude",
                                         "digitale-criminaliteit"};

std::string PackPath(const std::string& name) {
  return (kSource / "config/rules" / (name + ".yaml")).string();
}
std::string TestPath(const std::string& name) {
  return (kSource / "config/rules/tests" / (name + ".test.yaml")).string();
}

std::string ReadText(const fs::path& path) {
  auto text = ReadFileToString(path.string());
  EXPECT_TRUE(text.ok()) << path;
  return text.ok() ? *text : std::string();
}

TEST(ShippedPacks, ValidateAloneAndTogether) {
  std::vector<std::string> all;
  for (const std::string& name : kPacks) {
    rules::RuleSetLoadResult one = rules::LoadRuleSet({PackPath(name)});
    std::string errors;
    for (const rules::Diagnostic& d : one.errors) errors += d.ToString() + "\n";
    ASSERT_TRUE(one.rule_set) << errors;
    EXPECT_EQ(one.rule_set->packs()[0].name, name);
    EXPECT_EQ(one.rule_set->packs()[0].theme, name);
    all.push_back(PackPath(name));
  }
  // What `zicht rules check` says, with the SPEC example alongside.
  all.push_back((kSource / "config/rules/examples/spec-example.yaml").string());
  EXPECT_EQ(RulesCheckCommand(all), 0);
  // With the municipality table, as the engine builds them.
  PlanSources setup;
  setup.rule_files = all;
  setup.municipalities_path = (kSource / "config/reference/municipalities.csv").string();
  auto plan = LoadPlan(setup);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
}

TEST(ShippedPacks, OndermijningStaysSmall) {
  rules::RuleSetLoadResult loaded = rules::LoadRuleSet({PackPath("ondermijning")});
  ASSERT_TRUE(loaded.rule_set);
  EXPECT_LE(loaded.rule_set->packs()[0].indicators.size(), 20u);
}

TEST(ShippedPacks, EngineConfigurationsLoadExactlyTheShippedPacks) {
  for (const char* config : {"config/engine.yaml", "config/demo.yaml"}) {
    YAML::Node root = YAML::LoadFile((kSource / config).string());
    std::set<std::string> listed;
    for (const YAML::Node& r : root["rules"]) listed.insert(r.as<std::string>());
    std::set<std::string> shipped;
    for (const std::string& name : kPacks) shipped.insert("config/rules/" + name + ".yaml");
    EXPECT_EQ(listed, shipped) << config;
  }
}

// Every rule fires in some case of its pack's test file, and the pack's doc
// explains every rule and indicator.
TEST(ShippedPacks, EveryRuleIsTestedAndDocumented) {
  for (const std::string& name : kPacks) {
    SCOPED_TRACE(name);
    rules::RuleSetLoadResult loaded = rules::LoadRuleSet({PackPath(name)});
    ASSERT_TRUE(loaded.rule_set);
    const rules::RulePack& pack = loaded.rule_set->packs()[0];
    std::set<std::string> fired;
    YAML::Node tests = YAML::LoadFile(TestPath(name));
    for (const YAML::Node& c : tests["tests"]) {
      for (const YAML::Node& e : c["expect_alerts"]) {
        if (!e["count"] || e["count"].as<int>() > 0) fired.insert(e["rule"].as<std::string>());
      }
    }
    const std::string doc = ReadText(kSource / "docs/packs" / (name + ".md"));
    for (const rules::RuleSpec& rule : pack.rules) {
      EXPECT_TRUE(fired.count(rule.id)) << "no test case expects " << rule.id << " to fire";
      EXPECT_NE(doc.find("`" + rule.id + "`"), std::string::npos)
          << "docs/packs/" << name << ".md lacks " << rule.id;
    }
    for (const rules::IndicatorSpec& indicator : pack.indicators) {
      EXPECT_NE(doc.find("`" + indicator.id + "`"), std::string::npos)
          << "docs/packs/" << name << ".md lacks " << indicator.id;
    }
  }
}

TEST(ShippedPacks, RuleTestsPass) {
  std::vector<std::string> files;
  for (const std::string& name : kPacks) files.push_back(TestPath(name));
  files.push_back(TestPath("spec_example"));
  for (const std::string& file : files) {
    RuleTestFileResult result = RunRuleTestFile(file);
    EXPECT_TRUE(result.passed()) << FormatRuleTestResult(result);
    EXPECT_GE(result.cases.size(), 4u) << file;
  }
}

// A copy of a pack with one change, next to a copy of its test file: the
// shipped tests must notice.
RuleTestFileResult RunAgainstMutatedPack(const std::string& pack_rel, const std::string& test_name,
                                         const std::string& from, const std::string& to) {
  auto dir = TemporaryDirectory::Make("zicht-shipped-mutant-");
  EXPECT_TRUE(dir.ok());
  const fs::path root = dir->path();
  std::string pack = ReadText(kSource / "config/rules" / pack_rel);
  const size_t at = pack.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) pack.replace(at, from.size(), to);
  fs::create_directories(root / "rules/tests");
  fs::create_directories((root / "rules" / pack_rel).parent_path());
  std::ofstream(root / "rules" / pack_rel) << pack;
  std::ofstream(root / "rules/tests" / (test_name + ".test.yaml")) << ReadText(TestPath(test_name));
  fs::copy(kSource / "config/rules/tests/fixtures", root / "rules/tests/fixtures",
           fs::copy_options::recursive);
  // The youth table of the ondermijning pack is found next to the pack's
  // directory; the municipality table above the search directory.
  fs::create_directories(root / "reference");
  fs::copy_file(kSource / "config/reference/youth_at_risk.csv",
                root / "reference/youth_at_risk.csv");
  RuleTestOptions options;
  options.search_dir = kSource.string();
  return RunRuleTestFile((root / "rules/tests" / (test_name + ".test.yaml")).string(), options);
}

TEST(ShippedPacks, SpecTestsNoticeAMissingFor) {
  RuleTestFileResult result =
      RunAgainstMutatedPack("examples/spec-example.yaml", "spec_example", "for: 14d", "for: 0d ");
  ASSERT_TRUE(result.errors.empty()) << FormatRuleTestResult(result);
  EXPECT_FALSE(result.passed());
  const std::string report = FormatRuleTestResult(result);
  EXPECT_NE(
      report.find(
          "FAIL  property-and-drugs fires for a municipality with both patterns, after 14 days"),
      std::string::npos)
      << report;
  EXPECT_NE(report.find("    + property-and-drugs GM0855 (Tilburg) at 2026-04-01T"),
            std::string::npos)
      << report;
}

TEST(ShippedPacks, OndermijningTestsNoticeALooserThreshold) {
  // Without the cash share condition every channel counts as cash.
  RuleTestFileResult result = RunAgainstMutatedPack(
      "ondermijning.yaml", "ondermijning",
      "      - indicator: cash_share\n        measure: national_ratio\n        op: \">=\"\n"
      "        value: 1.25\n",
      "      - indicator: cash_share\n        measure: national_ratio\n        op: \">=\"\n"
      "        value: 0.5\n");
  ASSERT_TRUE(result.errors.empty()) << FormatRuleTestResult(result);
  const std::string report = FormatRuleTestResult(result);
  EXPECT_NE(report.find("FAIL  cash-surge - more reports in every channel is not a cash surge"),
            std::string::npos)
      << report;
  EXPECT_EQ(result.failed_cases(), 1) << report;
}

}  // namespace
}  // namespace zicht::tools
