// The SPEC section 4 packs load into the expected model; versions; RuleSet.
#include "zicht/rules/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace zicht::rules {
namespace {

using testing::DataOptions;
using testing::DataPath;
using ::testing::ElementsAre;
using testing::ErrorsOf;
using ::testing::IsEmpty;
using testing::ReadData;

const IndicatorSpec& Ind(const RulePack& p, size_t i) {
  return p.indicators.at(i);
}

TEST(LoaderTest, SpecExampleLoadsIntoTheModel) {
  PackLoadResult r = LoadRulePackFile(DataPath("spec_example.yaml"));
  ASSERT_THAT(ErrorsOf(r), IsEmpty());
  ASSERT_TRUE(r.pack.has_value());
  const RulePack& p = *r.pack;
  EXPECT_EQ(p.api_version, "zicht/v1");
  EXPECT_EQ(p.name, "ondermijning-example");
  EXPECT_EQ(p.theme, "ondermijning");
  EXPECT_EQ(p.metadata.size(), 2u);
  EXPECT_EQ(p.file, DataPath("spec_example.yaml"));
  EXPECT_EQ(p.mark.line, 4);
  EXPECT_EQ(p.mark.column, 9);
  EXPECT_THAT(p.events, IsEmpty());
  EXPECT_EQ(p.version.size(), 16u);

  ASSERT_EQ(p.indicators.size(), 4u);
  const IndicatorSpec& cash = Ind(p, 0);
  EXPECT_EQ(cash.id, "cash_reports");
  EXPECT_EQ(cash.title, "Suspicious cash transactions");
  EXPECT_EQ(cash.event, "suspicious_transaction");
  EXPECT_EQ(cash.aggregate, Aggregate::kCount);
  ASSERT_EQ(cash.where.size(), 1u);
  EXPECT_EQ(cash.where[0].field, "channel");
  EXPECT_THAT(cash.where[0].values, ElementsAre("cash"));
  EXPECT_EQ(cash.where[0].mark.line, 11);
  EXPECT_EQ(cash.where[0].mark.column, 14);
  EXPECT_EQ(cash.window.count, 90);
  EXPECT_FALSE(cash.window.hours);
  EXPECT_EQ(cash.window.ms(), 90 * kMsPerDay);
  EXPECT_EQ(cash.window.ToString(), "90d");
  EXPECT_EQ(cash.per, 1000);
  EXPECT_TRUE(cash.field.empty());
  EXPECT_FALSE(cash.is_reference());
  EXPECT_EQ(cash.mark.line, 7);
  EXPECT_EQ(cash.mark.column, 5);

  const IndicatorSpec& company = Ind(p, 1);
  EXPECT_EQ(company.id, "company_purchases");
  EXPECT_EQ(company.event, "property_sale");
  EXPECT_EQ(company.aggregate, Aggregate::kShare);
  ASSERT_EQ(company.where.size(), 1u);
  EXPECT_EQ(company.where[0].field, "buyer_type");
  EXPECT_THAT(company.where[0].values, ElementsAre("company", "foreign_company"));
  EXPECT_EQ(company.window.count, 365);
  EXPECT_EQ(company.per, 1000);  // default

  const IndicatorSpec& drugs = Ind(p, 2);
  EXPECT_EQ(drugs.id, "drug_sites");
  EXPECT_EQ(drugs.event, "drug_finding");
  EXPECT_EQ(drugs.aggregate, Aggregate::kCount);
  EXPECT_THAT(drugs.where, IsEmpty());
  EXPECT_EQ(drugs.window.count, 365);

  const IndicatorSpec& amount = Ind(p, 3);
  EXPECT_EQ(amount.id, "reported_amount");
  EXPECT_EQ(amount.aggregate, Aggregate::kSum);
  EXPECT_EQ(amount.field, "amount_eur");
  EXPECT_EQ(amount.window.count, 30);
  EXPECT_EQ(amount.per, 10000);

  ASSERT_EQ(p.rules.size(), 2u);
  const RuleSpec& pd = p.rules[0];
  EXPECT_EQ(pd.id, "property-and-drugs");
  EXPECT_EQ(pd.title, "Company property purchases and drug sites well above the national level");
  EXPECT_EQ(pd.severity, Severity::kHigh);
  EXPECT_EQ(pd.match, MatchKind::kAll);
  EXPECT_EQ(pd.min_events, 5);
  EXPECT_EQ(pd.for_ms, 14 * kMsPerDay);
  EXPECT_EQ(pd.cooldown_ms, 30 * kMsPerDay);
  EXPECT_EQ(pd.labels, (std::map<std::string, std::string>{{"team", "vastgoed"}}));
  EXPECT_THAT(pd.weights, IsEmpty());
  EXPECT_THAT(pd.condition_weights, IsEmpty());
  EXPECT_EQ(pd.version.size(), 16u);
  ASSERT_EQ(pd.conditions.size(), 2u);
  EXPECT_EQ(pd.conditions[0].id, "");
  EXPECT_EQ(pd.conditions[0].indicator, "company_purchases");
  EXPECT_EQ(pd.conditions[0].measure, Measure::kNationalRatio);
  EXPECT_EQ(pd.conditions[0].op, Op::kGe);
  EXPECT_EQ(pd.conditions[0].value, 1.5);
  EXPECT_EQ(pd.conditions[0].mark.line, 38);
  EXPECT_EQ(pd.conditions[0].mark.column, 9);
  EXPECT_EQ(pd.conditions[1].indicator, "drug_sites");
  EXPECT_EQ(pd.conditions[1].measure, Measure::kPoissonP);
  EXPECT_EQ(pd.conditions[1].op, Op::kLe);
  EXPECT_EQ(pd.conditions[1].value, 0.001);

  const RuleSpec& cs = p.rules[1];
  EXPECT_EQ(cs.id, "cash-surge");
  EXPECT_EQ(cs.severity, Severity::kMedium);
  EXPECT_EQ(cs.match, MatchKind::kScore);
  EXPECT_EQ(cs.weights, (std::map<std::string, double>{{"cash-high", 0.6}, {"cash-trend", 0.4}}));
  EXPECT_THAT(cs.condition_weights, ElementsAre(0.6, 0.4));
  EXPECT_EQ(cs.alert_at, 0.6);
  EXPECT_EQ(cs.min_events, 0);
  EXPECT_EQ(cs.for_ms, 0);
  EXPECT_EQ(cs.cooldown_ms, kMsPerDay);  // SPEC default
  EXPECT_THAT(cs.labels, IsEmpty());
  ASSERT_EQ(cs.conditions.size(), 2u);
  EXPECT_EQ(cs.conditions[0].id, "cash-high");
  EXPECT_EQ(cs.conditions[0].indicator, "cash_reports");
  EXPECT_EQ(cs.conditions[0].measure, Measure::kNationalZscore);
  EXPECT_EQ(cs.conditions[0].value, 3);
  EXPECT_EQ(cs.conditions[1].id, "cash-trend");
  EXPECT_EQ(cs.conditions[1].measure, Measure::kTrendRatio);
  EXPECT_EQ(cs.conditions[1].op, Op::kGe);
  EXPECT_EQ(cs.conditions[1].value, 2);
  EXPECT_NE(pd.version, cs.version);
}

TEST(LoaderTest, ReferenceIndicatorAndDeclaredEventType) {
  PackLoadResult r = LoadRulePackFile(DataPath("spec_reference.yaml"), DataOptions());
  ASSERT_THAT(ErrorsOf(r), IsEmpty());
  const RulePack& p = *r.pack;
  EXPECT_EQ(p.name, "ondermijning-reference");

  ASSERT_EQ(p.events.size(), 1u);
  const EventTypeSpec& care = p.events[0];
  EXPECT_EQ(care.type, "care_claim");
  EXPECT_FALSE(care.builtin);
  EXPECT_EQ(care.mark.line, 7);
  EXPECT_EQ(care.mark.column, 11);
  ASSERT_EQ(care.fields.size(), 3u);
  EXPECT_EQ(care.fields[0].name, "amount_eur");
  EXPECT_EQ(care.fields[0].type, FieldType::kNumber);
  EXPECT_FALSE(care.fields[0].optional);
  EXPECT_THAT(care.fields[0].values, IsEmpty());
  EXPECT_EQ(care.fields[1].name, "provider_kind");
  EXPECT_EQ(care.fields[1].type, FieldType::kString);
  EXPECT_THAT(care.fields[1].values, ElementsAre("wmo", "wlz", "zvw"));
  EXPECT_FALSE(care.fields[1].optional);
  EXPECT_EQ(care.fields[2].name, "patient_age");
  EXPECT_EQ(care.fields[2].type, FieldType::kNumber);
  EXPECT_TRUE(care.fields[2].optional);

  ASSERT_EQ(p.indicators.size(), 6u);
  const IndicatorSpec& youth = p.indicators[4];
  EXPECT_EQ(youth.id, "youth_at_risk");
  EXPECT_TRUE(youth.is_reference());
  EXPECT_EQ(youth.aggregate, Aggregate::kValue);
  EXPECT_EQ(youth.source->file, "config/reference/youth_at_risk.csv");
  EXPECT_EQ(youth.source->column, "share_pct");
  EXPECT_EQ(youth.source->path,
            std::filesystem::path(DataPath("config/reference/youth_at_risk.csv"))
                .lexically_normal()
                .string());
  EXPECT_TRUE(youth.event.empty());
  EXPECT_EQ(youth.window.count, 0);

  const IndicatorSpec& care_amount = p.indicators[5];
  EXPECT_EQ(care_amount.event, "care_claim");
  EXPECT_EQ(care_amount.aggregate, Aggregate::kMean);
  EXPECT_EQ(care_amount.field, "amount_eur");
  EXPECT_TRUE(care_amount.window.hours);
  EXPECT_EQ(care_amount.window.count, 12);
  EXPECT_EQ(care_amount.window.ms(), 12 * kMsPerHour);
  EXPECT_EQ(care_amount.window.ToString(), "12h");
  ASSERT_EQ(care_amount.where.size(), 1u);
  EXPECT_THAT(care_amount.where[0].values, ElementsAre("wmo", "wlz"));

  ASSERT_EQ(p.rules.size(), 3u);
  const RuleSpec& yd = p.rules[2];
  EXPECT_EQ(yd.severity, Severity::kCritical);
  EXPECT_EQ(yd.match, MatchKind::kAtLeast);
  EXPECT_EQ(yd.at_least, 1);
  EXPECT_EQ(yd.conditions[0].measure, Measure::kPercentile);
  EXPECT_EQ(yd.conditions[0].op, Op::kGt);
  EXPECT_EQ(yd.conditions[0].value, 90);
}

// Writes a pack and its reference table into a fresh directory.
class ReferencePathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("zicht_rules_ref_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "tables");
    std::ofstream(dir_ / "tables" / "t.csv") << "municipality,v\nGM0363,1\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string Pack(const std::string& file) {
    return "apiVersion: zicht/v1\nkind: RulePack\nmetadata: {name: p}\nindicators:\n"
           "  - id: t\n    source: {file: " +
           file + ", column: v}\n    aggregate: value\n";
  }
  std::filesystem::path dir_;
};

TEST_F(ReferencePathTest, RelativeToThePacksDirectory) {
  PackLoadResult r = LoadRulePackText(Pack("tables/t.csv"), (dir_ / "p.yaml").string());
  ASSERT_THAT(ErrorsOf(r), IsEmpty());
  EXPECT_EQ(r.pack->indicators[0].source->path, (dir_ / "tables" / "t.csv").string());
}

TEST_F(ReferencePathTest, ReferenceBaseDirComesBeforeThePacksDirectory) {
  std::filesystem::create_directories(dir_ / "base" / "tables");
  std::ofstream(dir_ / "base" / "tables" / "t.csv") << "municipality,v\nGM0363,2\n";
  LoadOptions o;
  o.reference_base_dir = (dir_ / "base").string();
  PackLoadResult r = LoadRulePackText(Pack("tables/t.csv"), (dir_ / "p.yaml").string(), o);
  ASSERT_THAT(ErrorsOf(r), IsEmpty());
  EXPECT_EQ(r.pack->indicators[0].source->path, (dir_ / "base" / "tables" / "t.csv").string());
}

TEST_F(ReferencePathTest, WorkingDirectoryComesFirst) {
  std::filesystem::path old = std::filesystem::current_path();
  std::filesystem::create_directories(dir_ / "cwd" / "tables");
  std::ofstream(dir_ / "cwd" / "tables" / "t.csv") << "municipality,v\nGM0363,3\n";
  std::filesystem::current_path(dir_ / "cwd");
  PackLoadResult r = LoadRulePackText(Pack("tables/t.csv"), (dir_ / "p.yaml").string());
  std::filesystem::current_path(old);
  ASSERT_THAT(ErrorsOf(r), IsEmpty());
  EXPECT_EQ(r.pack->indicators[0].source->path, (dir_ / "cwd" / "tables" / "t.csv").string());
}

TEST_F(ReferencePathTest, AbsolutePath) {
  PackLoadResult r =
      LoadRulePackText(Pack((dir_ / "tables" / "t.csv").string()), "elsewhere/p.yaml");
  ASSERT_THAT(ErrorsOf(r), IsEmpty());
  EXPECT_EQ(r.pack->indicators[0].source->path, (dir_ / "tables" / "t.csv").string());
}

// --- versions ----------------------------------------------------------------

const char kVersioned[] = R"(apiVersion: zicht/v1
kind: RulePack
metadata:
  name: versions
  theme: one
indicators:
  - id: sales
    title: Sales by companies
    event: property_sale
    aggregate: share
    where: { buyer_type: [company, foreign_company], financing: none }
    window: 365d
  - id: cash
    event: suspicious_transaction
    aggregate: count
    window: 90d
rules:
  - id: a
    title: Rule A
    severity: high
    conditions:
      - indicator: sales
        measure: national_ratio
        op: ">="
        value: 1.5
    for: 14d
    labels: { team: x, area: y }
  - id: b
    conditions:
      - indicator: cash
        measure: rate
        op: ">"
        value: 2
)";

// The same pack written differently: flow/block style, key order, titles,
// comments, quoting, number spelling, equal durations, list order in `where`.
const char kVersionedReformatted[] = R"(# a comment
kind: RulePack
apiVersion: "zicht/v1"
metadata: { theme: two, name: versions }
indicators:
  - event: property_sale
    id: sales
    title: Another title
    window: 365d
    where:
      financing: [none]
      buyer_type:
        - foreign_company
        - company
    aggregate: share
  - {id: cash, event: suspicious_transaction, aggregate: count, window: 90d, per: 1000.0}
rules:
  - conditions:
      - {value: 15e-1, op: '>=', measure: national_ratio, indicator: sales}
    id: a
    severity: high
    for: 336h     # 14 days
    match: all
    labels:
      area: y
      team: x
  - id: b
    severity: medium
    cooldown: 1d
    conditions: [{indicator: cash, measure: rate, op: '>', value: 2.000}]
)";

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

RulePack MustLoad(const std::string& text) {
  PackLoadResult r = LoadRulePackText(text, "v.yaml");
  EXPECT_THAT(ErrorsOf(r), IsEmpty());
  return r.pack.value_or(RulePack{});
}

TEST(VersionTest, FormattingKeyOrderAndTitlesDoNotChangeVersions) {
  RulePack a = MustLoad(kVersioned);
  RulePack b = MustLoad(kVersionedReformatted);
  ASSERT_EQ(a.rules.size(), 2u);
  ASSERT_EQ(b.rules.size(), 2u);
  EXPECT_EQ(a.rules[0].version, b.rules[0].version);
  EXPECT_EQ(a.rules[1].version, b.rules[1].version);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(CanonicalText(a.rules[0], a), CanonicalText(b.rules[0], b));
}

TEST(VersionTest, AThresholdChangesOnlyItsRule) {
  RulePack a = MustLoad(kVersioned);
  RulePack c = MustLoad(Replace(kVersioned, "value: 1.5", "value: 1.6"));
  EXPECT_NE(a.rules[0].version, c.rules[0].version);
  EXPECT_EQ(a.rules[1].version, c.rules[1].version);
  EXPECT_NE(a.version, c.version);
}

TEST(VersionTest, BehaviourAndOutputChangesChangeTheVersion) {
  RulePack a = MustLoad(kVersioned);
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"severity: high", "severity: critical"},
      {"op: \">=\"", "op: \">\""},
      {"measure: national_ratio", "measure: percentile"},
      {"for: 14d", "for: 15d"},
      {"labels: { team: x, area: y }", "labels: { team: z, area: y }"},
      {"    window: 365d", "    window: 364d"},
      {"financing: none", "financing: unknown"},
      {"aggregate: share", "aggregate: count"},
  };
  for (const auto& [from, to] : edits) {
    RulePack c = MustLoad(Replace(kVersioned, from, to));
    ASSERT_EQ(c.rules.size(), 2u) << to;
    EXPECT_NE(a.rules[0].version, c.rules[0].version) << to;
    EXPECT_EQ(a.rules[1].version, c.rules[1].version) << to;
    EXPECT_NE(a.version, c.version) << to;
  }
  // The pack name is part of every rule version (alerts name the pack).
  RulePack renamed = MustLoad(Replace(kVersioned, "name: versions", "name: other"));
  EXPECT_NE(a.rules[0].version, renamed.rules[0].version);
  EXPECT_NE(a.rules[1].version, renamed.rules[1].version);
  // An indicator no rule reads changes only the pack version.
  RulePack extra = MustLoad(Replace(kVersioned, "rules:\n",
                                    "  - {id: spare, event: drug_finding, aggregate: count, "
                                    "window: 30d}\nrules:\n"));
  EXPECT_EQ(a.rules[0].version, extra.rules[0].version);
  EXPECT_EQ(a.rules[1].version, extra.rules[1].version);
  EXPECT_NE(a.version, extra.version);
}

// --- RuleSet -------------------------------------------------------------------

TEST(RuleSetTest, FlattensPacksWithGlobalIndices) {
  RuleSetLoadResult r =
      LoadRuleSet({DataPath("spec_example.yaml"), DataPath("spec_reference.yaml")}, DataOptions());
  ASSERT_THAT(ErrorsOf(r), IsEmpty());
  const RuleSet& set = *r.rule_set;
  ASSERT_EQ(set.packs().size(), 2u);
  ASSERT_EQ(set.event_types().size(), 5u);
  EXPECT_EQ(set.event_types()[0].type, "suspicious_transaction");
  EXPECT_EQ(set.event_types()[1].type, "property_sale");
  EXPECT_EQ(set.event_types()[2].type, "business_registration");
  EXPECT_EQ(set.event_types()[3].type, "drug_finding");
  EXPECT_TRUE(set.event_types()[3].builtin);
  EXPECT_EQ(set.event_types()[4].type, "care_claim");
  EXPECT_FALSE(set.event_types()[4].builtin);
  EXPECT_EQ(set.EventTypeIndex("care_claim"), 4);
  EXPECT_EQ(set.EventTypeIndex("nope"), -1);

  ASSERT_EQ(set.indicators().size(), 10u);
  EXPECT_EQ(set.indicators()[0].key, "ondermijning-example/cash_reports");
  EXPECT_EQ(set.indicators()[4].key, "ondermijning-reference/cash_reports");
  EXPECT_EQ(set.indicators()[8].key, "ondermijning-reference/youth_at_risk");
  EXPECT_EQ(set.indicators()[4].pack, 1);
  EXPECT_EQ(set.indicators()[4].spec, &set.packs()[1].indicators[0]);
  EXPECT_EQ(set.IndicatorIndex("ondermijning-reference", "care_amount"), 9);
  // cash_reports is read by trend_ratio: current + 4 previous windows.
  EXPECT_TRUE(set.indicators()[0].uses_trend);
  EXPECT_EQ(set.indicators()[0].history_ms, 450 * kMsPerDay);
  EXPECT_FALSE(set.indicators()[1].uses_trend);
  EXPECT_EQ(set.indicators()[1].history_ms, 365 * kMsPerDay);
  EXPECT_EQ(set.indicators()[8].history_ms, 0);
  EXPECT_EQ(set.indicators()[9].history_ms, 12 * kMsPerHour);

  ASSERT_EQ(set.rules().size(), 5u);
  EXPECT_EQ(set.rules()[0].spec, &set.packs()[0].rules[0]);
  EXPECT_THAT(set.rules()[0].condition_indicator, ElementsAre(1, 2));
  EXPECT_THAT(set.rules()[1].condition_indicator, ElementsAre(0, 0));
  EXPECT_EQ(set.rules()[4].pack, 1);
  EXPECT_THAT(set.rules()[4].condition_indicator, ElementsAre(8, 9));
  EXPECT_EQ(set.version().size(), 16u);
}

TEST(RuleSetTest, VersionDependsOnPackVersionsAndOrder) {
  auto one = LoadRuleSet({DataPath("spec_example.yaml")});
  auto again = LoadRuleSet({DataPath("spec_example.yaml")});
  auto both =
      LoadRuleSet({DataPath("spec_example.yaml"), DataPath("spec_reference.yaml")}, DataOptions());
  ASSERT_TRUE(one.rule_set && again.rule_set && both.rule_set);
  EXPECT_EQ(one.rule_set->version(), again.rule_set->version());
  EXPECT_NE(one.rule_set->version(), both.rule_set->version());
}

const char kCarePack[] = R"(apiVersion: zicht/v1
kind: RulePack
metadata: {name: NAME}
events:
  - type: care_claim
    fields:
      amount_eur: number
      provider_kind: { type: string, values: [VALUES] }
)";

RulePack CarePack(const std::string& name, const std::string& values) {
  return MustLoad(Replace(Replace(kCarePack, "NAME", name), "VALUES", values));
}

TEST(RuleSetTest, IdenticalDeclarationsInTwoPacksAreFine) {
  RuleSetLoadResult r = BuildRuleSet({CarePack("a", "wmo, wlz"), CarePack("b", "wlz, wmo")});
  ASSERT_THAT(ErrorsOf(r), IsEmpty());
  EXPECT_EQ(r.rule_set->event_types().size(), 5u);
}

TEST(RuleSetTest, ConflictingDeclarationsAndDuplicateNames) {
  RuleSetLoadResult r = BuildRuleSet(
      {CarePack("a", "wmo, wlz"), CarePack("b", "wmo, zvw"), CarePack("a", "wmo, wlz")});
  EXPECT_FALSE(r.rule_set);
  EXPECT_THAT(ErrorsOf(r),
              ElementsAre("v.yaml:3:18: pack name 'a' is already used by v.yaml:3:18",
                          "v.yaml:5:11: event type 'care_claim' is declared differently by pack "
                          "'a' (v.yaml:5:11); a type declared by several packs must be declared "
                          "identically"));
}

TEST(RuleSetTest, LoadRuleSetReportsTheErrorsOfEveryPackAndMissingFiles) {
  RuleSetLoadResult r = LoadRuleSet({DataPath("spec_example.yaml"), DataPath("does_not_exist.yaml"),
                                     DataPath("spec_example.yaml")});
  EXPECT_FALSE(r.rule_set);
  const std::string example = DataPath("spec_example.yaml");
  EXPECT_THAT(ErrorsOf(r),
              ElementsAre(DataPath("does_not_exist.yaml") +
                              ":1:1: cannot read the rule pack: cannot open: No such file or "
                              "directory",
                          example + ":4:9: pack name 'ondermijning-example' is already used by " +
                              example + ":4:9"));
}

TEST(RuleSetTest, BuildRuleSetFillsDerivedFieldsOfHandBuiltPacks) {
  RulePack p;
  p.api_version = "zicht/v1";
  p.name = "hand";
  IndicatorSpec ind;
  ind.id = "i";
  ind.event = "drug_finding";
  ind.window = Window{10, false};
  p.indicators.push_back(ind);
  RuleSpec rule;
  rule.id = "r";
  rule.match = MatchKind::kScore;
  rule.weights = {{"x", 1}, {"y", 3}};
  rule.alert_at = 0.5;
  ConditionSpec c;
  c.id = "y";
  c.indicator = "i";
  c.measure = Measure::kTrendRatio;
  rule.conditions.push_back(c);
  c.id = "x";
  rule.conditions.push_back(c);
  p.rules.push_back(rule);
  RuleSetLoadResult r = BuildRuleSet({p});
  ASSERT_THAT(ErrorsOf(r), IsEmpty());
  const RuleSpec& built = *r.rule_set->rules()[0].spec;
  EXPECT_THAT(built.condition_weights, ElementsAre(3, 1));
  EXPECT_EQ(built.version.size(), 16u);
  EXPECT_EQ(r.rule_set->indicators()[0].history_ms, 50 * kMsPerDay);

  p.rules[0].conditions[1].indicator = "missing";
  p.indicators[0].event = "no_such_type";
  RuleSetLoadResult bad = BuildRuleSet({p});
  EXPECT_FALSE(bad.rule_set);
  EXPECT_THAT(ErrorsOf(bad), ElementsAre("hand:1:1: indicator 'i' counts unknown event type "
                                         "'no_such_type'",
                                         "hand:1:1: rule 'r' reads unknown indicator 'missing'"));
}

}  // namespace
}  // namespace zicht::rules
