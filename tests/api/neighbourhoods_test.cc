// GET /api/v1/municipalities/{code}/neighbourhoods (SPEC 8.3) on a small real
// engine: per buurt the count, rate, national figure pooled over buurten and
// the municipality ratio, computed here from the planted events; small counts
// suppressed; the municipality's own page shows its window of a neighbourhood
// indicator without a national comparison (the national figure is per buurt).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <string>
#include <vector>

#include "api_world.h"
#include "zicht/api/api.h"

namespace zicht::api {
namespace {

constexpr const char* kMunicipalities =
    "code,name,province,population\n"
    "GM0001,Aa,Utrecht,10000\n"
    "GM0002,Bee,Utrecht,5000\n";
constexpr const char* kNeighbourhoods =
    "code,name,municipality,population\n"
    "BU00010000,Centrum,GM0001,4000\n"
    "BU00010001,Noord,GM0001,6000\n"
    "BU00020000,Dorp,GM0002,5000\n";
constexpr const char* kPack = R"(apiVersion: zicht/v1
kind: RulePack
metadata: { name: buurt-api, theme: test }
indicators:
  - id: cash_buurt
    title: Cash reports per buurt
    event: suspicious_transaction
    aggregate: count
    where: { channel: [cash] }
    window: 30d
    level: neighbourhood
rules: []
)";

std::vector<std::string> Feed() {
  std::vector<std::string> lines;
  int id = 0;
  auto add = [&](const std::string& day, const std::string& muni, const std::string& buurt, int n) {
    for (int i = 0; i < n; ++i) {
      lines.push_back(R"({"type":"suspicious_transaction","id":"e)" + std::to_string(++id) +
                      R"(","time":")" + day + R"(T10:00:00Z","municipality":")" + muni + "\"" +
                      (buurt.empty() ? "" : ",\"neighbourhood\":\"" + buurt + "\"") +
                      R"(,"amount_eur":100,"channel":"cash","sector":"bank"})");
    }
  };
  add("2026-03-01", "GM0001", "BU00010000", 6);  // Centrum
  add("2026-03-01", "GM0001", "BU00010001", 1);  // Noord: suppressed
  add("2026-03-01", "GM0001", "", 2);            // Aa, no buurt: municipality only
  add("2026-03-01", "GM0002", "BU00020000", 5);  // Dorp
  add("2026-03-04", "GM0002", "", 1);            // moves T so that 03-01 is final
  return lines;
}

class NeighbourhoodsApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new testing::World;
    ASSERT_NO_FATAL_FAILURE(testing::BuildWorld(world_, "buurt-api", kMunicipalities, kPack, Feed(),
                                                {{"neighbourhoods.csv", kNeighbourhoods}}));
  }
  static void TearDownTestSuite() {
    delete world_;
    world_ = nullptr;
  }
  static testing::World* world_;
};
testing::World* NeighbourhoodsApiTest::world_ = nullptr;

double D(simdjson::dom::element e) {
  double v = 0;
  EXPECT_EQ(e.get(v), simdjson::SUCCESS);
  return v;
}

TEST_F(NeighbourhoodsApiTest, ListsEveryBuurtWithItsFigures) {
  const ApiResult r = NeighbourhoodsJson(*world_->engine, "GM0001", ApiOptions{});
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(r.body);
  EXPECT_TRUE(bool(doc["available"]));
  simdjson::dom::array buurten = doc["neighbourhoods"];
  ASSERT_EQ(buurten.size(), 2u);
  // National: the events in buurten (6 + 1 + 5) over the buurt population.
  const double national = 12.0 / 15000 * 1000;
  simdjson::dom::element centrum = buurten.at(0);
  EXPECT_EQ(std::string_view(centrum["code"]), "BU00010000");
  simdjson::dom::element f = centrum["figures"].at(0);
  EXPECT_EQ(std::string_view(f["indicator"]), "cash_buurt");
  EXPECT_FALSE(bool(f["suppressed"]));
  EXPECT_EQ(int64_t(f["count"]), 6);
  EXPECT_NEAR(D(f["rate"]), 6.0 / 4000 * 1000, 1e-12);
  EXPECT_NEAR(D(f["national_rate"]), national, 1e-12);
  EXPECT_NEAR(D(f["national_ratio"]), (6.0 / 4000 * 1000) / national, 1e-12);
  // Aa's window counts its 9 events, with or without a buurt.
  EXPECT_NEAR(D(f["municipality_ratio"]), (6.0 / 4000) / (9.0 / 10000), 1e-12);
  // Noord's single event is below the disclosure minimum: nothing derived from it.
  simdjson::dom::element noord = buurten.at(1)["figures"].at(0);
  EXPECT_TRUE(bool(noord["suppressed"]));
  EXPECT_TRUE(noord["count"].is_null());
  EXPECT_TRUE(noord["rate"].is_null());
  EXPECT_TRUE(noord["municipality_ratio"].is_null());
  EXPECT_TRUE(noord["national_ratio"].is_null());
}

TEST_F(NeighbourhoodsApiTest, TheMunicipalityPageShowsItsOwnWindowWithoutANationalFigure) {
  const ApiResult r = MunicipalityJson(*world_->engine, "GM0001", ApiOptions{});
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  simdjson::dom::element ind = parser.parse(r.body)["indicators"].at(0);
  EXPECT_EQ(int64_t(ind["count"]), 9);
  EXPECT_NEAR(D(ind["rate"]), 9.0 / 10000 * 1000, 1e-12);
  EXPECT_TRUE(ind["national_ratio"].is_null());
  EXPECT_TRUE(ind["percentile"].is_null());
}

TEST_F(NeighbourhoodsApiTest, UnknownMunicipalityIs404) {
  EXPECT_EQ(NeighbourhoodsJson(*world_->engine, "GM0003", ApiOptions{}).status, 404);
}

}  // namespace
}  // namespace zicht::api
