// One case per validation error kind: the exact `file:line:column: message`,
// with line and column on the offending key or value.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "test_util.h"
#include "zicht/rules/loader.h"

namespace zicht::rules {
namespace {

using testing::DataPath;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using testing::ErrorsOf;
using ::testing::IsEmpty;

// Line numbers of the templates are in the right margin of the comments.
const char kBase[] =
    "apiVersion: zicht/v1\n"               // 1
    "kind: RulePack\n"                     // 2
    "metadata:\n"                          // 3
    "  name: test\n"                       // 4
    "indicators:\n"                        // 5
    "  - id: cash\n"                       // 6
    "    event: suspicious_transaction\n"  // 7
    "    aggregate: count\n"               // 8
    "    window: 30d\n"                    // 9
    "rules:\n"                             // 10
    "  - id: r\n"                          // 11
    "    conditions:\n"                    // 12
    "      - indicator: cash\n"            // 13
    "        measure: rate\n"              // 14
    "        op: \">=\"\n"                 // 15
    "        value: 1\n";                  // 16

const char kScoreBase[] =
    "apiVersion: zicht/v1\n"               // 1
    "kind: RulePack\n"                     // 2
    "metadata:\n"                          // 3
    "  name: test\n"                       // 4
    "indicators:\n"                        // 5
    "  - id: cash\n"                       // 6
    "    event: suspicious_transaction\n"  // 7
    "    aggregate: count\n"               // 8
    "    window: 30d\n"                    // 9
    "rules:\n"                             // 10
    "  - id: r\n"                          // 11
    "    score:\n"                         // 12
    "      weights: { a: 0.5, b: 0.5 }\n"  // 13
    "      alert_at: 0.5\n"                // 14
    "    conditions:\n"                    // 15
    "      - id: a\n"                      // 16
    "        indicator: cash\n"            // 17
    "        measure: rate\n"              // 18
    "        op: \">=\"\n"                 // 19
    "        value: 1\n"                   // 20
    "      - id: b\n"                      // 21
    "        indicator: cash\n"            // 22
    "        measure: value\n"             // 23
    "        op: \">=\"\n"                 // 24
    "        value: 1\n";                  // 25

const char kEventsBase[] =
    "apiVersion: zicht/v1\n"                                        // 1
    "kind: RulePack\n"                                              // 2
    "metadata:\n"                                                   // 3
    "  name: test\n"                                                // 4
    "events:\n"                                                     // 5
    "  - type: care_claim\n"                                        // 6
    "    fields:\n"                                                 // 7
    "      amount_eur: number\n"                                    // 8
    "      provider_kind: { type: string, values: [wmo, wlz] }\n";  // 9

const char kRefBase[] =
    "apiVersion: zicht/v1\n"         // 1
    "kind: RulePack\n"               // 2
    "metadata:\n"                    // 3
    "  name: test\n"                 // 4
    "indicators:\n"                  // 5
    "  - id: youth\n"                // 6
    "    aggregate: value\n"         // 7
    "    source:\n"                  // 8
    "      file: FILE\n"             // 9
    "      column: share_pct\n"      // 10
    "rules:\n"                       // 11
    "  - id: r\n"                    // 12
    "    conditions:\n"              // 13
    "      - indicator: youth\n"     // 14
    "        measure: percentile\n"  // 15
    "        op: \">=\"\n"           // 16
    "        value: 90\n";           // 17

std::string Sub(std::string text, const std::string& from, const std::string& to) {
  size_t pos = text.find(from);
  if (pos == std::string::npos) {
    ADD_FAILURE() << "template has no '" << from << "'";
    return text;
  }
  text.replace(pos, from.size(), to);
  return text;
}

std::string Ref(const std::string& file) {
  return Sub(kRefBase, "FILE", DataPath(file));
}

struct Case {
  Case(std::string n, std::string y, std::vector<std::string> e,
       std::function<void(LoadOptions*)> o = {})
      : name(std::move(n)), yaml(std::move(y)), errors(std::move(e)), options(std::move(o)) {}
  std::string name;
  std::string yaml;
  std::vector<std::string> errors;  // without the "p.yaml:" prefix
  std::function<void(LoadOptions*)> options;
};

std::vector<Case> Cases() {
  const std::string youth = DataPath("config/reference/youth_at_risk.csv");
  std::vector<Case> c = {
      // --- YAML itself -------------------------------------------------------
      {"UnquotedGreaterEqualIsABlockScalar",
       Sub(kBase, "op: \">=\"", "op: >="),
       {"15:14: invalid YAML: unexpected character in block scalar (an unquoted '>' or '|' "
        "starts a YAML block text; quote it, e.g. op: \">=\")"}},
      {"UnclosedFlowList",
       Sub(kBase, "    window: 30d\n", "    where: { channel: [cash }\n    window: 30d\n"),
       {"9:29: invalid YAML: illegal flow end"}},
      {"EmptyPack", "# nothing but a comment\n", {"1:1: the rule pack is empty"}},
      {"NotAMapping",
       "- a\n- b\n",
       {"1:1: a rule pack must be a mapping with apiVersion, kind, metadata, indicators and "
        "rules, not a list"}},
      {"SecondDocument",
       std::string(kBase) + "---\nfoo: 1\n",  // the error points at the "---"
       {"17:1: a rule pack is one YAML document; found a second one (remove the '---')"}},
      {"NonScalarKey",
       Sub(kBase, "kind: RulePack\n", "kind: RulePack\n[a, b]: 1\n"),
       {"3:1: a key must be a plain name, not a list"}},
      // --- keys ----------------------------------------------------------------
      {"UnknownTopLevelKeyWithSuggestion",
       Sub(kBase, "rules:", "rulez:"),
       {"10:1: unknown key 'rulez' (did you mean 'rules'?)"}},
      {"UnknownIndicatorKeyWithSuggestion",
       Sub(kBase, "window: 30d", "windw: 30d"),
       {"6:5: indicator 'cash' is missing required key 'window'",
        "9:5: unknown key 'windw' (did you mean 'window'?)"}},
      {"UnknownConditionKeyListsKnownKeys",
       std::string(kBase) + "        threshold: 3\n",
       {"17:9: unknown key 'threshold' (expected one of: id, indicator, measure, op, value)"}},
      {"DuplicateKey",
       Sub(kBase, "    window: 30d\n", "    window: 30d\n    window: 60d\n"),
       {"10:5: duplicate key 'window' (first at line 9)"}},
      {"MissingApiVersion",
       Sub(kBase, "apiVersion: zicht/v1\n", ""),
       {"1:1: the rule pack is missing required key 'apiVersion'"}},
      {"WrongApiVersion",
       Sub(kBase, "zicht/v1", "zicht/v2"),
       {"1:13: unsupported apiVersion 'zicht/v2' (expected 'zicht/v1')"}},
      {"WrongKind",
       Sub(kBase, "kind: RulePack", "kind: Rulepack"),
       {"2:7: kind must be 'RulePack', got 'Rulepack'"}},
      {"MissingMetadataName",
       Sub(kBase, "  name: test", "  theme: x"),
       {"4:3: metadata is missing required key 'name'"}},
      {"InvalidMetadataName",
       Sub(kBase, "name: test", "name: Test_Pack"),
       {"4:9: invalid metadata.name 'Test_Pack': use lowercase letters, digits and '-', at "
        "most 63 characters, not starting or ending with '-'"}},
      {"ValueOfTheWrongShape",
       Sub(kBase, "window: 30d", "window: [30d]"),
       {"9:13: 'window' must be a single value, not a list"}},
      {"EmptyValueIsReportedAtItsKey",
       Sub(kBase, "window: 30d", "window:"),
       {"9:5: 'window' needs a value"}},
      // --- ids -----------------------------------------------------------------
      {"InvalidIndicatorId",
       Sub(kBase, "id: cash", "id: Cash"),
       {"6:9: invalid indicator id 'Cash': use lowercase letters, digits, '_' and '-', starting "
        "with a letter or digit",
        "13:20: unknown indicator 'cash'"}},
      {"DuplicateIndicatorId",
       Sub(kBase, "rules:\n",
           "  - id: cash\n    event: drug_finding\n    aggregate: count\n    window: "
           "10d\nrules:\n"),
       {"10:9: duplicate indicator id 'cash' (first at line 6)"}},
      {"InvalidRuleId",
       Sub(kBase, "  - id: r\n", "  - id: R 1\n"),
       {"11:9: invalid rule id 'R 1': use lowercase letters, digits, '_' and '-', starting with "
        "a letter or digit"}},
      {"DuplicateRuleId",
       std::string(kBase) + std::string(kBase).substr(std::string(kBase).find("  - id: r")),
       {"17:9: duplicate rule id 'r' (first at line 11)"}},
      // --- indicators ------------------------------------------------------------
      {"UnknownEventTypeWithSuggestion",
       Sub(kBase, "event: suspicious_transaction", "event: suspicious_transactions"),
       {"7:12: unknown event type 'suspicious_transactions' (did you mean "
        "'suspicious_transaction'?)"}},
      {"UnknownEventTypeListsKnownTypes",
       Sub(kBase, "event: suspicious_transaction", "event: bank_transfer"),
       {"7:12: unknown event type 'bank_transfer' (declare it under 'events:' or use one of: "
        "business_registration, drug_finding, property_sale, suspicious_transaction)"}},
      {"UnknownAggregate",
       Sub(kBase, "aggregate: count", "aggregate: coutn"),
       {"8:16: unknown aggregate 'coutn' (did you mean 'count'?)"}},
      {"SumNeedsAField",
       Sub(kBase, "aggregate: count", "aggregate: sum"),
       {"8:16: indicator 'cash' needs 'field': the number field to add up"}},
      {"MeanNeedsANumberField",
       Sub(kBase, "aggregate: count", "aggregate: mean\n    field: channel"),
       {"9:12: field 'channel' of suspicious_transaction is a string; mean needs a number "
        "field"}},
      {"SumOfAnUndeclaredField",
       Sub(kBase, "aggregate: count", "aggregate: sum\n    field: amount"),
       {"9:12: event type 'suspicious_transaction' has no field 'amount' (fields: amount_eur, "
        "channel, sector)"}},
      {"FieldOnlyForSumAndMean",
       Sub(kBase, "    window: 30d\n", "    window: 30d\n    field: amount_eur\n"),
       {"10:5: 'field' is only used by sum and mean, not by count"}},
      {"ShareNeedsWhere",
       Sub(kBase, "aggregate: count", "aggregate: share"),
       {"8:16: indicator 'cash' needs 'where': share counts the events matching it as a share "
        "of all events of the type"}},
      {"WhereOnUnknownField",
       Sub(kBase, "    window: 30d\n", "    window: 30d\n    where: { chanel: [cash] }\n"),
       {"10:14: event type 'suspicious_transaction' has no field 'chanel' (did you mean "
        "'channel'?)"}},
      {"WhereValueOutsideDeclaredValues",
       Sub(Sub(kBase, "suspicious_transaction", "property_sale"), "    window: 30d\n",
           "    window: 30d\n    where: { buyer_type: [company, compnay] }\n"),
       {"10:36: 'compnay' is not a value of property_sale.buyer_type (person, company, "
        "foreign_company); did you mean 'company'?"}},
      {"WhereValueNotANumber",
       Sub(Sub(kBase, "suspicious_transaction", "property_sale"), "    window: 30d\n",
           "    window: 30d\n    where: { price_eur: [cheap] }\n"),
       {"10:26: 'cheap' is not a number, but property_sale.price_eur is a number field"}},
      {"WhereEmptyList",
       Sub(kBase, "    window: 30d\n", "    window: 30d\n    where: { channel: [] }\n"),
       {"10:23: 'channel' has an empty list of values, which matches nothing"}},
      {"WhereNotAMapping",
       Sub(kBase, "    window: 30d\n", "    window: 30d\n    where: cash\n"),
       {"10:12: 'where' must be a mapping, not a single value"}},
      {"MissingWindow",
       Sub(kBase, "    window: 30d\n", ""),
       {"6:5: indicator 'cash' is missing required key 'window'"}},
      {"WindowInMinutes",
       Sub(kBase, "window: 30d", "window: 30m"),
       {"9:13: window '30m' must be in days or hours, e.g. 90d or 12h"}},
      {"ZeroWindow",
       Sub(kBase, "window: 30d", "window: 0d"),
       {"9:13: window must be longer than 0"}},
      {"WindowNotADuration",
       Sub(kBase, "window: 30d", "window: thirty"),
       {"9:13: 'window' must be a duration like 14d, 12h, 30m or 10s, got 'thirty'"}},
      {"PerNotPositive",
       Sub(kBase, "    window: 30d\n", "    window: 30d\n    per: 0\n"),
       {"10:10: 'per' must be above 0, got 0"}},
      {"PerNotANumber",
       Sub(kBase, "    window: 30d\n", "    window: 30d\n    per: 1e3x\n"),
       {"10:10: 'per' must be a number, got '1e3x'"}},
      {"AggregateValueNeedsASource",
       Sub(kBase, "aggregate: count", "aggregate: value"),
       {"8:16: 'aggregate: value' is for reference indicators; add a 'source: {file, column}' "
        "table or use count, sum, mean or share"}},
      {"NotAMappingIndicator",
       Sub(kBase, "rules:\n", "  - just-a-name\nrules:\n"),
       {"10:5: an indicator must be a mapping, not a single value"}},
      // --- reference indicators --------------------------------------------------
      {"SourceNeedsAggregateValueAndNoWindow",
       Sub(Ref("config/reference/youth_at_risk.csv"), "    aggregate: value\n",
           "    aggregate: count\n    window: 30d\n"),
       {"7:16: a reference indicator (with 'source') needs 'aggregate: value', got 'count'",
        "8:5: 'window' does not apply to a reference indicator (with 'source'): its figure is "
        "read from the table"}},
      {"ReferenceFileNotFound",
       Sub(kRefBase, "FILE", "nope.csv"),
       {"9:13: reference file 'nope.csv' not found (tried nope.csv)"}},
      {"ReferenceColumnMissing",
       Sub(Ref("config/reference/youth_at_risk.csv"), "column: share_pct", "column: share"),
       {"10:15: reference file '" + youth +
        "' has no column 'share' (columns: municipality, name, share_pct)"}},
      {"ReferenceWithoutMunicipalityColumn",
       Ref("no_municipality.csv"),
       {"9:13: reference file '" + DataPath("no_municipality.csv") +
        "' has no 'municipality' column (columns: code, share_pct)"}},
      {"ReferenceValueNotANumber",
       Ref("bad_value.csv"),
       {"10:15: reference file '" + DataPath("bad_value.csv") +
        "' line 3: 'n/a' in column 'share_pct' is not a number"}},
      {"TrendRatioOnReferenceIndicator",
       Sub(Sub(Ref("config/reference/youth_at_risk.csv"), "measure: percentile",
               "measure: trend_ratio"),
           "value: 90", "value: 2"),
       {"15:18: measure 'trend_ratio' does not apply to reference indicator 'youth': a table "
        "has no history of windows"}},
      {"ZscoreOnReferenceIndicator",
       Sub(Sub(Ref("config/reference/youth_at_risk.csv"), "measure: percentile",
               "measure: national_zscore"),
           "value: 90", "value: 2"),
       {"15:18: measure 'national_zscore' needs a count or share indicator; 'youth' is a "
        "reference indicator"}},
      // --- events --------------------------------------------------------------------
      {"RedeclaredBuiltinType",
       Sub(kEventsBase, "type: care_claim", "type: drug_finding"),
       {"6:11: event type 'drug_finding' is built in and cannot be redeclared"}},
      {"DeclaredEnvelopeField",
       std::string(kEventsBase) + "      time: string\n",
       {"10:7: 'time' is an envelope field (type, id, time, municipality, neighbourhood) and "
        "cannot be declared"}},
      {"DeclaredNeighbourhoodField",
       std::string(kEventsBase) + "      neighbourhood: string\n",
       {"10:7: 'neighbourhood' is an envelope field (type, id, time, municipality, "
        "neighbourhood) and cannot be declared"}},
      {"UnknownFieldType",
       Sub(kEventsBase, "amount_eur: number", "amount_eur: integer"),
       {"8:19: unknown field type 'integer' (expected one of: string, number, bool)"}},
      {"ValuesOnlyForStrings",
       std::string(kEventsBase) + "      patient_age: { type: number, values: [1] }\n",
       {"10:36: 'values' is only for string fields; 'patient_age' is a number"}},
      {"OptionalNotABool",
       std::string(kEventsBase) + "      patient_age: { type: number, optional: maybe }\n",
       {"10:46: 'optional' must be true or false, got 'maybe'"}},
      {"DuplicateEventType",
       std::string(kEventsBase) + "  - type: care_claim\n",
       {"10:11: event type 'care_claim' is declared twice (first at line 6)"}},
      {"InvalidEventTypeName",
       Sub(kEventsBase, "type: care_claim", "type: Care-Claim"),
       {"6:11: invalid event type 'Care-Claim': use lowercase letters, digits and '_', "
        "starting with a letter"}},
      // --- rules -----------------------------------------------------------------------
      {"UnknownSeverity",
       Sub(kBase, "  - id: r\n", "  - id: r\n    severity: hihg\n"),
       {"12:15: unknown severity 'hihg' (did you mean 'high'?)"}},
      {"UnknownMatch",
       Sub(kBase, "  - id: r\n", "  - id: r\n    match: most\n"),
       {"12:12: match must be all, any or {at_least: N}, got 'most'"}},
      {"AtLeastMoreThanConditions",
       Sub(kBase, "  - id: r\n", "  - id: r\n    match: { at_least: 2 }\n"),
       {"12:24: at_least 2 is more than the 1 condition of this rule"}},
      {"AtLeastZero",
       Sub(kBase, "  - id: r\n", "  - id: r\n    match: { at_least: 0 }\n"),
       {"12:24: at_least must be at least 1, got 0"}},
      {"NoConditions",
       Sub(kBase,
           "    conditions:\n      - indicator: cash\n        measure: rate\n"
           "        op: \">=\"\n        value: 1\n",
           "    conditions: []\n"),
       {"12:17: rule 'r' needs at least one condition"}},
      {"ConditionMissingKeys",
       Sub(kBase, "        measure: rate\n        op: \">=\"\n        value: 1\n", ""),
       {"13:9: a condition is missing required key 'measure'",
        "13:9: a condition is missing required key 'op'",
        "13:9: a condition is missing required key 'value'"}},
      {"UnknownIndicatorWithSuggestion",
       Sub(kBase, "indicator: cash", "indicator: csh"),
       {"13:20: unknown indicator 'csh' (did you mean 'cash'?)"}},
      {"UnknownMeasure",
       Sub(kBase, "measure: rate", "measure: national_ration"),
       {"14:18: unknown measure 'national_ration' (did you mean 'national_ratio'?)"}},
      {"UnknownOp",
       Sub(kBase, "op: \">=\"", "op: \"=>\""),
       {"15:13: unknown op '=>' (expected one of: >=, >, <=, <, ==, !=)"}},
      {"ValueNotANumber",
       Sub(kBase, "value: 1", "value: high"),
       {"16:16: 'value' must be a number, got 'high'"}},
      {"PoissonPOnASum",
       Sub(Sub(Sub(kBase, "aggregate: count", "aggregate: sum\n    field: amount_eur"),
               "measure: rate", "measure: poisson_p"),
           "value: 1", "value: 0.01"),
       {"15:18: measure 'poisson_p' needs a count or share indicator; 'cash' is a sum"}},
      {"PercentileOutOfRange",
       Sub(Sub(kBase, "measure: rate", "measure: percentile"), "value: 1", "value: 150"),
       {"16:16: a percentile lies between 0 and 100, got 150"}},
      {"PoissonPOutOfRange",
       Sub(Sub(kBase, "measure: rate", "measure: poisson_p"), "value: 1", "value: 2"),
       {"16:16: a poisson_p probability lies between 0 and 1, got 2"}},
      {"DuplicateConditionId",
       Sub(Sub(kScoreBase, "- id: b", "- id: a"), "weights: { a: 0.5, b: 0.5 }",
           "weights: { a: 1 }"),
       {"21:13: duplicate condition id 'a' in this rule (first at line 16)",
        "21:13: a condition of a score rule needs an 'id': its weight is looked up by id in "
        "score.weights"}},
      {"MinEventsNegative",
       std::string(kBase) + "    min_events: -1\n",
       {"17:17: min_events must be 0 or more, got -1"}},
      {"MinEventsNotWhole",
       std::string(kBase) + "    min_events: 2.5\n",
       {"17:17: 'min_events' must be a whole number, got '2.5'"}},
      {"ForNotADuration",
       std::string(kBase) + "    for: 2w\n",
       {"17:10: 'for' must be a duration like 14d, 12h, 30m or 10s, got '2w'"}},
      {"CooldownNotADuration",
       std::string(kBase) + "    cooldown: -1d\n",
       {"17:15: 'cooldown' must be a duration like 14d, 12h, 30m or 10s, got '-1d'"}},
      {"LabelNotAString",
       std::string(kBase) + "    labels: { team: [a, b] }\n",
       {"17:21: 'team' must be a single value, not a list"}},
      // --- score -------------------------------------------------------------------------
      {"MatchAndScoreAreExclusive",
       Sub(kScoreBase, "    score:\n", "    match: all\n    score:\n"),
       {"13:5: 'match' and 'score' are exclusive: a rule either matches its conditions (all, "
        "any, at_least) or scores them"}},
      {"ScoreConditionWithoutId",
       Sub(kScoreBase, "      - id: b\n        indicator: cash\n", "      - indicator: cash\n"),
       {"13:26: weight for unknown condition 'b'",
        "21:9: a condition of a score rule needs an 'id': its weight is looked up by id in "
        "score.weights"}},
      {"ScoreConditionWithoutWeight",
       Sub(kScoreBase, "weights: { a: 0.5, b: 0.5 }", "weights: { a: 1 }"),
       {"21:13: condition 'b' has no weight in score.weights"}},
      {"WeightForUnknownCondition",
       Sub(kScoreBase, "weights: { a: 0.5, b: 0.5 }", "weights: { a: 0.5, b: 0.5, c: 1 }"),
       {"13:34: weight for unknown condition 'c'"}},
      {"WeightForMisspelledCondition",
       Sub(Sub(kScoreBase, "- id: a", "- id: cash-high"), "weights: { a: 0.5,",
           "weights: { cash-hihg: 0.5,"),
       {"13:18: weight for unknown condition 'cash-hihg' (did you mean 'cash-high'?)",
        "16:13: condition 'cash-high' has no weight in score.weights"}},
      {"NegativeWeight",
       Sub(kScoreBase, "weights: { a: 0.5, b: 0.5 }", "weights: { a: -1, b: 1 }"),
       {"13:21: weight of 'a' must be 0 or more, got -1"}},
      {"WeightsAddUpToZero",
       Sub(kScoreBase, "weights: { a: 0.5, b: 0.5 }", "weights: { a: 0, b: 0 }"),
       {"13:16: the weights add up to 0, so no score can be computed; give at least one "
        "condition a weight above 0"}},
      {"AlertAtAboveOne",
       Sub(kScoreBase, "alert_at: 0.5", "alert_at: 1.2"),
       {"14:17: alert_at 1.2 can never be reached: the score (sum of the weights of the "
        "conditions that hold / sum of all weights) is at most 1"}},
      {"AlertAtZero",
       Sub(kScoreBase, "alert_at: 0.5", "alert_at: 0"),
       {"14:17: alert_at must be above 0, got 0: at 0 the rule would fire while no condition "
        "holds"}},
      {"ScoreMissingAlertAt",
       Sub(kScoreBase, "      alert_at: 0.5\n", ""),
       {"13:7: score is missing required key 'alert_at'"}},
      // --- history and limits ----------------------------------------------------------
      {"WindowLongerThanRetention",
       Sub(kBase, "window: 30d", "window: 2000d"),
       {"9:13: window 2000d of indicator 'cash' is longer than the retention of 1830d"}},
      {"TrendNeedsFiveWindowsOfRetention",
       Sub(Sub(kBase, "window: 30d", "window: 400d"), "measure: rate", "measure: trend_ratio"),
       {"9:13: indicator 'cash' needs 2000d of history (5 x window 400d, because rule 'r' uses "
        "trend_ratio on it), more than the retention of 1830d"}},
      {"RetentionFromOptions",
       kBase,
       {"9:13: window 30d of indicator 'cash' is longer than the retention of 12h"},
       [](LoadOptions* o) { o->retention_ms = 12 * kMsPerHour; }},
      {"TooManyIndicators",
       Sub(kBase, "rules:\n",
           "  - {id: b, event: drug_finding, aggregate: count, window: 1d}\n"
           "rules:\n"),
       {"10:5: more than 1 indicators in one pack (LoadOptions::max_indicators)"},
       [](LoadOptions* o) { o->max_indicators = 1; }},
      {"TooManyRules",
       std::string(kBase) + "  - {id: s, conditions: [{indicator: cash, measure: rate, op: '<', "
                            "value: 1}]}\n",
       {"17:5: more than 1 rules in one pack (LoadOptions::max_rules)"},
       [](LoadOptions* o) { o->max_rules = 1; }},
      {"TooManyConditions",
       std::string(kBase) + "      - {indicator: cash, measure: rate, op: '<', value: 9}\n",
       {"17:9: more than 1 conditions in one rule (LoadOptions::max_conditions)"},
       [](LoadOptions* o) { o->max_conditions = 1; }},
      {"PackTooLarge",
       kBase,
       {"1:1: rule pack is " + std::to_string(sizeof(kBase) - 1) +
        " bytes, more than the limit of 100 (LoadOptions::max_pack_bytes)"},
       [](LoadOptions* o) { o->max_pack_bytes = 100; }},
      // --- baselines and the measures of SPEC 8.2 ----------------------------------
      {"UnknownBaselineWithSuggestion",
       Sub(kBase, "    window: 30d\n", "    window: 30d\n    baseline: leave-one-out\n"),
       {"10:15: unknown baseline 'leave-one-out' (expected national, leave_one_out or {peers: "
        "COLUMN} (a column of the municipalities file)); did you mean 'leave_one_out'?"}},
      {"PeersWithoutColumn",
       Sub(kBase, "    window: 30d\n", "    window: 30d\n    baseline: peers\n"),
       {"10:15: baseline 'peers' needs the column that defines the groups: {peers: "
        "urbanisation}"}},
      {"BaselineOfTheWrongShape",
       Sub(kBase, "    window: 30d\n", "    window: 30d\n    baseline: [national]\n"),
       {"10:15: baseline must be national, leave_one_out or {peers: COLUMN} (a column of the "
        "municipalities file), not a list"}},
      {"BaselineMapWithAnUnknownKey",
       Sub(kBase, "    window: 30d\n", "    window: 30d\n    baseline: { peer: urbanisation }\n"),
       {"10:15: baseline is missing required key 'peers'",
        "10:17: unknown key 'peer' (did you mean 'peers'?)"}},
      {"UnknownPeersColumnWhenTheTableIsKnown",
       Sub(kBase, "    window: 30d\n", "    window: 30d\n    baseline: { peers: urbanisaton }\n"),
       {"10:24: the municipalities file has no column 'urbanisaton' (did you mean "
        "'urbanisation'?)"},
       [](LoadOptions* o) {
         o->municipality_columns =
             std::vector<std::string>{"code", "name", "province", "population", "urbanisation"};
       }},
      {"BinomialPNeedsAShare",
       Sub(kBase, "measure: rate", "measure: binomial_p"),
       {"14:18: measure 'binomial_p' needs a share indicator (matching events out of all "
        "events of the type); 'cash' is a count; use poisson_p for counts"}},
      {"FunnelZNeedsCountOrShare",
       Sub(Sub(kBase, "    aggregate: count\n", "    aggregate: sum\n    field: amount_eur\n"),
           "measure: rate", "measure: funnel_z"),
       {"15:18: measure 'funnel_z' needs a count or share indicator; 'cash' is a sum"}},
      {"ShrunkRatioOnAReferenceIndicator",
       Sub(Ref("config/reference/youth_at_risk.csv"), "measure: percentile",
           "measure: shrunk_ratio"),
       {"15:18: measure 'shrunk_ratio' needs a count or share indicator; 'youth' is a "
        "reference indicator"}},
      {"QValueIsAProbability",
       Sub(Sub(kBase, "measure: rate", "measure: q_value"), "value: 1\n", "value: 5\n"),
       {"16:16: a q_value probability lies between 0 and 1, got 5"}},
      {"YoyOnAWindowOverAQuarter",
       Sub(Sub(kBase, "window: 30d", "window: 93d"), "measure: rate", "measure: yoy_ratio"),
       {"14:18: measure 'yoy_ratio' needs a window of at most 92d (a season, compared with the "
        "same season a year earlier); indicator 'cash' has window 93d (line 9)"}},
      {"YoyOnAReferenceIndicator",
       Sub(Ref("config/reference/youth_at_risk.csv"), "measure: percentile", "measure: yoy_ratio"),
       {"15:18: measure 'yoy_ratio' does not apply to reference indicator 'youth': a table has "
        "no history of windows"}},
      {"MunicipalityRatioNeedsANeighbourhoodIndicator",
       Sub(kBase, "measure: rate", "measure: municipality_ratio"),
       {"14:18: measure 'municipality_ratio' compares a neighbourhood with its own "
        "municipality; indicator 'cash' needs 'level: neighbourhood'"}},
      {"UnknownLevel",
       Sub(kBase, "    window: 30d\n", "    window: 30d\n    level: buurt\n"),
       {"10:12: unknown level 'buurt' (expected one of: municipality, neighbourhood)"}},
      {"NeighbourhoodLevelOnAReferenceIndicator",
       Sub(Ref("config/reference/youth_at_risk.csv"), "    aggregate: value\n",
           "    aggregate: value\n    level: neighbourhood\n"),
       {"8:12: 'level: neighbourhood' does not apply to a reference indicator (with 'source'): "
        "its table has one figure per municipality"}},
      {"RuleMixesLevels",
       Sub(kBase, "    window: 30d\n",
           "    window: 30d\n  - id: nb\n    event: suspicious_transaction\n"
           "    aggregate: count\n    window: 30d\n    level: neighbourhood\n") +
           "      - indicator: nb\n        measure: municipality_ratio\n        op: \">=\"\n"
           "        value: 2\n",
       {"22:9: rule 'r' mixes neighbourhood indicator 'nb' with municipality indicator 'cash': "
        "a rule is evaluated either per neighbourhood or per municipality; give 'cash' 'level: "
        "neighbourhood' too or split the rule"}},
      {"YoyNeedsAYearOfRetention",
       Sub(kBase, "measure: rate", "measure: yoy_ratio"),
       {"9:13: indicator 'cash' needs 394d of history (364 days + window 30d, because rule 'r' "
        "uses yoy_ratio on it), more than the retention of 200d"},
       [](LoadOptions* o) { o->retention_ms = 200 * kMsPerDay; }},
  };
  return c;
}

class ValidationTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidationTest, ReportsExactlyThisError) {
  const Case& c = GetParam();
  LoadOptions options;
  if (c.options) c.options(&options);
  PackLoadResult r = LoadRulePackText(c.yaml, "p.yaml", options);
  std::vector<std::string> expected;
  for (const std::string& e : c.errors) expected.push_back("p.yaml:" + e);
  EXPECT_THAT(ErrorsOf(r), ElementsAreArray(expected)) << c.yaml;
  EXPECT_FALSE(r.pack.has_value());
}

INSTANTIATE_TEST_SUITE_P(Errors, ValidationTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           return param.param.name;
                         });

TEST(ValidationTest, TheTemplatesThemselvesAreValid) {
  for (const std::string& text :
       {std::string(kBase), std::string(kScoreBase), std::string(kEventsBase),
        Ref("config/reference/youth_at_risk.csv")}) {
    PackLoadResult r = LoadRulePackText(text, "p.yaml");
    EXPECT_THAT(ErrorsOf(r), IsEmpty()) << text;
    EXPECT_TRUE(r.pack.has_value());
  }
}

TEST(ValidationTest, UnquotedNotEqualIsAccepted) {
  // `op: !=` is a YAML tag with an empty value; it can only mean "!=".
  PackLoadResult r = LoadRulePackText(Sub(kBase, "op: \">=\"", "op: !="), "p.yaml");
  ASSERT_THAT(ErrorsOf(r), IsEmpty());
  EXPECT_EQ(r.pack->rules[0].conditions[0].op, Op::kNe);
  for (const char* op : {"'>'", "<=", "<", "==", "\"!=\""}) {
    PackLoadResult q =
        LoadRulePackText(Sub(kBase, "op: \">=\"", std::string("op: ") + op), "p.yaml");
    EXPECT_THAT(ErrorsOf(q), IsEmpty()) << op;
  }
}

TEST(ValidationTest, SpecExampleNeedsMoreThan400DaysOfRetention) {
  LoadOptions o;
  o.retention_ms = 400 * kMsPerDay;
  PackLoadResult r = LoadRulePackFile(DataPath("spec_example.yaml"), o);
  EXPECT_THAT(ErrorsOf(r),
              ElementsAre(DataPath("spec_example.yaml") +
                          ":12:13: indicator 'cash_reports' needs 450d of history (5 x window "
                          "90d, because rule 'cash-surge' uses trend_ratio on it), more than the "
                          "retention of 400d"));
}

TEST(ValidationTest, EveryErrorOfAPackIsReportedInSourceOrder) {
  const std::string text =
      "apiVersion: zicht/v2\n"                    // 1
      "kind: RulePack\n"                          // 2
      "metadata: { name: multi, colour: red }\n"  // 3
      "indicators:\n"                             // 4
      "  - id: a\n"                               // 5
      "    event: drug_finding\n"                 // 6
      "    aggregate: sum\n"                      // 7
      "    window: 30x\n"                         // 8
      "  - id: a\n"                               // 9
      "    event: property_sale\n"                // 10
      "    aggregate: share\n"                    // 11
      "    where: { buyer_type: alien }\n"        // 12
      "    window: 7d\n"                          // 13
      "rules:\n"                                  // 14
      "  - id: r\n"                               // 15
      "    severity: urgent\n"                    // 16
      "    conditions:\n"                         // 17
      "      - indicator: b\n"                    // 18
      "        measure: poisson\n"                // 19
      "        op: '=<'\n"                        // 20
      "        value: x\n"                        // 21
      "    cooldown: soon\n";                     // 22
  PackLoadResult r = LoadRulePackText(text, "multi.yaml");
  EXPECT_FALSE(r.pack.has_value());
  EXPECT_THAT(
      ErrorsOf(r),
      ElementsAre(
          "multi.yaml:1:13: unsupported apiVersion 'zicht/v2' (expected 'zicht/v1')",
          "multi.yaml:3:26: unknown key 'colour' (expected one of: name, theme, title, "
          "description, owner)",
          "multi.yaml:7:16: indicator 'a' needs 'field': the number field to add up",
          "multi.yaml:8:13: 'window' must be a duration like 14d, 12h, 30m or 10s, got '30x'",
          "multi.yaml:9:9: duplicate indicator id 'a' (first at line 5)",
          "multi.yaml:12:26: 'alien' is not a value of property_sale.buyer_type (person, "
          "company, foreign_company)",
          "multi.yaml:16:15: unknown severity 'urgent' (expected one of: info, low, medium, "
          "high, critical)",
          "multi.yaml:18:20: unknown indicator 'b'",
          "multi.yaml:19:18: unknown measure 'poisson' (did you mean 'poisson_p'?)",
          "multi.yaml:20:13: unknown op '=<' (expected one of: >=, >, <=, <, ==, !=)",
          "multi.yaml:21:16: 'value' must be a number, got 'x'",
          "multi.yaml:22:15: 'cooldown' must be a duration like 14d, 12h, 30m or 10s, got "
          "'soon'"));
}

TEST(ValidationTest, WhereValuesAreNormalisedForTheirFieldType) {
  const std::string text =
      Sub(Sub(kBase, "suspicious_transaction", "property_sale"), "    window: 30d\n",
          "    window: 30d\n    where: { resale_days: [30, 1.50, 2e1], financing: none }\n");
  PackLoadResult r = LoadRulePackText(text, "p.yaml");
  ASSERT_THAT(ErrorsOf(r), IsEmpty());
  const auto& where = r.pack->indicators[0].where;
  ASSERT_EQ(where.size(), 2u);
  EXPECT_EQ(where[0].field, "resale_days");
  EXPECT_THAT(where[0].values, ElementsAre("30", "1.5", "20"));
  EXPECT_EQ(where[1].field, "financing");
  EXPECT_THAT(where[1].values, ElementsAre("none"));
}

TEST(ValidationTest, InvalidUtf8IsEscapedAndUnicodeKept) {
  const std::string text =
      Sub(kBase, "kind: RulePack", "kind: \"Z\xc3\xbcrich \xe2\x98\x83 \xff\xc3\x28\"");
  PackLoadResult r = LoadRulePackText(text, "p.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(),
            "p.yaml:2:7: kind must be 'RulePack', got 'Z\xc3\xbcrich \xe2\x98\x83 \\xff\\xc3('");
}

TEST(ValidationTest, ControlCharactersAndLongTextStayReadableInMessages) {
  const std::string text =
      Sub(kBase, "kind: RulePack", "kind: \"Rule\\tPack" + std::string(300, 'x') + "\"");
  PackLoadResult r = LoadRulePackText(text, "p.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(), "p.yaml:2:7: kind must be 'RulePack', got 'Rule\\x09Pack" +
                                        std::string(151, 'x') + "...'");
}

}  // namespace
}  // namespace zicht::rules
