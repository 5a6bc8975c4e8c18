// GET /api/v1/regions (SPEC 8.3) on a small real engine: every indicator per
// province, RIEC region and police unit, pooled as the national figure and
// against it. Every expected number is computed here from the planted counts
// alone (Poisson and binomial pmf summed directly, no Boost); municipalities
// without a value are unassigned; an unknown column is a 400, an empty or
// missing one no regions; small region cells are suppressed, also when the
// region minus its shown members would reveal its suppressed members.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../monitoring/http_client.h"
#include "api_world.h"
#include "zicht/api/api.h"
#include "zicht/api/routes.h"
#include "zicht/base/csv.h"

namespace zicht::api {
namespace {

// riec_region and police_unit with gaps (GM0005 in no RIEC region, GM0004 in no
// police unit); urbanisation is an extra column that is no region.
constexpr const char* kMunicipalities =
    "code,name,province,population,riec_region,police_unit,urbanisation\n"
    "GM0001,Klein,Utrecht,10000,Midden-Nederland,Oost,3\n"
    "GM0002,Groot,Zuid-Holland,400000,Rotterdam,Rotterdam,1\n"
    "GM0003,Midden,Utrecht,100000,Midden-Nederland,Oost,2\n"
    "GM0004,Dorp,Zuid-Holland,20000,Rotterdam,,4\n"
    "GM0005,Stad,Zuid-Holland,200000,,Den Haag,1\n"
    "GM0006,Gehucht,Zeeland,5000,Zeeland-West-Brabant,Zee,5\n"
    "GM0007,Gat,Zeeland,3000,Zeeland-West-Brabant,Zuid,5\n"
    "GM0008,Boord,Zeeland,30000,Zeeland-West-Brabant,Zuid,4\n"
    "GM0009,Hoek,Utrecht,4000,Midden-Nederland,Oost,5\n";

constexpr const char* kPack = R"(apiVersion: zicht/v1
kind: RulePack
metadata: { name: regions-test, theme: test }
indicators:
  - id: labs
    title: Hemp plantations
    event: drug_finding
    aggregate: count
    where: { kind: [hemp_plantation] }
    window: 30d
  - id: company_buys
    title: Property bought by companies
    event: property_sale
    aggregate: share
    where: { buyer_type: [company] }
    window: 30d
  - id: mean_amount
    title: Mean amount reported
    event: suspicious_transaction
    aggregate: mean
    field: amount_eur
    window: 30d
  - id: youth
    title: Young people at risk
    source: { file: youth.csv, column: share_pct }
    aggregate: value
rules: []
)";

// A published figure per municipality; Hoek has none.
constexpr const char* kYouth =
    "municipality,share_pct\n"
    "GM0001,2.5\nGM0002,4.0\nGM0003,3.0\nGM0004,1.5\nGM0005,3.5\n"
    "GM0006,2.0\nGM0007,6.0\nGM0008,1.0\nGM0009,\n";
const std::map<std::string, double> kYouthValues = {
    {"GM0001", 2.5}, {"GM0002", 4.0}, {"GM0003", 3.0}, {"GM0004", 1.5},
    {"GM0005", 3.5}, {"GM0006", 2.0}, {"GM0007", 6.0}, {"GM0008", 1.0}};

struct Planted {
  const char* code;
  int64_t population;
  int64_t labs, sales, company, transactions;
};
// Below the disclosure minimum of 5: labs of Gehucht, Gat and Hoek; sales of
// Gehucht; transactions of Gat.
const std::vector<Planted> kPlanted = {
    {"GM0001", 10000, 6, 10, 8, 6},      {"GM0002", 400000, 120, 200, 20, 40},
    {"GM0003", 100000, 20, 50, 20, 12},  {"GM0004", 20000, 5, 8, 1, 5},
    {"GM0005", 200000, 42, 100, 10, 30}, {"GM0006", 5000, 2, 3, 1, 5},
    {"GM0007", 3000, 3, 6, 2, 2},        {"GM0008", 30000, 10, 20, 5, 9},
    {"GM0009", 4000, 1, 7, 3, 6}};

// The i-th transaction of a municipality (k-th in the table) reports this.
double Amount(size_t k, int i) {
  return 1000.0 * static_cast<double>(k + 1) + 10.0 * i;
}

using testing::BuildWorld;
using testing::World;
World* world = nullptr;
World* bare = nullptr;  // police_unit empty everywhere, no riec_region column

std::string Time(int i) {
  char time[32];
  std::snprintf(time, sizeof time, "2026-03-%02dT%02d:%02d:00Z", i % 10 + 1, i / 10 % 24, i / 240);
  return time;
}

std::vector<std::string> Feed() {
  std::vector<std::string> lines;
  for (size_t k = 0; k < kPlanted.size(); ++k) {
    const Planted& p = kPlanted[k];
    const std::string code = p.code;
    auto event = [&](const std::string& type, const std::string& id, int i,
                     const std::string& fields) {
      lines.push_back(R"({"type":")" + type + R"(","id":")" + id + "-" + code + "-" +
                      std::to_string(i) + R"(","time":")" + Time(i) + R"(","municipality":")" +
                      code + "\"," + fields + "}");
    };
    for (int i = 0; i < p.labs; ++i) {
      event("drug_finding", "lab", i, R"("kind":"hemp_plantation","property":"residential")");
    }
    for (int i = 0; i < p.sales; ++i) {
      event("property_sale", "sale", i,
            std::string(R"("price_eur":300000,"buyer_type":")") +
                (i < p.company ? "company" : "person") + R"(","financing":"mortgage")");
    }
    for (int i = 0; i < p.transactions; ++i) {
      char amount[32];
      std::snprintf(amount, sizeof amount, "%.0f", Amount(k, i));
      event("suspicious_transaction", "tx", i,
            std::string(R"("amount_eur":)") + amount + R"(,"channel":"cash","sector":"retail")");
    }
  }
  std::stable_sort(lines.begin(), lines.end(), [](const std::string& a, const std::string& b) {
    return a.substr(a.find("\"time\"")) < b.substr(b.find("\"time\""));
  });
  // Days later and counted by no indicator: the national figures (closed days)
  // then cover everything above, and every live window equals its final one.
  lines.push_back(R"({"type":"drug_finding","id":"close","time":"2026-03-14T12:00:00Z",)"
                  R"("municipality":"GM0003","kind":"synthetic_lab","property":"residential"})");
  return lines;
}

constexpr const char* kBareMunicipalities =
    "code,name,province,population,police_unit\n"
    "GM0001,Klein,Utrecht,10000,\n"
    "GM0002,Groot,Zuid-Holland,400000, \n"
    "GM0003,Midden,Utrecht,100000,\n";
constexpr const char* kBarePack = R"(apiVersion: zicht/v1
kind: RulePack
metadata: { name: bare, theme: test }
indicators:
  - { id: labs, event: drug_finding, aggregate: count, window: 30d }
rules: []
)";

class RegionsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new World;
    ASSERT_NO_FATAL_FAILURE(
        BuildWorld(world, "regions-test", kMunicipalities, kPack, Feed(), {{"youth.csv", kYouth}}));
    bare = new World;
    ASSERT_NO_FATAL_FAILURE(BuildWorld(bare, "regions-bare", kBareMunicipalities, kBarePack, {}));
  }
  static void TearDownTestSuite() {
    delete world;
    delete bare;
    world = bare = nullptr;
  }
  engine::Engine& engine() { return *world->engine; }
};

// ---- the figures, from the definitions, without the engine or Boost.

double LogPoissonPmf(int64_t k, double e) {
  return -e + static_cast<double>(k) * std::log(e) - std::lgamma(static_cast<double>(k) + 1);
}
double LogBinomialPmf(int64_t k, int64_t n, double p) {
  const double kk = static_cast<double>(k), nn = static_cast<double>(n);
  return std::lgamma(nn + 1) - std::lgamma(kk + 1) - std::lgamma(nn - kk + 1) + kk * std::log(p) +
         (nn - kk) * std::log1p(-p);
}
// P(X >= k), from the larger of the two sums for precision.
double PoissonUpper(int64_t k, double e) {
  double below = 0;
  for (int64_t j = 0; j < k; ++j) below += std::exp(LogPoissonPmf(j, e));
  if (below < 0.5) return 1 - below;
  double above = 0;
  for (int64_t j = k; j < k + 2000; ++j) above += std::exp(LogPoissonPmf(j, e));
  return above;
}
double BinomialUpper(int64_t k, int64_t n, double p) {
  double s = 0;
  for (int64_t j = k; j <= n; ++j) s += std::exp(LogBinomialPmf(j, n, p));
  return s;
}

const Planted& Of(const std::string& code) {
  for (const Planted& p : kPlanted) {
    if (code == p.code) return p;
  }
  ADD_FAILURE() << code;
  return kPlanted.front();
}

// What the region cell of an indicator must say; nullopt: null in the JSON.
struct Cell {
  bool suppressed = false;
  std::optional<double> count, value, rate, expected, national_ratio, zscore, poisson_p, binomial_p;
};

constexpr int kMin = 5;

// The region's figures pooled over `members`, the national one over all.
Cell Expected(const std::string& indicator, const std::vector<std::string>& members) {
  Cell c;
  if (indicator == "youth") {
    double w = 0, pop = 0, nw = 0, npop = 0;
    for (const Planted& p : kPlanted) {
      auto it = kYouthValues.find(p.code);
      if (it == kYouthValues.end()) continue;
      nw += it->second * static_cast<double>(p.population);
      npop += static_cast<double>(p.population);
    }
    for (const std::string& m : members) {
      auto it = kYouthValues.find(m);
      if (it == kYouthValues.end()) continue;
      w += it->second * static_cast<double>(Of(m).population);
      pop += static_cast<double>(Of(m).population);
    }
    c.value = c.rate = w / pop;
    c.national_ratio = (w / pop) / (nw / npop);
    return c;
  }
  // The count each municipality is judged by, and the figures' raw parts.
  auto count_of = [&](const Planted& p) {
    return indicator == "labs" ? p.labs : indicator == "company_buys" ? p.sales : p.transactions;
  };
  auto match_of = [&](const Planted& p) {
    return indicator == "company_buys" ? p.company : count_of(p);
  };
  auto sum_of = [&](const Planted& p) {
    const size_t k = static_cast<size_t>(&p - kPlanted.data());
    double s = 0;
    for (int i = 0; i < p.transactions; ++i) s += Amount(k, i);
    return s;
  };
  double n_pop = 0, n_count = 0, n_match = 0, n_sum = 0;
  for (const Planted& p : kPlanted) {
    n_pop += static_cast<double>(p.population);
    n_count += static_cast<double>(count_of(p));
    n_match += static_cast<double>(match_of(p));
    n_sum += sum_of(p);
  }
  double pop = 0, count = 0, match = 0, sum = 0, hidden = 0;
  bool any_hidden = false;
  for (const std::string& m : members) {
    const Planted& p = Of(m);
    pop += static_cast<double>(p.population);
    count += static_cast<double>(count_of(p));
    match += static_cast<double>(match_of(p));
    sum += sum_of(p);
    if (count_of(p) < kMin) {
      any_hidden = true;
      hidden += static_cast<double>(count_of(p));
    }
  }
  c.suppressed = count < kMin || (any_hidden && hidden < kMin);
  if (c.suppressed) return c;
  c.count = count;
  if (indicator == "labs") {
    const double national = n_match / n_pop * 1000;
    c.value = count;
    c.rate = count / pop * 1000;
    c.expected = national * pop / 1000;
    c.national_ratio = *c.rate / national;
    c.zscore = (count - *c.expected) / std::sqrt(*c.expected);
    c.poisson_p = PoissonUpper(static_cast<int64_t>(count), *c.expected);
  } else if (indicator == "company_buys") {
    const double national = n_match / n_count;
    c.value = c.rate = match / count;
    c.expected = national * count;
    c.national_ratio = *c.rate / national;
    c.zscore = (match - *c.expected) / std::sqrt(*c.expected);
    c.poisson_p = PoissonUpper(static_cast<int64_t>(match), *c.expected);
    c.binomial_p =
        BinomialUpper(static_cast<int64_t>(match), static_cast<int64_t>(count), national);
  } else {
    c.value = c.rate = sum / count;
    c.national_ratio = (sum / count) / (n_sum / n_count);
  }
  return c;
}

simdjson::dom::element Parse(simdjson::dom::parser& parser, const ApiResult& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(r.body).get(doc), simdjson::SUCCESS) << r.body.substr(0, 300);
  return doc;
}

std::vector<std::string> Strings(simdjson::dom::element array) {
  std::vector<std::string> out;
  for (simdjson::dom::element e : array.get_array()) out.emplace_back(std::string_view(e));
  return out;
}

void ExpectNumber(simdjson::dom::element cell, const char* key, std::optional<double> want,
                  const std::string& what) {
  simdjson::dom::element v = cell[key];
  if (!want) {
    EXPECT_TRUE(v.is_null()) << what << "." << key << " = " << simdjson::minify(v);
    return;
  }
  double got = 0;
  ASSERT_EQ(v.get_double().get(got), simdjson::SUCCESS) << what << "." << key;
  EXPECT_NEAR(got, *want, 1e-6 * std::max(1.0, std::fabs(*want))) << what << "." << key;
}

// The municipalities of each region of column `by`, from the table above.
std::map<std::string, std::vector<std::string>> Members(const std::string& by,
                                                        std::vector<std::string>* unassigned) {
  std::map<std::string, std::vector<std::string>> out;
  std::string table = kMunicipalities;
  auto t = ParseCsv(table, "municipalities.csv");
  EXPECT_TRUE(t.ok());
  const int code = t->Column("code"), col = t->Column(by);
  for (const CsvRow& row : t->rows) {
    const std::string& value = row.fields[static_cast<size_t>(col)];
    if (value.empty()) {
      unassigned->push_back(row.fields[static_cast<size_t>(code)]);
    } else {
      out[value].push_back(row.fields[static_cast<size_t>(code)]);
    }
  }
  return out;
}

TEST_F(RegionsTest, PoolsEveryIndicatorPerRegionAgainstTheNationalFigure) {
  int suppressed = 0, shown = 0;
  for (const std::string by : {"province", "riec_region", "police_unit"}) {
    std::vector<std::string> unassigned;
    const auto members = Members(by, &unassigned);
    simdjson::dom::parser parser;
    const ApiResult r = RegionsJson(engine(), by, "", "", ApiOptions{});
    simdjson::dom::element doc = Parse(parser, r);
    EXPECT_EQ(std::string_view(doc["by"]), by);
    EXPECT_TRUE(bool(doc["in_file"]));
    EXPECT_EQ(int64_t(doc["disclosure_min_count"]), kMin);
    EXPECT_EQ(Strings(doc["unassigned"]), unassigned) << by;
    EXPECT_EQ(simdjson::dom::array(doc["indicators"]).size(), 4u);
    std::vector<std::string> names;
    for (simdjson::dom::element region : doc["regions"].get_array()) {
      const std::string name{std::string_view(region["region"])};
      names.push_back(name);
      ASSERT_TRUE(members.count(name)) << by << " " << name;
      const std::vector<std::string>& codes = members.at(name);
      EXPECT_EQ(Strings(region["municipalities"]), codes) << name;
      int64_t population = 0;
      for (const std::string& c : codes) population += Of(c).population;
      EXPECT_EQ(int64_t(region["population"]), population) << name;
      for (simdjson::dom::element cell : region["figures"].get_array()) {
        const std::string id{std::string_view(cell["id"])};
        const std::string what = by + "/" + name + "/" + id;
        const Cell want = Expected(id, codes);
        EXPECT_EQ(bool(cell["suppressed"]), want.suppressed) << what;
        (want.suppressed ? suppressed : shown)++;
        ExpectNumber(cell, "count", want.count, what);
        ExpectNumber(cell, "value", want.value, what);
        ExpectNumber(cell, "rate", want.rate, what);
        ExpectNumber(cell, "expected", want.expected, what);
        ExpectNumber(cell, "national_ratio", want.national_ratio, what);
        ExpectNumber(cell, "national_zscore", want.zscore, what);
        ExpectNumber(cell, "poisson_p", want.poisson_p, what);
        ExpectNumber(cell, "binomial_p", want.binomial_p, what);
        EXPECT_FALSE(cell["national_rate"].is_null()) << what << ": never suppressed";
        if (want.suppressed) {
          EXPECT_TRUE(cell["rank"].is_null()) << what;
        }
      }
    }
    std::vector<std::string> sorted;
    for (const auto& [name, codes] : members) sorted.push_back(name);
    EXPECT_EQ(names, sorted) << by << ": every region once, in name order";
  }
  EXPECT_GT(suppressed, 0);
  EXPECT_GT(shown, 0);
}

// The rule on small cells: Zee (2 labs) by its count; Utrecht (27 labs) because
// its suppressed member Hoek (1) would be 27 minus what Klein and Midden show;
// Zeeland (15) stays, its suppressed members together holding 5.
TEST_F(RegionsTest, SmallRegionCellsAndWhatWouldRevealSuppressedMembersAreHidden) {
  auto labs = [&](const std::string& by, const std::string& name) {
    simdjson::dom::parser parser;
    const std::string body = RegionsJson(engine(), by, "labs", "", ApiOptions{}).body;
    simdjson::dom::element doc;
    EXPECT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS);
    for (simdjson::dom::element region : doc["regions"].get_array()) {
      if (std::string_view(region["region"]) != name) continue;
      simdjson::dom::element cell = region["figures"].at(0);
      return std::make_pair(bool(cell["suppressed"]), std::string(simdjson::minify(cell["count"])));
    }
    ADD_FAILURE() << by << " " << name;
    return std::make_pair(false, std::string());
  };
  EXPECT_EQ(labs("police_unit", "Zee"), std::make_pair(true, std::string("null")));
  EXPECT_EQ(labs("province", "Utrecht"), std::make_pair(true, std::string("null")));
  EXPECT_EQ(labs("riec_region", "Midden-Nederland"), std::make_pair(true, std::string("null")));
  EXPECT_EQ(labs("police_unit", "Zuid"), std::make_pair(true, std::string("null")));
  EXPECT_EQ(labs("province", "Zeeland"), std::make_pair(false, std::string("15")));
  EXPECT_EQ(labs("province", "Zuid-Holland"), std::make_pair(false, std::string("167")));
  // A larger minimum hides more; with 1 nothing is hidden.
  ApiOptions strict;
  strict.disclosure_min_count = 20;
  const std::string body = RegionsJson(engine(), "province", "labs", "", strict).body;
  EXPECT_NE(body.find(R"("region":"Zeeland")"), std::string::npos);
  EXPECT_EQ(body.find(R"("count":15)"), std::string::npos) << body;
  ApiOptions open;
  open.disclosure_min_count = 1;
  EXPECT_NE(RegionsJson(engine(), "police_unit", "labs", "", open).body.find(R"("count":2,)"),
            std::string::npos);
}

TEST_F(RegionsTest, OneIndicatorRanksTheRegionsByNationalRatio) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc =
      Parse(parser, RegionsJson(engine(), "police_unit", "labs", "regions-test", ApiOptions{}));
  EXPECT_EQ(std::string_view(doc["ranked_by"]), "national_ratio");
  ASSERT_EQ(simdjson::dom::array(doc["indicators"]).size(), 1u);
  EXPECT_EQ(std::string_view(doc["indicators"].at(0)["id"]), "labs");
  std::vector<std::string> order;
  for (simdjson::dom::element region : doc["regions"].get_array()) {
    order.emplace_back(std::string_view(region["region"]));
    EXPECT_EQ(simdjson::dom::array(region["figures"]).size(), 1u);
  }
  // Shown: Rotterdam 120 per 400000 (0.3 per 1000), Den Haag 42 per 200000 (0.21).
  // Then the suppressed ones, unranked, in name order.
  EXPECT_EQ(order, (std::vector<std::string>{"Rotterdam", "Den Haag", "Oost", "Zee", "Zuid"}));
  EXPECT_EQ(int64_t(doc["regions"].at(0)["figures"].at(0)["rank"]), 1);
  EXPECT_EQ(int64_t(doc["regions"].at(1)["figures"].at(0)["rank"]), 2);
  EXPECT_TRUE(doc["regions"].at(2)["figures"].at(0)["rank"].is_null());

  EXPECT_EQ(RegionsJson(engine(), "province", "nope", "", ApiOptions{}).status, 404);
  EXPECT_EQ(RegionsJson(engine(), "province", "labs", "other-pack", ApiOptions{}).status, 404);
}

TEST_F(RegionsTest, AnUnknownColumnIsABadRequestThatListsTheAllowedOnes) {
  for (const char* by : {"urbanisation", "name", "gemeente", "Province"}) {
    const ApiResult r = RegionsJson(engine(), by, "", "", ApiOptions{});
    EXPECT_EQ(r.status, 400) << by;
    EXPECT_NE(r.body.find("province, riec_region, police_unit"), std::string::npos) << r.body;
  }
  // No `by`: provinces.
  simdjson::dom::parser parser;
  EXPECT_EQ(std::string_view(Parse(parser, RegionsJson(engine(), "", "", "", {}))["by"]),
            "province");
}

TEST_F(RegionsTest, AnEmptyOrMissingColumnGivesNoRegionsAndEveryMunicipalityUnassigned) {
  const std::vector<std::string> all = {"GM0001", "GM0002", "GM0003"};
  for (const auto& [by, in_file] : {std::pair{"police_unit", true}, {"riec_region", false}}) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc = Parse(parser, RegionsJson(*bare->engine, by, "", "", {}));
    EXPECT_EQ(bool(doc["in_file"]), in_file) << by;
    EXPECT_EQ(simdjson::dom::array(doc["regions"]).size(), 0u) << by;
    EXPECT_EQ(Strings(doc["unassigned"]), all) << by;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc = Parse(parser, RegionsJson(*bare->engine, "province", "", "", {}));
  EXPECT_EQ(simdjson::dom::array(doc["regions"]).size(), 2u);
  // Before any event every cell is a small one.
  EXPECT_TRUE(bool(doc["regions"].at(0)["figures"].at(0)["suppressed"]));
}

TEST_F(RegionsTest, CsvHasARowPerRegionAndIndicatorWithTheJsonsFigures) {
  const ApiResult r = RegionsCsv(engine(), "riec_region", "", "", ApiOptions{});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/csv; charset=utf-8");
  EXPECT_EQ(r.filename, "zicht-regions-riec_region-2026-03-14.csv");
  auto t = ParseCsv(r.body, "regions.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->header,
            (std::vector<std::string>{"by", "region", "population", "municipalities", "pack",
                                      "indicator", "rank", "suppressed", "count", "value", "rate",
                                      "expected", "national_rate", "national_ratio",
                                      "national_zscore", "poisson_p", "binomial_p"}));
  ASSERT_EQ(t->rows.size(), 3u * 4u);  // three RIEC regions, four indicators
  std::set<std::string> seen;
  for (const CsvRow& row : t->rows) {
    auto field = [&](const char* name) { return row.fields[static_cast<size_t>(t->Column(name))]; };
    seen.insert(field("region"));
    if (field("region") == "Midden-Nederland") {
      EXPECT_EQ(field("municipalities"), "GM0001 GM0003 GM0009");
    }
    if (field("suppressed") == "true") {
      for (const char* k : {"rank", "count", "value", "rate", "expected", "national_ratio"}) {
        EXPECT_EQ(field(k), "") << field("region") << " " << field("indicator") << " " << k;
      }
      EXPECT_NE(field("national_rate"), "");
    }
    if (field("region") == "Rotterdam" && field("indicator") == "labs") {
      EXPECT_EQ(field("count"), "125");
      EXPECT_EQ(field("population"), "420000");
    }
  }
  EXPECT_EQ(seen, (std::set<std::string>{"Midden-Nederland", "Rotterdam", "Zeeland-West-Brabant"}));
  EXPECT_EQ(RegionsCsv(engine(), "ward", "", "", {}).status, 400);
}

TEST_F(RegionsTest, RouteServesJsonAndCsvAndErrorsInJson) {
  monitoring::HttpServerOptions so;
  so.bind_address = "127.0.0.1";
  so.port = 0;
  so.log = [](std::string_view) {};
  monitoring::HttpServer server(so);
  std::mutex engine_mutex;
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
  auto json = Get(port, "/api/v1/regions?by=riec_region&indicator=labs");
  EXPECT_EQ(json.status, 200);
  EXPECT_EQ(json.body, RegionsJson(engine(), "riec_region", "labs", "", ApiOptions{}).body);
  auto csv = Get(port, "/api/v1/regions?by=police_unit&indicator=labs&format=csv");
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.header("Content-Disposition"),
            "attachment; filename=\"zicht-regions-police_unit-regions-test-labs-2026-03-14.csv\"");
  auto bad = Get(port, "/api/v1/regions?by=urbanisation", {{"Accept", "text/csv"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.header("Content-Type"), "application/json");
  EXPECT_NE(bad.body.find("riec_region"), std::string::npos);
}

}  // namespace
}  // namespace zicht::api
