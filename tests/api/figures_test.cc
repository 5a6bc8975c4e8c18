// The SPEC 8.2 figures in the read API on a small real engine: shrunk_ratio,
// funnel_z and q_value per municipality (JSON and CSV), rankings by
// shrunk_ratio (the default for counts and shares) or national_ratio, and the
// funnel plot's points and control limits. Every expected number is computed
// here from the planted counts alone (Poisson and binomial pmf summed
// directly, no Boost), and small counts must stay hidden.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "../monitoring/http_client.h"
#include "api_world.h"
#include "zicht/api/api.h"
#include "zicht/api/routes.h"
#include "zicht/base/csv.h"
#include "zicht/base/file.h"
#include "zicht/connectors/record_sink.h"
#include "zicht/runtime/plan_loader.h"
#include "zicht/runtime/rocksdb_state_store.h"

namespace zicht::api {
namespace {

constexpr const char* kMunicipalities =
    "code,name,province,population\n"
    "GM0001,Klein,Utrecht,10000\n"
    "GM0002,Groot,Zuid-Holland,400000\n"
    "GM0003,Midden,Gelderland,100000\n"
    "GM0004,Dorp,Drenthe,20000\n"
    "GM0005,Stad,Noord-Brabant,200000\n"
    "GM0006,Gehucht,Zeeland,5000\n";

// A rule reads q_value of `labs`, so that indicator has a q ranking; none
// reads it of `company_buys`. `amount` is a sum: no shrinkage, no funnel.
constexpr const char* kPack = R"(apiVersion: zicht/v1
kind: RulePack
metadata: { name: figures-test, theme: test }
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
  - id: amount
    title: Amount reported
    event: suspicious_transaction
    aggregate: sum
    field: amount_eur
    window: 30d
rules:
  - id: labs-q
    title: Hemp plantations, false discoveries controlled
    severity: medium
    conditions:
      - { indicator: labs, measure: q_value, op: "<=", value: 0.05 }
)";

struct Planted {
  const char* code;
  int64_t population, labs, sales, company;
};
// Klein has the highest raw rate of labs on few events; Groot a lower one on
// many, and the higher shrunk ratio. Gehucht is below the disclosure minimum
// in both (2 labs, 3 sales).
const std::vector<Planted> kPlanted = {
    {"GM0001", 10000, 6, 10, 8}, {"GM0002", 400000, 120, 200, 20}, {"GM0003", 100000, 20, 50, 20},
    {"GM0004", 20000, 5, 8, 1},  {"GM0005", 200000, 42, 100, 10},  {"GM0006", 5000, 2, 3, 1}};

using testing::BuildWorld;
using testing::World;
World* world = nullptr;

std::string Time(int i) {
  char time[32];
  std::snprintf(time, sizeof time, "2026-03-%02dT%02d:%02d:00Z", i % 10 + 1, i / 10 % 24, i / 240);
  return time;
}

std::vector<std::string> Feed() {
  std::vector<std::string> lines;
  for (const Planted& p : kPlanted) {
    const std::string code = p.code;
    for (int i = 0; i < p.labs; ++i) {
      lines.push_back(R"({"type":"drug_finding","id":"lab-)" + code + "-" + std::to_string(i) +
                      R"(","time":")" + Time(i) + R"(","municipality":")" + code +
                      R"(","kind":"hemp_plantation","property":"residential"})");
    }
    for (int i = 0; i < p.sales; ++i) {
      lines.push_back(R"({"type":"property_sale","id":"sale-)" + code + "-" + std::to_string(i) +
                      R"(","time":")" + Time(i) + R"(","municipality":")" + code +
                      R"(","price_eur":300000,"buyer_type":")" +
                      (i < p.company ? "company" : "person") + R"(","financing":"mortgage"})");
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

class FiguresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new World;
    ASSERT_NO_FATAL_FAILURE(BuildWorld(world, "figures-test", kMunicipalities, kPack, Feed()));
  }
  static void TearDownTestSuite() {
    delete world;
    world = nullptr;
  }
  engine::Engine& engine() { return *world->engine; }
};

// ---- the statistics, from the definitions (SPEC 8.2), without Boost.

double LogPoissonPmf(int64_t k, double e) {
  return -e + static_cast<double>(k) * std::log(e) - std::lgamma(static_cast<double>(k) + 1);
}
double LogBinomialPmf(int64_t k, int64_t n, double p) {
  const double kk = static_cast<double>(k), nn = static_cast<double>(n);
  return std::lgamma(nn + 1) - std::lgamma(kk + 1) - std::lgamma(nn - kk + 1) + kk * std::log(p) +
         (nn - kk) * std::log1p(-p);
}
// P(X >= k), summed over the tail itself (full precision far out).
double PoissonTail(int64_t k, double e) {
  double sum = 0;
  for (int64_t j = std::max<int64_t>(k, 0); j < k + 2000; ++j) sum += std::exp(LogPoissonPmf(j, e));
  return std::min(1.0, sum);
}
double BinomialTail(int64_t k, int64_t n, double p) {
  double sum = 0;
  for (int64_t j = std::max<int64_t>(k, 0); j <= n; ++j) sum += std::exp(LogBinomialPmf(j, n, p));
  return std::min(1.0, sum);
}
// The smallest k with P(X <= k) >= q.
int64_t PoissonQuantile(double e, double q) {
  double cdf = 0;
  for (int64_t k = 0;; ++k) {
    cdf += std::exp(LogPoissonPmf(k, e));
    if (cdf >= q) return k;
  }
}
int64_t BinomialQuantile(int64_t n, double p, double q) {
  double cdf = 0;
  for (int64_t k = 0; k < n; ++k) {
    cdf += std::exp(LogBinomialPmf(k, n, p));
    if (cdf >= q) return k;
  }
  return n;
}

// O and E of every municipality against the national rate, the Marshall
// prior, and per code: shrunk ratio, p and BH q.
struct Expected {
  std::map<std::string, double> observed, expected, shrunk, p, q;
  double national = 0;
  bool flat = false;  // s² <= 0
};
Expected Compute(bool share) {
  Expected x;
  double total_o = 0, total_size = 0;
  for (const Planted& m : kPlanted) {
    total_o += static_cast<double>(share ? m.company : m.labs);
    total_size += static_cast<double>(share ? m.sales : m.population);
  }
  x.national = total_o / total_size;  // per inhabitant, or the national share
  double sum_e = 0;
  for (const Planted& m : kPlanted) {
    x.observed[m.code] = static_cast<double>(share ? m.company : m.labs);
    x.expected[m.code] = x.national * static_cast<double>(share ? m.sales : m.population);
    sum_e += x.expected[m.code];
  }
  const double mean = total_o / sum_e, n = static_cast<double>(kPlanted.size());
  double spread = 0;
  for (const Planted& m : kPlanted) {
    const double e = x.expected[m.code], r = x.observed[m.code] / e - mean;
    spread += e * r * r;
  }
  const double s2 = spread / sum_e - mean / (sum_e / n);
  x.flat = s2 <= 0;
  std::vector<std::pair<double, std::string>> ps;
  for (const Planted& m : kPlanted) {
    const double o = x.observed[m.code], e = x.expected[m.code];
    x.shrunk[m.code] = s2 <= 0 ? mean : (o + mean * mean / s2) / (e + mean / s2);
    x.p[m.code] = share ? BinomialTail(m.company, m.sales, x.national) : PoissonTail(m.labs, e);
    ps.emplace_back(x.p[m.code], m.code);
  }
  std::sort(ps.begin(), ps.end());
  double running = 1;
  for (size_t k = ps.size(); k-- > 0;) {
    running = std::min(running, std::min(1.0, n * ps[k].first / static_cast<double>(k + 1)));
    x.q[ps[k].second] = running;
  }
  return x;
}

void ExpectRel(double actual, double expected, const std::string& what) {
  EXPECT_NEAR(actual, expected, 1e-6 * std::max(1e-300, std::abs(expected))) << what;
}

simdjson::dom::element Parse(simdjson::dom::parser& parser, const ApiResult& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(r.body).get(doc), simdjson::SUCCESS) << r.body.substr(0, 300);
  return doc;
}
double Num(simdjson::dom::element e, const char* key) {
  double v = NAN;
  EXPECT_EQ(e[key].get_double().get(v), simdjson::SUCCESS) << key << " in " << simdjson::minify(e);
  return v;
}
std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view s;
  EXPECT_EQ(e[key].get_string().get(s), simdjson::SUCCESS) << key;
  return std::string(s);
}
// The ranking's codes, in order.
std::vector<std::string> Order(simdjson::dom::element doc) {
  std::vector<std::string> out;
  for (simdjson::dom::element m : doc["municipalities"].get_array()) out.push_back(Str(m, "code"));
  return out;
}
// Codes by a figure, highest first (the suppressed Gehucht last); no ties
// here (the prior is not flat, the raw indices differ).
std::vector<std::string> Descending(const std::map<std::string, double>& by) {
  std::vector<std::string> out;
  for (const auto& [code, v] : by) {
    if (code != "GM0006") out.push_back(code);
  }
  std::sort(out.begin(), out.end(),
            [&](const std::string& a, const std::string& b) { return by.at(a) > by.at(b); });
  for (size_t i = 1; i < out.size(); ++i) EXPECT_NE(by.at(out[i]), by.at(out[i - 1]));
  out.push_back("GM0006");
  return out;
}

TEST_F(FiguresTest, MunicipalityFiguresCarryShrunkRatioFunnelZAndQValue) {
  const Expected labs = Compute(false), buys = Compute(true);
  simdjson::dom::parser parser;
  for (const Planted& m : kPlanted) {
    simdjson::dom::element doc = Parse(parser, MunicipalityJson(engine(), m.code, ApiOptions{}));
    for (simdjson::dom::element ind : doc["indicators"].get_array()) {
      const std::string id = Str(ind, "id"), what = std::string(m.code) + " " + id;
      bool q_ranked = false, suppressed = false;
      ASSERT_EQ(ind["q_ranked"].get_bool().get(q_ranked), simdjson::SUCCESS);
      EXPECT_EQ(q_ranked, id == "labs") << what;
      ASSERT_EQ(ind["suppressed"].get_bool().get(suppressed), simdjson::SUCCESS);
      if (id == "amount") {
        for (const char* k : {"shrunk_ratio", "funnel_z", "q_value"}) {
          EXPECT_TRUE(ind[k].is_null()) << what << " " << k;
        }
        continue;
      }
      EXPECT_EQ(suppressed, std::string(m.code) == "GM0006") << what;
      if (suppressed) {
        for (const char* k : {"count", "shrunk_ratio", "funnel_z", "q_value", "national_ratio"}) {
          EXPECT_TRUE(ind[k].is_null()) << what << " " << k << ": derived from a small count";
        }
        continue;
      }
      const Expected& x = id == "labs" ? labs : buys;
      ExpectRel(Num(ind, "shrunk_ratio"), x.shrunk.at(m.code), what + " shrunk_ratio");
      // funnel_z = Φ⁻¹(1 − p): its upper normal tail is p.
      const double z = Num(ind, "funnel_z");
      ExpectRel(0.5 * std::erfc(z / std::sqrt(2.0)), x.p.at(m.code), what + " funnel_z");
      if (id == "labs") {
        ExpectRel(Num(ind, "q_value"), x.q.at(m.code), what + " q_value");
      } else {
        EXPECT_TRUE(ind["q_value"].is_null()) << what << ": no rule reads q_value";
      }
    }
  }
  // The CSV exports have the same figures, in new columns at the end.
  auto csv = ParseCsv(MunicipalityCsv(engine(), "GM0002", ApiOptions{}).body, "m.csv");
  ASSERT_TRUE(csv.ok());
  const std::vector<std::string>& h = csv->header;
  ASSERT_GE(h.size(), 3u);
  EXPECT_EQ(std::vector<std::string>(h.end() - 3, h.end()),
            (std::vector<std::string>{"shrunk_ratio", "funnel_z", "q_value"}));
  const CsvRow& row = csv->rows[0];  // labs
  EXPECT_EQ(row.fields[static_cast<size_t>(csv->Column("indicator"))], "labs");
  ExpectRel(std::stod(row.fields[static_cast<size_t>(csv->Column("shrunk_ratio"))]),
            labs.shrunk.at("GM0002"), "CSV shrunk_ratio");
  ExpectRel(std::stod(row.fields[static_cast<size_t>(csv->Column("q_value"))]), labs.q.at("GM0002"),
            "CSV q_value");
}

TEST_F(FiguresTest, RankingIsByShrunkRatioByDefaultAndByNationalRatioOnRequest) {
  simdjson::dom::parser parser;
  const Expected labs = Compute(false);
  ASSERT_FALSE(labs.flat);
  ASSERT_FALSE(Compute(true).flat);
  std::map<std::string, double> raw;
  for (const Planted& m : kPlanted)
    raw[m.code] = labs.observed.at(m.code) / labs.expected.at(m.code);
  const std::vector<std::string> by_shrunk = Descending(labs.shrunk), by_raw = Descending(raw);
  ASSERT_NE(by_shrunk, by_raw) << "the planted counts tell the two apart";
  EXPECT_EQ(by_raw.front(), "GM0001") << "Klein: the highest raw index on 6 events";
  EXPECT_EQ(by_shrunk.front(), "GM0002") << "Groot: the highest shrunk ratio on 120";

  simdjson::dom::element def = Parse(parser, IndicatorJson(engine(), "labs", "", ApiOptions{}));
  EXPECT_EQ(Str(def, "ranked_by"), "shrunk_ratio");
  EXPECT_EQ(Order(def), by_shrunk);
  simdjson::dom::element r =
      Parse(parser, IndicatorJson(engine(), "labs", "", ApiOptions{}, "national_ratio"));
  EXPECT_EQ(Str(r, "ranked_by"), "national_ratio");
  EXPECT_EQ(Order(r), by_raw);
  int64_t rank = 0;
  ASSERT_EQ(r["municipalities"].at(0)["rank"].get_int64().get(rank), simdjson::SUCCESS);
  EXPECT_EQ(rank, 1);
  EXPECT_TRUE(r["municipalities"].at(5)["rank"].is_null()) << "suppressed: unranked";
  EXPECT_EQ(Order(Parse(parser, IndicatorJson(engine(), "labs", "", ApiOptions{}, "shrunk_ratio"))),
            by_shrunk);
  // Shares too; the CSV follows the JSON's order.
  EXPECT_EQ(Order(Parse(parser, IndicatorJson(engine(), "company_buys", "", ApiOptions{}))),
            Descending(Compute(true).shrunk));
  auto csv = ParseCsv(IndicatorCsv(engine(), "labs", "", ApiOptions{}, "national_ratio").body, "r");
  ASSERT_TRUE(csv.ok());
  std::vector<std::string> codes;
  for (const CsvRow& row : csv->rows) codes.push_back(row.fields[1]);
  EXPECT_EQ(codes, by_raw);
  // A sum has no shrunk ratio: ranked by its index, and shrunk_ratio is refused.
  EXPECT_EQ(Str(Parse(parser, IndicatorJson(engine(), "amount", "", ApiOptions{})), "ranked_by"),
            "national_ratio");
  EXPECT_EQ(IndicatorJson(engine(), "amount", "", ApiOptions{}, "shrunk_ratio").status, 400);
  EXPECT_EQ(IndicatorJson(engine(), "labs", "", ApiOptions{}, "rate").status, 400);
  EXPECT_EQ(IndicatorCsv(engine(), "labs", "", ApiOptions{}, "rate").status, 400);
}

// Funnel points against the national rate; every limit line point an exact
// quantile; suppressed municipalities placed nowhere and not spanning the grid.
void CheckFunnel(engine::Engine& engine, const char* id, bool share) {
  const Expected x = Compute(share);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = Parse(parser, FunnelJson(engine, id, "", ApiOptions{}));
  EXPECT_EQ(Str(doc, "model"), share ? "binomial" : "poisson");
  EXPECT_EQ(Str(doc, "baseline"), "national");
  const double per = share ? 1 : 1000;
  ExpectRel(Num(doc, "national_rate"), x.national * per, "national rate");
  double lo = INFINITY, hi = 0;  // the shown municipalities' sizes (E, or n for shares)
  std::map<std::string, int64_t> size_of;
  for (const Planted& m : kPlanted) size_of[m.code] = share ? m.sales : m.population;
  for (simdjson::dom::element p : doc["points"].get_array()) {
    const std::string code = Str(p, "code");
    bool suppressed = false;
    ASSERT_EQ(p["suppressed"].get_bool().get(suppressed), simdjson::SUCCESS);
    EXPECT_EQ(suppressed, code == "GM0006");
    if (suppressed) {
      for (const char* k : {"observed", "expected", "ratio", "funnel_z", "shrunk_ratio", "band"}) {
        EXPECT_TRUE(p[k].is_null()) << code << " " << k;
      }
      continue;
    }
    const double o = x.observed.at(code), e = x.expected.at(code);
    EXPECT_EQ(Num(p, "observed"), o) << code;
    ExpectRel(Num(p, "expected"), e, code + " expected");
    ExpectRel(Num(p, "ratio"), o / e, code + " ratio");
    const double size = share ? static_cast<double>(size_of.at(code)) : e;
    lo = std::min(lo, size);
    hi = std::max(hi, size);
    auto quantile = [&](double q) {
      return share ? BinomialQuantile(size_of.at(code), x.national, q) : PoissonQuantile(e, q);
    };
    const std::string band = o > static_cast<double>(quantile(0.999))   ? "above_998"
                             : o > static_cast<double>(quantile(0.975)) ? "above_95"
                             : o < static_cast<double>(quantile(0.001)) ? "below_998"
                             : o < static_cast<double>(quantile(0.025)) ? "below_95"
                                                                        : "within";
    EXPECT_EQ(Str(p, "band"), band) << code;
  }
  simdjson::dom::array limits;
  ASSERT_EQ(doc["limits"].get_array().get(limits), simdjson::SUCCESS);
  ASSERT_GE(limits.size(), 20u);
  EXPECT_LE(limits.size(), 60u);
  std::vector<double> sizes;
  for (simdjson::dom::element l : limits) {
    const double e = Num(l, "expected");
    int64_t n = 0;
    if (share) {
      ASSERT_EQ(l["n"].get_int64().get(n), simdjson::SUCCESS);
      ExpectRel(e, static_cast<double>(n) * x.national, "E = n × share");
    }
    sizes.push_back(share ? static_cast<double>(n) : e);
    const std::pair<const char*, double> levels[] = {
        {"lower_998", 0.001}, {"lower_95", 0.025}, {"upper_95", 0.975}, {"upper_998", 0.999}};
    for (const auto& [key, q] : levels) {
      const double k = share ? static_cast<double>(BinomialQuantile(n, x.national, q))
                             : static_cast<double>(PoissonQuantile(e, q));
      ExpectRel(Num(l, key) * e, k, std::string(id) + " " + key + " at E " + std::to_string(e));
    }
  }
  EXPECT_DOUBLE_EQ(sizes.front(), lo) << "from the smallest shown, not the suppressed Gehucht";
  EXPECT_DOUBLE_EQ(sizes.back(), hi);
  EXPECT_TRUE(std::is_sorted(sizes.begin(), sizes.end()));
  if (!share) {  // log-spaced: a constant step in log E
    const double step = std::log(hi / lo) / static_cast<double>(sizes.size() - 1);
    for (size_t i = 1; i < sizes.size(); ++i) {
      EXPECT_NEAR(std::log(sizes[i] / sizes[i - 1]), step, 1e-9);
    }
  }
}

TEST_F(FiguresTest, FunnelOfACountHasExactPoissonLimits) {
  CheckFunnel(engine(), "labs", false);
}

TEST_F(FiguresTest, FunnelOfAShareHasExactBinomialLimits) {
  CheckFunnel(engine(), "company_buys", true);
}

TEST_F(FiguresTest, FunnelIsForCountsAndSharesAndTheRouteServesIt) {
  EXPECT_EQ(FunnelJson(engine(), "amount", "", ApiOptions{}).status, 400);
  EXPECT_EQ(FunnelJson(engine(), "nope", "", ApiOptions{}).status, 404);
  // A higher disclosure minimum hides more points, and narrows the grid to the rest.
  ApiOptions strict;
  strict.disclosure_min_count = 10;
  simdjson::dom::parser parser;
  simdjson::dom::element doc = Parse(parser, FunnelJson(engine(), "labs", "", strict));
  int hidden = 0;
  for (simdjson::dom::element p : doc["points"].get_array()) {
    bool s = false;
    ASSERT_EQ(p["suppressed"].get_bool().get(s), simdjson::SUCCESS);
    hidden += s;
    if (s) {
      EXPECT_TRUE(p["ratio"].is_null());
    }
  }
  EXPECT_EQ(hidden, 3) << "Klein (6), Dorp (5) and Gehucht (2)";
  ExpectRel(Num(doc["limits"].at(0), "expected"), Compute(false).expected.at("GM0003"),
            "the grid starts at Midden, the smallest shown");

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
  auto funnel = Get(server.port(), "/api/v1/indicators/labs/funnel");
  EXPECT_EQ(funnel.status, 200);
  EXPECT_EQ(funnel.body, FunnelJson(engine(), "labs", "", ApiOptions{}).body);
  auto raw = Get(server.port(), "/api/v1/indicators/labs?by=national_ratio");
  EXPECT_EQ(raw.body, IndicatorJson(engine(), "labs", "", ApiOptions{}, "national_ratio").body);
  auto raw_csv = Get(server.port(), "/api/v1/indicators/labs?by=national_ratio&format=csv");
  EXPECT_EQ(raw_csv.body, IndicatorCsv(engine(), "labs", "", ApiOptions{}, "national_ratio").body);
  EXPECT_EQ(Get(server.port(), "/api/v1/indicators/labs?by=nonsense").status, 400);
  EXPECT_EQ(Get(server.port(), "/api/v1/indicators/amount/funnel").status, 400);
  server.Stop();
}

}  // namespace
}  // namespace zicht::api
