// The read API on a small real engine: the JSON alerts list, the CSV exports
// (one row per municipality, alert or indicator; the JSON's suppressed cells
// empty; RFC 4180 quoting; formula injection defused) and how a request picks
// JSON or CSV, also through the HTTP routes on a loopback port.
#include "zicht/api/api.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <set>

#include "../monitoring/http_client.h"
#include "api_world.h"
#include "zicht/api/routes.h"
#include "zicht/base/csv.h"
#include "zicht/base/file.h"
#include "zicht/connectors/record_sink.h"
#include "zicht/runtime/plan_loader.h"
#include "zicht/runtime/rocksdb_state_store.h"

namespace zicht::api {
namespace {

// Names a spreadsheet trips over: a comma, quotes, and text it would run.
constexpr const char* kMunicipalities =
    "code,name,province,population\n"
    "GM0001,\"Nuenen, Gerwen en Nederwetten\",Noord-Brabant,24000\n"
    "GM0002,\"Het \"\"Dorp\"\"\",Utrecht,50000\n"
    "GM0003,\"=HYPERLINK(\"\"http://evil.example\"\")\",@Zeeland,30000\n"
    "GM0004,Grootstad,Zuid-Holland,500000\n"
    "GM0005,Middenstad,Gelderland,150000\n";

constexpr const char* kPack = R"(apiVersion: zicht/v1
kind: RulePack
metadata: { name: csv-test, theme: test }
indicators:
  - id: drug_sites
    title: Drug sites
    event: drug_finding
    aggregate: count
    window: 30d
rules:
  - id: two-drug-sites
    title: Two drug sites in a month
    severity: high
    conditions:
      - { indicator: drug_sites, measure: value, op: ">=", value: 2 }
)";

// Drug findings per municipality, spread over ten days of March 2026.
const std::map<std::string, int> kFindings = {
    {"GM0001", 2}, {"GM0003", 1}, {"GM0004", 20}, {"GM0005", 8}};

// One engine over the files above, shared by every test (read-only).
using testing::BuildWorld;
using testing::World;
World* world = nullptr;

std::string Event(const std::string& code, int i, const std::string& time) {
  return R"({"type":"drug_finding","id":")" + code + "-" + std::to_string(i) + R"(","time":")" +
         time + R"(","municipality":")" + code +
         R"(","kind":"hemp_plantation","property":"residential"})";
}

std::vector<std::string> Feed() {
  std::vector<std::string> lines;
  for (int day = 1; day <= 10; ++day) {
    for (const auto& [code, n] : kFindings) {
      for (int i = 0; i < n; ++i) {
        if (i % 10 + 1 != day) continue;
        char time[32];
        std::snprintf(time, sizeof time, "2026-03-%02dT%02d:00:00Z", day, 8 + i / 10);
        lines.push_back(Event(code, i, time));
      }
    }
  }
  // Days later, so that the national figures (closed days only) cover the rest.
  lines.push_back(Event("GM0004", 99, "2026-03-14T12:00:00Z"));
  return lines;
}

class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new World;
    ASSERT_NO_FATAL_FAILURE(BuildWorld(world, "api-test", kMunicipalities, kPack, Feed()));
  }
  static void TearDownTestSuite() {
    delete world;
    world = nullptr;
  }
  engine::Engine& engine() { return *world->engine; }
};

simdjson::dom::element ParseJson(simdjson::dom::parser& parser, const std::string& text) {
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS) << text.substr(0, 300);
  return doc;
}

CsvTable ParseCsvBody(const ApiResult& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/csv; charset=utf-8");
  auto t = ParseCsv(r.body, "body.csv");
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(*t) : CsvTable{};
}

// The row of a municipality (by code) in a ranking CSV.
const CsvRow* RowOf(const CsvTable& t, const std::string& code) {
  const int col = t.Column("code");
  for (const CsvRow& row : t.rows) {
    if (row.fields[static_cast<size_t>(col)] == code) return &row;
  }
  return nullptr;
}

std::string Cell(const CsvTable& t, const CsvRow& row, const std::string& column) {
  const int col = t.Column(column);
  EXPECT_GE(col, 0) << column;
  return col < 0 ? "" : row.fields[static_cast<size_t>(col)];
}

// Regression: /api/v1/alerts crashed when api was built without simdjson's
// compile definitions (a different parser layout); it must re-write stored
// alerts, with disclosure control on their conditions.
TEST_F(ApiTest, AlertsJsonListsTheAlertsNewestFirst) {
  ApiResult r = AlertsJson(engine(), "", "", "", ApiOptions{});
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  simdjson::dom::element doc = ParseJson(parser, r.body);
  simdjson::dom::array alerts;
  ASSERT_EQ(doc["alerts"].get_array().get(alerts), simdjson::SUCCESS);
  ASSERT_EQ(alerts.size(), engine().recent_alerts().size());
  ASSERT_GE(alerts.size(), 2u);
  std::set<std::string> munis;
  std::string previous = "9999";
  bool suppressed_seen = false;
  for (simdjson::dom::element a : alerts) {
    std::string_view muni, emitted, rule;
    ASSERT_EQ(a["municipality"].get_string().get(muni), simdjson::SUCCESS);
    ASSERT_EQ(a["emitted_at"].get_string().get(emitted), simdjson::SUCCESS);
    ASSERT_EQ(a["rule"].get_string().get(rule), simdjson::SUCCESS);
    EXPECT_EQ(rule, "two-drug-sites");
    EXPECT_LE(std::string(emitted), previous);
    previous = std::string(emitted);
    munis.insert(std::string(muni));
    // Named results only: chained simdjson temporaries trip GCC's -Wdangling-pointer.
    simdjson::dom::array conditions;
    ASSERT_EQ(a["conditions"].get_array().get(conditions), simdjson::SUCCESS);
    simdjson::dom::element c;
    ASSERT_EQ(conditions.at(0).get(c), simdjson::SUCCESS);
    bool suppressed = false;
    if (c["suppressed"].get_bool().get(suppressed) == simdjson::SUCCESS && suppressed) {
      suppressed_seen = true;
      EXPECT_TRUE(c["count"].is_null());
      EXPECT_TRUE(c["observed"].is_null());
    }
  }
  // Two findings in Nuenen alert, but its count of 2 is not shown.
  EXPECT_EQ(munis, (std::set<std::string>{"GM0001", "GM0004", "GM0005"}));
  EXPECT_TRUE(suppressed_seen);
  ApiResult one = AlertsJson(engine(), "", "1", "GM0004", ApiOptions{});
  ASSERT_EQ(one.status, 200);
  simdjson::dom::array first;
  ASSERT_EQ(ParseJson(parser, one.body)["alerts"].get_array().get(first), simdjson::SUCCESS);
  EXPECT_EQ(first.size(), 1u);
  EXPECT_EQ(AlertsJson(engine(), "", "0", "", ApiOptions{}).status, 400);
}

TEST_F(ApiTest, RankingCsvHasAHeaderAndOneRowPerMunicipalityInTheJsonOrder) {
  ApiResult r = IndicatorCsv(engine(), "drug_sites", "", ApiOptions{});
  CsvTable t = ParseCsvBody(r);
  EXPECT_EQ(t.header,
            (std::vector<std::string>{
                "rank",       "code",          "name",           "province",        "population",
                "suppressed", "live",          "count",          "value",           "rate",
                "expected",   "national_rate", "national_ratio", "national_zscore", "poisson_p",
                "percentile", "trend_ratio",   "shrunk_ratio",   "funnel_z",        "q_value"}));
  ASSERT_EQ(t.rows.size(), 5u);
  EXPECT_EQ(r.filename, "zicht-ranking-csv-test-drug_sites-2026-03-14.csv");
  // The same order and ranks as the JSON.
  simdjson::dom::parser parser;
  ApiResult json = IndicatorJson(engine(), "drug_sites", "", ApiOptions{});
  simdjson::dom::array munis;
  ASSERT_EQ(ParseJson(parser, json.body)["municipalities"].get_array().get(munis),
            simdjson::SUCCESS);
  size_t i = 0;
  for (simdjson::dom::element m : munis) {
    std::string_view code;
    ASSERT_EQ(m["code"].get_string().get(code), simdjson::SUCCESS);
    EXPECT_EQ(Cell(t, t.rows[i], "code"), code);
    int64_t rank = 0;
    if (m["rank"].get_int64().get(rank) == simdjson::SUCCESS) {
      EXPECT_EQ(Cell(t, t.rows[i], "rank"), std::to_string(rank));
    } else {
      EXPECT_EQ(Cell(t, t.rows[i], "rank"), "");
    }
    ++i;
  }
  // Middenstad's 8 per 150,000 is a higher rate than Grootstad's 21 per 500,000.
  EXPECT_EQ(Cell(t, t.rows[0], "code"), "GM0005");
  EXPECT_EQ(Cell(t, t.rows[0], "rank"), "1");
  EXPECT_EQ(Cell(t, t.rows[1], "code"), "GM0004");
  EXPECT_EQ(Cell(t, t.rows[1], "rank"), "2");
  EXPECT_EQ(Cell(t, t.rows[2], "rank"), "") << "suppressed: unranked";
  EXPECT_EQ(Cell(t, *RowOf(t, "GM0004"), "count"), "21");
  EXPECT_EQ(Cell(t, *RowOf(t, "GM0004"), "population"), "500000");
}

// Every figure the JSON gives as null is an empty cell, and no other is.
TEST_F(ApiTest, RankingCsvLeavesEveryCellTheJsonSuppressesEmpty) {
  CsvTable t = ParseCsvBody(IndicatorCsv(engine(), "drug_sites", "", ApiOptions{}));
  simdjson::dom::parser parser;
  ApiResult json = IndicatorJson(engine(), "drug_sites", "", ApiOptions{});
  simdjson::dom::array munis;
  ASSERT_EQ(ParseJson(parser, json.body)["municipalities"].get_array().get(munis),
            simdjson::SUCCESS);
  int suppressed = 0;
  for (simdjson::dom::element m : munis) {
    std::string_view code;
    ASSERT_EQ(m["code"].get_string().get(code), simdjson::SUCCESS);
    const CsvRow* row = RowOf(t, std::string(code));
    ASSERT_NE(row, nullptr) << code;
    bool hidden = false;
    ASSERT_EQ(m["suppressed"].get_bool().get(hidden), simdjson::SUCCESS);
    EXPECT_EQ(Cell(t, *row, "suppressed"), hidden ? "true" : "false") << code;
    suppressed += hidden;
    for (const char* k : {"count", "value", "rate", "expected", "national_rate", "national_ratio",
                          "national_zscore", "poisson_p", "percentile", "trend_ratio",
                          "shrunk_ratio", "funnel_z", "q_value"}) {
      EXPECT_EQ(m[k].is_null(), Cell(t, *row, k).empty()) << code << " " << k;
    }
  }
  // Nuenen (2), the "=HYPERLINK" one (1) and Het "Dorp" (0) are below 5.
  EXPECT_EQ(suppressed, 3);
  const CsvRow& nuenen = *RowOf(t, "GM0001");
  EXPECT_EQ(Cell(t, nuenen, "suppressed"), "true");
  for (const char* k : {"rank", "count", "value", "rate", "national_ratio", "poisson_p"}) {
    EXPECT_EQ(Cell(t, nuenen, k), "") << k;
  }
  EXPECT_NE(Cell(t, nuenen, "national_rate"), "") << "pooled over all: never suppressed";
  // Above the minimum everything is there.
  EXPECT_EQ(Cell(t, *RowOf(t, "GM0005"), "count"), "8");
  EXPECT_NE(Cell(t, *RowOf(t, "GM0005"), "national_ratio"), "");
  // A higher minimum suppresses more, in both formats alike.
  ApiOptions strict;
  strict.disclosure_min_count = 10;
  CsvTable s = ParseCsvBody(IndicatorCsv(engine(), "drug_sites", "", strict));
  EXPECT_EQ(Cell(s, *RowOf(s, "GM0005"), "suppressed"), "true");
  EXPECT_EQ(Cell(s, *RowOf(s, "GM0005"), "count"), "");
}

TEST_F(ApiTest, CsvQuotesNamesWithCommasAndQuotes) {
  ApiResult r = IndicatorCsv(engine(), "drug_sites", "", ApiOptions{});
  EXPECT_NE(r.body.find(",\"Nuenen, Gerwen en Nederwetten\","), std::string::npos);
  EXPECT_NE(r.body.find(",\"Het \"\"Dorp\"\"\","), std::string::npos);
  EXPECT_NE(r.body.find("\r\n"), std::string::npos) << "RFC 4180 line ends";
  CsvTable t = ParseCsvBody(r);
  EXPECT_EQ(Cell(t, *RowOf(t, "GM0001"), "name"), "Nuenen, Gerwen en Nederwetten");
  EXPECT_EQ(Cell(t, *RowOf(t, "GM0002"), "name"), "Het \"Dorp\"");
  // In the alerts too (municipality_name comes from the alert record).
  CsvTable a = ParseCsvBody(AlertsCsv(engine(), "", "", "GM0001", ApiOptions{}));
  ASSERT_GE(a.rows.size(), 1u);
  EXPECT_EQ(Cell(a, a.rows[0], "municipality_name"), "Nuenen, Gerwen en Nederwetten");
}

TEST_F(ApiTest, CsvDefusesTextASpreadsheetWouldRunAsAFormula) {
  CsvTable t = ParseCsvBody(IndicatorCsv(engine(), "drug_sites", "", ApiOptions{}));
  const CsvRow& evil = *RowOf(t, "GM0003");
  EXPECT_EQ(Cell(t, evil, "name"), "'=HYPERLINK(\"http://evil.example\")");
  EXPECT_EQ(Cell(t, evil, "province"), "'@Zeeland");
  // The JSON is not a spreadsheet: it keeps the name as it is.
  ApiResult json = MunicipalityJson(engine(), "GM0003", ApiOptions{});
  EXPECT_NE(json.body.find(R"x("name":"=HYPERLINK(\"http://evil.example\")")x"), std::string::npos);
  // Numbers are not text: no apostrophe before a number, negative or not.
  for (const CsvRow& row : t.rows) {
    for (const char* k : {"national_zscore", "rank", "population"}) {
      EXPECT_NE(Cell(t, row, k).substr(0, 1), "'") << k;
    }
  }
}

TEST_F(ApiTest, AlertsCsvHasOneRowPerAlertWithTheConditionsSummarised) {
  ApiResult r = AlertsCsv(engine(), "", "", "", ApiOptions{});
  CsvTable t = ParseCsvBody(r);
  EXPECT_EQ(t.header, (std::vector<std::string>{
                          "alert_id", "rule", "rule_version", "pack", "severity", "municipality",
                          "municipality_name", "event_time", "emitted_at", "score", "conditions"}));
  EXPECT_EQ(t.rows.size(), engine().recent_alerts().size());
  EXPECT_EQ(r.filename, "zicht-alerts-2026-03-14.csv");
  EXPECT_EQ(AlertsCsv(engine(), "", "", "GM0004", ApiOptions{}).filename,
            "zicht-alerts-GM0004-2026-03-14.csv");
  bool shown = false, hidden = false;
  for (const CsvRow& row : t.rows) {
    EXPECT_EQ(Cell(t, row, "rule"), "two-drug-sites");
    EXPECT_EQ(Cell(t, row, "severity"), "high");
    EXPECT_EQ(Cell(t, row, "alert_id").size(), 64u);
    const std::string conditions = Cell(t, row, "conditions");
    EXPECT_EQ(conditions.rfind("drug_sites value >= 2 (", 0), 0u) << conditions;
    if (Cell(t, row, "municipality") == "GM0001") {
      // Suppressed in the JSON: neither the observed value nor the count.
      EXPECT_EQ(conditions, "drug_sites value >= 2 (suppressed, held)");
      hidden = true;
    } else if (Cell(t, row, "municipality") == "GM0004" && !shown) {
      EXPECT_NE(conditions.find("count "), std::string::npos) << conditions;
      EXPECT_NE(conditions.find("observed "), std::string::npos) << conditions;
      shown = true;
    }
  }
  EXPECT_TRUE(shown);
  EXPECT_TRUE(hidden);
  EXPECT_EQ(AlertsCsv(engine(), "yesterday", "", "", ApiOptions{}).status, 400);
}

TEST_F(ApiTest, MunicipalityCsvHasOneRowPerIndicator) {
  ApiResult r = MunicipalityCsv(engine(), "GM0001", ApiOptions{});
  CsvTable t = ParseCsvBody(r);
  EXPECT_EQ(r.filename, "zicht-municipality-GM0001-2026-03-14.csv");
  ASSERT_EQ(t.rows.size(), engine().plan().indicators().size());
  const CsvRow& row = t.rows[0];
  EXPECT_EQ(Cell(t, row, "pack"), "csv-test");
  EXPECT_EQ(Cell(t, row, "indicator"), "drug_sites");
  EXPECT_EQ(Cell(t, row, "title"), "Drug sites");
  EXPECT_EQ(Cell(t, row, "window"), "30d");
  EXPECT_EQ(Cell(t, row, "suppressed"), "true");
  EXPECT_EQ(Cell(t, row, "count"), "");
  EXPECT_EQ(Cell(t, row, "rate"), "");
  CsvTable big = ParseCsvBody(MunicipalityCsv(engine(), "GM0004", ApiOptions{}));
  EXPECT_EQ(Cell(big, big.rows[0], "suppressed"), "false");
  EXPECT_EQ(Cell(big, big.rows[0], "count"), "21");
  // Errors are the JSON errors.
  ApiResult missing = MunicipalityCsv(engine(), "GM9999", ApiOptions{});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(IndicatorCsv(engine(), "nope", "", ApiOptions{}).status, 404);
}

monitoring::HttpRequest Request(std::map<std::string, std::string> query, std::string accept = "") {
  monitoring::HttpRequest r;
  r.query = std::move(query);
  if (!accept.empty()) r.headers["accept"] = std::move(accept);
  return r;
}

TEST(RequestedFormatTest, QueryWinsOverAcceptAndJsonIsTheDefault) {
  using F = ResponseFormat;
  auto format = [](monitoring::HttpRequest r) {
    Result<ResponseFormat> f = RequestedFormat(r);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? *f : F::kJson;
  };
  EXPECT_EQ(format(Request({})), F::kJson);
  EXPECT_EQ(format(Request({{"format", "csv"}})), F::kCsv);
  EXPECT_EQ(format(Request({{"format", "CSV"}})), F::kCsv);
  EXPECT_EQ(format(Request({{"format", "json"}})), F::kJson);
  EXPECT_EQ(format(Request({}, "text/csv")), F::kCsv);
  EXPECT_EQ(format(Request({{"format", "json"}}, "text/csv")), F::kJson);
  EXPECT_EQ(format(Request({{"format", "csv"}}, "application/json")), F::kCsv);
  EXPECT_EQ(format(Request({}, "application/json")), F::kJson);
  EXPECT_EQ(format(Request({}, "*/*")), F::kJson);
  EXPECT_EQ(format(Request({}, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")),
            F::kJson);
  EXPECT_EQ(format(Request({}, "Text/CSV; charset=utf-8, */*;q=0.1")), F::kCsv);
  EXPECT_EQ(format(Request({}, "application/json;q=0.5, text/csv")), F::kCsv);
  EXPECT_EQ(format(Request({}, "text/csv;q=0.5, application/json")), F::kJson);
  EXPECT_EQ(format(Request({}, "text/csv, application/json")), F::kJson) << "a tie keeps JSON";
  EXPECT_EQ(format(Request({}, "text/csv;q=0")), F::kJson);
  EXPECT_EQ(format(Request({}, "text/csv;q=oops")), F::kCsv) << "a malformed q counts as 1";

  Result<ResponseFormat> bad = RequestedFormat(Request({{"format", "xlsx"}}, "text/csv"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "format: expected json or csv");
}

// The routes on a real server: format by query or Accept, download headers,
// JSON errors whatever was asked for.
TEST_F(ApiTest, RoutesAnswerCsvByQueryOrAcceptAndErrorsInJson) {
  monitoring::HttpServerOptions so;
  so.bind_address = "127.0.0.1";
  so.port = 0;
  so.log = [](std::string_view) {};
  monitoring::HttpServer server(so);
  std::mutex engine_mutex;  // the engine thread, in miniature
  EngineCall call = [&](const std::function<void(engine::Engine&)>& task,
                        std::chrono::milliseconds) {
    std::lock_guard<std::mutex> lock(engine_mutex);
    task(engine());
    return Status::Ok();
  };
  ASSERT_TRUE(InstallApiRoutes(server, RouteOptions{}, call).ok());
  ASSERT_TRUE(server.Start().ok());
  using monitoring::testing::Get;
  const uint16_t port = server.port();

  auto csv = Get(port, "/api/v1/indicators/drug_sites?format=csv");
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.header("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.header("Content-Disposition"),
            "attachment; filename=\"zicht-ranking-csv-test-drug_sites-2026-03-14.csv\"");
  EXPECT_EQ(csv.header("Vary"), "Accept");
  EXPECT_EQ(csv.body.rfind("rank,code,name,", 0), 0u);
  EXPECT_EQ(csv.body, IndicatorCsv(engine(), "drug_sites", "", ApiOptions{}).body);

  auto accepted = Get(port, "/api/v1/alerts?municipality=GM0004", {{"Accept", "text/csv"}});
  EXPECT_EQ(accepted.status, 200);
  EXPECT_EQ(accepted.header("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(accepted.body.rfind("alert_id,rule,", 0), 0u);
  auto muni = Get(port, "/api/v1/municipalities/GM0001", {{"Accept", "text/csv"}});
  EXPECT_EQ(muni.header("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(muni.body.rfind("pack,theme,indicator,", 0), 0u);

  // The query wins over Accept; no format at all stays JSON, as before.
  auto json = Get(port, "/api/v1/indicators/drug_sites?format=json", {{"Accept", "text/csv"}});
  EXPECT_EQ(json.header("Content-Type"), "application/json");
  EXPECT_EQ(json.header("Content-Disposition"), "");
  EXPECT_EQ(json.body.front(), '{');
  EXPECT_EQ(Get(port, "/api/v1/alerts").header("Content-Type"), "application/json");

  auto unknown = Get(port, "/api/v1/alerts?format=xml");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.header("Content-Type"), "application/json");
  EXPECT_EQ(unknown.body, "{\"error\":\"format: expected json or csv\"}\n");
  auto missing = Get(port, "/api/v1/municipalities/GM9999?format=csv");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("Content-Type"), "application/json");
  // The other endpoints are JSON only.
  EXPECT_EQ(Get(port, "/api/v1/rules", {{"Accept", "text/csv"}}).header("Content-Type"),
            "application/json");
  server.Stop();
}

}  // namespace
}  // namespace zicht::api
