// Tests of the measure functions against independent mpmath/scipy vectors and
// hand-computed cases.
#include "zicht/engine/measure_math.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "zicht/base/csv.h"

namespace zicht::engine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

struct TailVector {
  int64_t k;
  double lambda;
  double p;
  int line;
};

std::vector<TailVector> LoadVectors() {
  auto table =
      ReadCsvFile(std::string(ZICHT_SOURCE_DIR) + "/tests/engine/data/measure_vectors.csv");
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  if (!table.ok()) return {};
  EXPECT_EQ(table->header, (std::vector<std::string>{"k", "lambda", "p"}));
  std::vector<TailVector> out;
  for (const auto& row : table->rows) {
    out.push_back({std::strtoll(row.fields.at(0).c_str(), nullptr, 10),
                   std::strtod(row.fields.at(1).c_str(), nullptr),
                   std::strtod(row.fields.at(2).c_str(), nullptr), row.line});
  }
  return out;
}

TEST(PoissonUpperTail, MatchesIndependentReferenceValues) {
  std::vector<TailVector> vectors = LoadVectors();
  ASSERT_GT(vectors.size(), 800u);
  double worst = 0;
  double smallest_p = 1;
  for (const auto& v : vectors) {
    double got = PoissonUpperTail(v.k, v.lambda);
    double rel = std::abs(got - v.p) / v.p;
    worst = std::max(worst, rel);
    smallest_p = std::min(smallest_p, v.p);
    EXPECT_LE(rel, 1e-9) << "line " << v.line << ": k=" << v.k << " lambda=" << v.lambda
                         << " expected " << v.p << " got " << got;
  }
  // The grid must reach the extreme tails it is meant to cover.
  EXPECT_LT(smallest_p, 1e-299);
  char worst_text[32];
  std::snprintf(worst_text, sizeof worst_text, "%.3g", worst);
  RecordProperty("worst_relative_error", worst_text);
}

TEST(PoissonUpperTail, EdgeCases) {
  EXPECT_EQ(PoissonUpperTail(0, 3.0), 1.0);
  EXPECT_EQ(PoissonUpperTail(-5, 3.0), 1.0);
  EXPECT_DOUBLE_EQ(PoissonUpperTail(1, 2.0), 1.0 - std::exp(-2.0));
  // Not computable: no expected count.
  EXPECT_TRUE(std::isnan(PoissonUpperTail(1, 0.0)));
  EXPECT_TRUE(std::isnan(PoissonUpperTail(0, 0.0)));
  EXPECT_TRUE(std::isnan(PoissonUpperTail(3, -1.0)));
  EXPECT_TRUE(std::isnan(PoissonUpperTail(3, kNaN)));
  EXPECT_TRUE(std::isnan(PoissonUpperTail(3, kInf)));
  // Far beyond the smallest double: 0, not an error or an exception.
  EXPECT_EQ(PoissonUpperTail(1000, 1e-9), 0.0);
  EXPECT_EQ(PoissonUpperTail(std::numeric_limits<int64_t>::max(), 5.0), 0.0);
  // Tiny lambda, k = 1: 1 - e^-lambda without cancellation.
  EXPECT_NEAR(PoissonUpperTail(1, 1e-12) / 1e-12, 1.0, 1e-9);
}

TEST(PoissonUpperTail, DecreasesInK) {
  for (double lambda : {1e-6, 0.3, 4.0, 57.5, 2500.0, 3e6}) {
    double prev = 1.0;
    auto step = static_cast<int64_t>(std::max(1.0, std::sqrt(lambda) / 8));
    for (int64_t k = 0; k < static_cast<int64_t>(lambda) + 60 * step + 40; k += step) {
      double p = PoissonUpperTail(k, lambda);
      EXPECT_LE(p, prev) << "k=" << k << " lambda=" << lambda;
      prev = p;
    }
  }
}

// The definition, literally: the first k from 0 upwards whose tail is <= p.
int64_t CriticalCountByScan(double lambda, double p) {
  for (int64_t k = 0;; ++k) {
    if (PoissonUpperTail(k, lambda) <= p) return k;
  }
}

TEST(PoissonCriticalCount, AgreesWithTheDefinitionOverAGrid) {
  const std::vector<double> lambdas = {1e-9, 1e-4, 0.05, 0.5, 1, 2.2, 7, 12.4, 31, 99.5, 640, 4100};
  const std::vector<double> thresholds = {0.9,  0.5,  0.1,   0.05,  0.01,   0.001, 1e-4,
                                          1e-6, 1e-9, 1e-15, 1e-50, 1e-200, 1e-300};
  for (double lambda : lambdas) {
    for (double p : thresholds) {
      EXPECT_EQ(PoissonCriticalCount(lambda, p), CriticalCountByScan(lambda, p))
          << "lambda=" << lambda << " p=" << p;
    }
  }
}

TEST(PoissonCriticalCount, ThresholdExactlyAtATailValue) {
  for (double lambda : {0.2, 3.0, 12.4, 150.0, 2.0e4}) {
    auto start = static_cast<int64_t>(lambda);
    for (int64_t k = std::max<int64_t>(1, start - 3); k < start + 40; ++k) {
      double p = PoissonUpperTail(k, lambda);
      // "<=" includes the tail value itself, so k qualifies; k - 1 has a larger tail.
      ASSERT_GT(PoissonUpperTail(k - 1, lambda), p);
      EXPECT_EQ(PoissonCriticalCount(lambda, p), k) << "lambda=" << lambda << " k=" << k;
      // Just below the tail value, k no longer qualifies.
      double below = std::nextafter(p, 0.0);
      EXPECT_EQ(PoissonCriticalCount(lambda, below), k + 1) << "lambda=" << lambda << " k=" << k;
    }
  }
}

TEST(PoissonCriticalCount, HugeLambdaIsTheBoundaryOfTheTail) {
  for (double lambda : {1e5, 1e6, 1e7}) {
    for (double p : {0.5, 0.001, 1e-12, 1e-100, 1e-300}) {
      int64_t k = PoissonCriticalCount(lambda, p);
      ASSERT_NE(k, kNoCriticalCount);
      EXPECT_LE(PoissonUpperTail(k, lambda), p) << "lambda=" << lambda << " p=" << p;
      EXPECT_GT(PoissonUpperTail(k - 1, lambda), p) << "lambda=" << lambda << " p=" << p;
    }
  }
}

TEST(PoissonCriticalCount, EdgeCases) {
  EXPECT_EQ(PoissonCriticalCount(5.0, 1.0), 0);
  EXPECT_EQ(PoissonCriticalCount(5.0, 2.0), 0);
  EXPECT_EQ(PoissonCriticalCount(5.0, -0.1), kNoCriticalCount);
  EXPECT_EQ(PoissonCriticalCount(5.0, kNaN), kNoCriticalCount);
  EXPECT_EQ(PoissonCriticalCount(0.0, 0.001), kNoCriticalCount);
  EXPECT_EQ(PoissonCriticalCount(-1.0, 0.001), kNoCriticalCount);
  EXPECT_EQ(PoissonCriticalCount(kInf, 0.001), kNoCriticalCount);
  // p = 0: the first count whose tail underflows to exactly 0.
  int64_t k = PoissonCriticalCount(2.0, 0.0);
  EXPECT_EQ(k, CriticalCountByScan(2.0, 0.0));
  EXPECT_EQ(PoissonUpperTail(k, 2.0), 0.0);
  EXPECT_GT(PoissonUpperTail(k - 1, 2.0), 0.0);
  // SPEC example: 31 drug sites against 12.4 expected is below 0.001.
  EXPECT_LE(PoissonCriticalCount(12.4, 0.001), 31);
  EXPECT_LE(PoissonUpperTail(31, 12.4), 0.001);
}

TEST(PoissonZScore, HandComputed) {
  EXPECT_DOUBLE_EQ(PoissonZScore(20, 16), 1.0);
  EXPECT_DOUBLE_EQ(PoissonZScore(9, 25), -3.2);
  EXPECT_DOUBLE_EQ(PoissonZScore(4, 4), 0.0);
  EXPECT_DOUBLE_EQ(PoissonZScore(0.5, 0.25), 0.5);
  EXPECT_TRUE(std::isnan(PoissonZScore(3, 0)));
  EXPECT_TRUE(std::isnan(PoissonZScore(3, -2)));
  EXPECT_TRUE(std::isnan(PoissonZScore(3, kNaN)));
  EXPECT_TRUE(std::isnan(PoissonZScore(3, kInf)));
}

TEST(Percentile, HandComputedWithTies) {
  // 1 lower, 2 equal, 1 higher: (1 + 2/2) / 4.
  std::vector<double> others = {9, 5, 1, 5};
  EXPECT_DOUBLE_EQ(Percentile(5, others), 50.0);
  EXPECT_DOUBLE_EQ(Percentile(0, others), 0.0);
  EXPECT_DOUBLE_EQ(Percentile(10, others), 100.0);
  EXPECT_DOUBLE_EQ(Percentile(9, others), 87.5);  // (3 + 0.5) / 4
  EXPECT_DOUBLE_EQ(Percentile(3, std::vector<double>{3, 3, 3}), 50.0);
  EXPECT_DOUBLE_EQ(Percentile(2, std::vector<double>{1, 2, 3}), 50.0);
  EXPECT_TRUE(std::isnan(Percentile(2, std::vector<double>{})));
  EXPECT_TRUE(std::isnan(Percentile(kNaN, others)));

  std::vector<double> sorted = {1, 5, 5, 9};
  EXPECT_DOUBLE_EQ(PercentileSorted(5, sorted), 50.0);
  EXPECT_DOUBLE_EQ(PercentileSorted(9, sorted), 87.5);
  EXPECT_TRUE(std::isnan(PercentileSorted(1, std::vector<double>{})));

  // The national snapshot includes the municipality itself once.
  std::vector<double> all = {1, 5, 5, 5, 9};
  EXPECT_DOUBLE_EQ(PercentileSortedWithSelf(5, all), 50.0);   // (1 + 2/2) / 4
  EXPECT_DOUBLE_EQ(PercentileSortedWithSelf(9, all), 100.0);  // 4 / 4
  EXPECT_DOUBLE_EQ(PercentileSortedWithSelf(1, all), 0.0);
  EXPECT_TRUE(std::isnan(PercentileSortedWithSelf(4, all)));  // not in the snapshot
  EXPECT_TRUE(std::isnan(PercentileSortedWithSelf(4, std::vector<double>{4})));
}

TEST(Percentile, SortedVariantsAgreeWithTheDefinition) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> value(0, 12);  // few distinct values: many ties
  for (int round = 0; round < 200; ++round) {
    std::vector<double> all(1 + round % 40);
    for (double& v : all) v = value(rng) * 0.25;
    size_t self = round % all.size();
    std::vector<double> others;
    for (size_t i = 0; i < all.size(); ++i) {
      if (i != self) others.push_back(all[i]);
    }
    double own = all[self];
    double expected = Percentile(own, others);
    std::sort(others.begin(), others.end());
    std::sort(all.begin(), all.end());
    if (others.empty()) {
      EXPECT_TRUE(std::isnan(expected));
      EXPECT_TRUE(std::isnan(PercentileSortedWithSelf(own, all)));
      continue;
    }
    EXPECT_DOUBLE_EQ(PercentileSorted(own, others), expected);
    EXPECT_DOUBLE_EQ(PercentileSortedWithSelf(own, all), expected);
  }
}

TEST(TrendRatio, HandComputed) {
  EXPECT_DOUBLE_EQ(TrendRatio(10, std::vector<double>{5, 5, 5, 5}), 2.0);
  EXPECT_DOUBLE_EQ(TrendRatio(6, std::vector<double>{2, 4, 6, 8}), 1.2);
  EXPECT_DOUBLE_EQ(TrendRatio(0, std::vector<double>{1, 0, 0, 0}), 0.0);
  EXPECT_EQ(TrendRatio(3, std::vector<double>{0, 0, 0, 0}), kInf);
  EXPECT_EQ(TrendRatio(-3, std::vector<double>{0, 0, 0, 0}), -kInf);
  EXPECT_TRUE(std::isnan(TrendRatio(0, std::vector<double>{0, 0, 0, 0})));
  EXPECT_TRUE(std::isnan(TrendRatio(5, std::vector<double>{})));
}

}  // namespace
}  // namespace zicht::engine

namespace zicht::engine {
namespace {

TEST(BinomialUpperTail, HandComputedAndEdges) {
  // n = 4, p = 1/2: P(X >= 3) = (4 + 1) / 16.
  EXPECT_NEAR(BinomialUpperTail(3, 4, 0.5), 5.0 / 16.0, 1e-15);
  EXPECT_NEAR(BinomialUpperTail(1, 10, 0.1), 1 - std::pow(0.9, 10), 1e-15);
  EXPECT_EQ(BinomialUpperTail(0, 10, 0.3), 1.0);
  EXPECT_EQ(BinomialUpperTail(11, 10, 0.3), 0.0);
  EXPECT_EQ(BinomialUpperTail(10, 10, 1.0), 1.0);
  EXPECT_EQ(BinomialUpperTail(1, 10, 0.0), 0.0);
  EXPECT_TRUE(std::isnan(BinomialUpperTail(1, 10, kNaN)));
  EXPECT_TRUE(std::isnan(BinomialUpperTail(1, 10, 1.5)));
  EXPECT_TRUE(std::isnan(BinomialUpperTail(1, -1, 0.5)));
  // Far tail keeps its relative precision: P(X = n) = p^n.
  EXPECT_NEAR(BinomialUpperTail(200, 200, 0.1) / std::pow(0.1, 200), 1.0, 1e-10);
}

TEST(FunnelZ, QuantilesAndInfinities) {
  EXPECT_NEAR(FunnelZ(0.025), 1.959963984540054, 1e-12);
  EXPECT_NEAR(FunnelZ(0.001), 3.090232306167813, 1e-12);
  EXPECT_NEAR(FunnelZ(0.5), 0.0, 1e-15);
  EXPECT_NEAR(FunnelZ(0.975), -1.959963984540054, 1e-12);
  EXPECT_EQ(FunnelZ(0.0), kInf);
  EXPECT_EQ(FunnelZ(1.0), -kInf);
  EXPECT_TRUE(std::isnan(FunnelZ(kNaN)));
  EXPECT_TRUE(std::isnan(FunnelZ(-0.1)));
  // Tiny p: from the complement, not from 1 - p (which would be 1).
  EXPECT_NEAR(FunnelZ(1e-300), 37.047096, 1e-5);
}

TEST(ShrinkagePrior, FlatWhenEveryRatioIsTheSame) {
  const std::vector<double> o = {10, 20, 40}, e = {5, 10, 20};
  ShrinkagePrior prior = EstimateShrinkagePrior(o, e);
  ASSERT_TRUE(prior.valid);
  EXPECT_TRUE(prior.flat);
  EXPECT_DOUBLE_EQ(prior.mean, 2.0);
  EXPECT_EQ(ShrunkRatio(prior, 100, 1), 2.0);
}

TEST(ShrinkagePrior, HandComputedSpread) {
  // m = 60/30 = 2; Σ (O − mE)²/E = 0 + 100/10 + 100/10 = 20; s² = 20/30 − 2/10.
  const std::vector<double> o = {20, 30, 10}, e = {10, 10, 10};
  ShrinkagePrior prior = EstimateShrinkagePrior(o, e);
  ASSERT_TRUE(prior.valid);
  ASSERT_FALSE(prior.flat);
  const double s2 = 20.0 / 30.0 - 0.2;
  EXPECT_NEAR(prior.variance, s2, 1e-14);
  EXPECT_NEAR(ShrunkRatio(prior, 30, 10), (30 + 4 / s2) / (10 + 2 / s2), 1e-14);
  // Small areas move further towards m than large ones with the same ratio.
  const double small = ShrunkRatio(prior, 3, 1), large = ShrunkRatio(prior, 300, 100);
  EXPECT_LT(std::fabs(small - 2), std::fabs(large - 2) + 1);
  EXPECT_LT(small, large);
  // Municipalities without an expectation are left out; none at all: invalid.
  EXPECT_FALSE(EstimateShrinkagePrior(std::vector<double>{1}, std::vector<double>{0}).valid);
  EXPECT_TRUE(std::isnan(ShrunkRatio(ShrinkagePrior{}, 1, 1)));
}

TEST(BenjaminiHochberg, HandComputedWithTies) {
  // n = 4: p sorted 0.01, 0.02, 0.02, 0.5 -> 4p/k = 0.04, 0.04, 0.0267, 0.5;
  // suffix minima 0.0267, 0.0267, 0.0267, 0.5.
  std::vector<double> q = BenjaminiHochberg({0.02, 0.5, 0.01, 0.02});
  EXPECT_NEAR(q[0], 0.08 / 3, 1e-15);
  EXPECT_NEAR(q[1], 0.5, 1e-15);
  EXPECT_NEAR(q[2], 0.08 / 3, 1e-15);
  EXPECT_NEAR(q[3], 0.08 / 3, 1e-15);
  // NaN counts as 1; results never exceed 1.
  q = BenjaminiHochberg({kNaN, 0.9});
  EXPECT_EQ(q[0], 1.0);
  EXPECT_EQ(q[1], 1.0);
}

// The O(log n) query agrees with re-sorting the whole set with the one entry
// replaced, for random sets with many ties and every kind of replacement.
TEST(BhRanking, AgreesWithTheReferenceForEveryReplacement) {
  std::mt19937_64 rng(12);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t n = 1 + rng() % 40;
    std::vector<double> p(n);
    for (double& v : p) {
      switch (rng() % 4) {
        case 0:
          v = static_cast<double>(rng() % 5) / 10;  // ties
          break;
        case 1:
          v = kNaN;
          break;
        default:
          v = std::ldexp(static_cast<double>(rng() % 1000000), -20 - static_cast<int>(rng() % 30));
      }
    }
    BhRanking ranking(p);
    for (size_t m = 0; m < n; ++m) {
      for (double x : {p[m], 0.0, 1.0, kNaN, p[(m + 1) % n], 0.3, 1e-9, p[m] * 0.5}) {
        std::vector<double> changed = p;
        changed[m] = x;
        const double want = BenjaminiHochberg(changed)[m];
        EXPECT_NEAR(ranking.AdjustedFor(m, x), want, 1e-15 * std::max(1.0, want))
            << "trial " << trial << " n " << n << " m " << m << " x " << x;
      }
    }
  }
  EXPECT_TRUE(std::isnan(BhRanking().AdjustedFor(0, 0.1)));
}

}  // namespace
}  // namespace zicht::engine
