// Alert ids and the SPEC section 5 alert record.
#include "zicht/rules/alert.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <limits>

namespace zicht::rules {
namespace {

TimeMs At(const char* rfc3339) {
  return ParseRfc3339(rfc3339).value();
}

TEST(AlertIdTest, MatchesSha256OfTheSpecText) {
  // printf 'r|v|GM0363|2026-03-04' | sha256sum
  EXPECT_EQ(AlertId("r", "v", "GM0363", At("2026-03-04T22:10:00Z")),
            "1c992e0faec5db0dbc4605774b61cb92ecc365d37fd569823f39d5170ed2ebfe");
  // printf 'property-and-drugs|9a1b2c3d4e5f6071|GM0855|2026-03-04' | sha256sum
  EXPECT_EQ(AlertId("property-and-drugs", "9a1b2c3d4e5f6071", "GM0855", At("2026-03-04T00:00:00Z")),
            "576aa1782835340afc9ba7954ef594bd25710023999b7cf5b986b3650f361139");
}

TEST(AlertIdTest, SameUtcDaySameId) {
  const std::string a = AlertId("r", "v", "GM0363", At("2026-03-04T00:00:00Z"));
  EXPECT_EQ(a, AlertId("r", "v", "GM0363", At("2026-03-04T23:59:59.999Z")));
  EXPECT_EQ(a, AlertId("r", "v", "GM0363", At("2026-03-05T00:30:00+01:00")));  // 23:30Z
  EXPECT_NE(a, AlertId("r", "v", "GM0363", At("2026-03-05T00:00:00Z")));
  EXPECT_NE(a, AlertId("r", "w", "GM0363", At("2026-03-04T00:00:00Z")));
  EXPECT_NE(a, AlertId("r", "v", "GM0362", At("2026-03-04T00:00:00Z")));
  EXPECT_EQ(a.size(), 64u);
}

Alert SampleAlert() {
  Alert a;
  a.alert_id = "5f0c";
  a.rule = "property-and-drugs";
  a.rule_version = "9a1b";
  a.pack = "ondermijning-example";
  a.severity = Severity::kHigh;
  a.municipality = "GM0855";
  a.municipality_name = "Tilburg";
  a.event_time = At("2026-03-04T22:10:00Z");
  a.emitted_at = At("2026-11-28T14:00:00.123Z");
  ConditionOutcome c;
  c.indicator = "drug_sites";
  c.measure = Measure::kPoissonP;
  c.op = Op::kLe;
  c.value = 0.001;
  c.observed = 0.00002;
  c.count = 31;
  c.expected = 12.4;
  c.rate = 0.137;
  c.national_rate = 0.055;
  c.window = "365d";
  c.held = true;
  a.conditions.push_back(c);
  ConditionOutcome t;
  t.id = "cash-trend";
  t.indicator = "cash_reports";
  t.measure = Measure::kTrendRatio;
  t.op = Op::kGe;
  t.value = 2;
  t.observed = std::numeric_limits<double>::infinity();
  t.count = 4;
  t.window = "90d";
  t.baseline = "leave_one_out";
  t.held = true;
  a.conditions.push_back(t);
  ConditionOutcome r;
  r.indicator = "youth_at_risk";
  r.measure = Measure::kPercentile;
  r.op = Op::kNe;
  r.value = 50;
  r.rate = std::numeric_limits<double>::quiet_NaN();
  r.baseline = "peers:urbanisation";
  a.conditions.push_back(r);
  a.score = 1.0;
  a.evidence = {"pol-000001", "pol-000002"};
  a.labels = {{"team", "vastgoed"}, {"area", "zuid \"oost\""}};
  return a;
}

TEST(AlertToJsonTest, Golden) {
  const std::string expected =
      R"({"alert_id":"5f0c","rule":"property-and-drugs","rule_version":"9a1b",)"
      R"("pack":"ondermijning-example","severity":"high","municipality":"GM0855",)"
      R"("municipality_name":"Tilburg","event_time":"2026-03-04T22:10:00Z",)"
      R"("emitted_at":"2026-11-28T14:00:00.123Z","conditions":[)"
      R"({"indicator":"drug_sites","measure":"poisson_p","op":"<=","value":0.001,)"
      R"("observed":2e-05,"count":31,"expected":12.4,"rate":0.137,"national_rate":0.055,)"
      R"("window":"365d","baseline":"national","held":true},)"
      R"({"id":"cash-trend","indicator":"cash_reports","measure":"trend_ratio","op":">=",)"
      R"("value":2.0,"observed":"+Inf","count":4,"expected":null,"rate":null,)"
      R"("national_rate":null,"window":"90d","baseline":"leave_one_out","held":true},)"
      R"({"indicator":"youth_at_risk","measure":"percentile","op":"!=","value":50.0,)"
      R"("observed":null,"count":0,"expected":null,"rate":null,"national_rate":null,)"
      R"("window":null,"baseline":"peers:urbanisation","held":false}],)"
      R"("score":1.0,"evidence":["pol-000001","pol-000002"],)"
      R"("labels":{"area":"zuid \"oost\"","team":"vastgoed"}})";
  EXPECT_EQ(AlertToJson(SampleAlert()), expected);
}

TEST(AlertToJsonTest, IsValidJsonWithTheSpecFieldsInOrder) {
  const std::string json = AlertToJson(SampleAlert());
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  simdjson::dom::object obj;
  ASSERT_EQ(doc.get(obj), simdjson::SUCCESS);
  std::vector<std::string> keys;
  for (auto field : obj) keys.emplace_back(field.key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"alert_id", "rule", "rule_version", "pack", "severity",
                                      "municipality", "municipality_name", "event_time",
                                      "emitted_at", "conditions", "score", "evidence", "labels"}));
  // Named results only: chained simdjson temporaries trip GCC's -Wdangling-pointer.
  simdjson::dom::array conditions;
  ASSERT_EQ(obj.at_key("conditions").get(conditions), simdjson::SUCCESS);
  ASSERT_EQ(conditions.size(), 3u);
  std::vector<simdjson::dom::object> c(3);
  for (size_t i = 0; i < 3; ++i) ASSERT_EQ(conditions.at(i).get(c[i]), simdjson::SUCCESS);
  std::vector<std::string> ckeys;
  for (auto field : c[1]) ckeys.emplace_back(field.key);
  EXPECT_EQ(ckeys, (std::vector<std::string>{"id", "indicator", "measure", "op", "value",
                                             "observed", "count", "expected", "rate",
                                             "national_rate", "window", "baseline", "held"}));
  double observed = 0;
  ASSERT_EQ(c[0].at_key("observed").get(observed), simdjson::SUCCESS);
  EXPECT_EQ(observed, 0.00002);
  int64_t count = 0;
  ASSERT_EQ(c[0].at_key("count").get(count), simdjson::SUCCESS);
  EXPECT_EQ(count, 31);
  std::string_view inf;
  ASSERT_EQ(c[1].at_key("observed").get(inf), simdjson::SUCCESS);
  EXPECT_EQ(inf, "+Inf");
  simdjson::dom::element window, rate;
  ASSERT_EQ(c[2].at_key("window").get(window), simdjson::SUCCESS);
  ASSERT_EQ(c[2].at_key("rate").get(rate), simdjson::SUCCESS);
  EXPECT_TRUE(window.is_null());
  EXPECT_TRUE(rate.is_null());  // NaN is not JSON
  simdjson::dom::object labels;
  ASSERT_EQ(obj.at_key("labels").get(labels), simdjson::SUCCESS);
  std::string_view label;
  ASSERT_EQ(labels.at_key("area").get(label), simdjson::SUCCESS);
  EXPECT_EQ(label, "zuid \"oost\"");
}

TEST(AlertToJsonTest, UntrustedTextStaysValidJson) {
  Alert a = SampleAlert();
  a.municipality_name = std::string("\x01\xff\"\\\n", 5);
  a.evidence = {std::string("id\0x", 4)};
  const std::string json = AlertToJson(a);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
}

}  // namespace
}  // namespace zicht::rules
