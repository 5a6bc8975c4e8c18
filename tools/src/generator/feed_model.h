// The synthetic feed's model: base rates per 1,000 inhabitants, weekday and
// hour profiles, field mixes, delivery delays and bad-line shares, anomaly
// limits, and the seeded random streams. Internal to the generator.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/poisson_distribution.hpp>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "zicht/base/time.h"
#include "zicht/tools/generator.h"

namespace zicht::tools::feed {

// ---------------------------------------------------------------- rates

inline constexpr int kSt = static_cast<int>(EventKind::kSuspiciousTransaction);
inline constexpr int kPs = static_cast<int>(EventKind::kPropertySale);
inline constexpr int kBr = static_cast<int>(EventKind::kBusinessRegistration);
inline constexpr int kDf = static_cast<int>(EventKind::kDrugFinding);

// Weekly mean events per 1000 inhabitants per day at scale 1 (see generator.h).
inline constexpr std::array<double, kEventKindCount> kRatePer1000 = {0.095, 0.037, 0.021, 0.0002};

inline constexpr double kHeterogeneitySigma = 0.15;
inline constexpr double kHeterogeneityMin = 0.75;
inline constexpr double kHeterogeneityMax = 1.33;

// Monday..Sunday, normalised to mean 1 where used.
inline constexpr double kWeekdayWeights[kEventKindCount][7] = {
    {1, 1, 1, 1, 1, 0.7, 0.4},             // reports are filed on working days
    {1, 1, 1.05, 1.05, 1.3, 0.03, 0.005},  // notaries transfer property Mon-Fri
    {1.1, 1, 1, 1, 0.95, 0.08, 0.02},      // the chamber of commerce works Mon-Fri
    {1, 1, 1, 1, 1, 0.9, 0.9},             // police findings, any day
};

inline constexpr double kHourWeights[kEventKindCount][24] = {
    {.15, .15, .15, .15, .15, .15, .3, .6, .9, 1.4, 1.4, 1.4,  //
     1.4, 1.4, 1.4, 1.4, 1.4, 1,   1,  1,  .7, .7,  .35, .35},
    {0,  0,   0,   0,   0,   0,  0, 0, .5, 1.5, 1.5, 1.5,  //
     .8, 1.2, 1.2, 1.2, 1.2, .3, 0, 0, 0,  0,   0,   0},
    {.02, .02, .02, .02, .02, .02, .02, .02, .5,  1.3, 1.3, 1.3,  //
     1.3, 1.3, 1.3, 1.3, 1.3, .6,  .15, .15, .15, .15, .15, .02},
    {.6, .6, .6, .6, .6, .6, 1.6, 1.6, 1.6, 1.6, 1,  1,  //
     1,  1,  1,  1,  1,  1,  .8,  .8,  .8,  .8,  .8, .8},
};

// ---------------------------------------------------------------- field mixes

struct Option {
  const char* name;
  double weight;
};

inline constexpr double kCashShare = 0.35;
inline constexpr Option kChannels[] = {{"cash", 0.35},   {"wire", 0.30}, {"money_transfer", 0.14},
                                       {"crypto", 0.08}, {"card", 0.08}, {"cheque", 0.05}};
inline constexpr int kChannelCash = 0;
inline constexpr int kChannelMoneyTransfer = 2;
inline constexpr int kChannelCrypto = 3;
inline constexpr Option kTransactionSectors[] = {{"bank", 0.40},
                                                 {"money_transfer", 0.15},
                                                 {"casino", 0.06},
                                                 {"car_dealer", 0.08},
                                                 {"jewelry", 0.05},
                                                 {"real_estate", 0.06},
                                                 {"crypto_exchange", 0.06},
                                                 {"notary", 0.04},
                                                 {"trust_office", 0.03},
                                                 {"payment_service", 0.07}};
inline constexpr int kSectorMoneyTransfer = 1;
inline constexpr int kSectorCryptoExchange = 6;

inline constexpr Option kBuyerTypes[] = {
    {"person", 0.86}, {"company", 0.12}, {"foreign_company", 0.02}};
inline constexpr double kCompanyShare = 0.14;
inline constexpr Option kFinancing[] = {{"mortgage", 0}, {"none", 0}, {"unknown", 0}};
inline constexpr int kFinancingMortgage = 0;
inline constexpr int kFinancingNone = 1;
inline constexpr int kFinancingUnknown = 2;
// Financing by buyer: persons mostly take a mortgage, companies often do not.
inline constexpr double kPersonNone = 0.12, kPersonUnknown = 0.05;
inline constexpr double kCompanyNone = 0.40, kCompanyUnknown = 0.10;
inline constexpr double kAnomalyCompanyNone = 0.45;
inline constexpr double kNoneShare =
    (1 - kCompanyShare) * kPersonNone + kCompanyShare * kCompanyNone;
inline constexpr double kResaleShare = 0.30;

struct BusinessSector {
  const char* name;
  const char* sbi;  // SBI 2008 code of the activity
  double weight;    // within its group (vulnerable or other)
};
// The sectors the ondermijning method calls vulnerable; 18% of registrations.
inline constexpr double kVulnerableShare = 0.18;
inline constexpr BusinessSector kVulnerableSectors[] = {{"barbershop", "96021", 0.06},
                                                        {"nail_salon", "96022", 0.05},
                                                        {"car_wash", "45205", 0.02},
                                                        {"minimarket", "47111", 0.03},
                                                        {"phone_shop", "47420", 0.02}};
inline constexpr BusinessSector kOtherSectors[] = {
    {"consultancy", "70221", 0.20},    {"webshop", "47910", 0.14},
    {"construction", "41200", 0.12},   {"software", "62010", 0.08},
    {"restaurant", "56101", 0.07},     {"cleaning", "81210", 0.06},
    {"road_transport", "49410", 0.05}, {"cafe", "56301", 0.03},
    {"real_estate", "68100", 0.04},    {"holding", "64200", 0.03}};

inline constexpr Option kDrugKinds[] = {
    {"hemp_plantation", 0.70}, {"drug_storage", 0.22}, {"synthetic_lab", 0.08}};
inline constexpr Option kAnomalyDrugKinds[] = {
    {"hemp_plantation", 0.55}, {"drug_storage", 0.05}, {"synthetic_lab", 0.40}};
inline constexpr Option kDrugProperties[] = {
    {"residential", 0.62}, {"business", 0.23}, {"rural", 0.15}};
inline constexpr Option kAnomalyDrugProperties[] = {
    {"residential", 0.35}, {"business", 0.30}, {"rural", 0.35}};

// ---------------------------------------------------------------- delivery, bad lines

inline constexpr double kLateFraction = 0.01;       // delivered < 1d late
inline constexpr double kTooLateFraction = 0.0005;  // delivered > 1d late
inline constexpr double kBadLineFraction = 0.001;
inline constexpr TimeMs kLateMin = 2 * kMsPerMinute;
inline constexpr TimeMs kLateMax = 20 * kMsPerHour;
inline constexpr TimeMs kTooLateMin = 36 * kMsPerHour;
inline constexpr TimeMs kTooLateMax = 72 * kMsPerHour;
inline constexpr TimeMs kDuplicateDelayMax = 3 * kMsPerHour;
inline constexpr int kNoTooLateDays = 3;  // no too-late events in the last days of a feed

// ---------------------------------------------------------------- anomalies

struct KindLimits {
  double default_factor;
  double cap;
};
inline constexpr KindLimits kLimits[kAnomalyKindCount] = {
    {4.0, 12.0},  // cash_surge
    {3.5, 5.5},   // company_property
    {4.0, 5.0},   // quick_resale
    {6.0, 30.0},  // drug_production
    {4.0, 12.0},  // vulnerable_sector
    {3.5, 5.5},   // combined (company share; drugs use drug_production's)
};
inline constexpr double kMinExtraEvents = 30;  // over the whole anomaly
inline constexpr double kMinExtraSigmas = 6;   // against a 365-day window
inline constexpr double kMinExtraPer30d = 6;   // in any 30-day window inside the anomaly
inline constexpr int kMinDuration = 30;
inline constexpr int kMaxDuration = 120;
inline constexpr int kMinCombinedDuration = 70;

// ---------------------------------------------------------------- randomness

inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Independent streams per purpose, so that e.g. --clean does not shift events.
enum class Stream : uint64_t { kHeterogeneity = 1, kPlan = 2, kEvents = 3, kDelivery = 4 };

class Random {
 public:
  Random(uint64_t seed, Stream stream)
      : engine_(SplitMix64(seed ^ SplitMix64(static_cast<uint64_t>(stream)))) {}

  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  int64_t UniformInt(int64_t lo, int64_t hi) {                                   // [lo, hi]
    auto span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(engine_() % span);
  }
  double Normal() { return normal_(engine_); }
  double LogNormal(double median, double sigma) { return median * std::exp(sigma * Normal()); }
  int64_t Poisson(double mean) {
    if (!(mean > 0)) return 0;
    boost::random::poisson_distribution<int64_t, double> dist(mean);
    return dist(engine_);
  }
  template <size_t N>
  int Pick(const Option (&options)[N]) {
    double total = 0;
    for (const auto& o : options) total += o.weight;
    double u = Uniform() * total;
    for (size_t i = 0; i + 1 < N; ++i) {
      if (u < options[i].weight) return static_cast<int>(i);
      u -= options[i].weight;
    }
    return static_cast<int>(N - 1);
  }
  template <size_t N>
  int Pick(const BusinessSector (&sectors)[N]) {
    double total = 0;
    for (const auto& s : sectors) total += s.weight;
    double u = Uniform() * total;
    for (size_t i = 0; i + 1 < N; ++i) {
      if (u < sectors[i].weight) return static_cast<int>(i);
      u -= sectors[i].weight;
    }
    return static_cast<int>(N - 1);
  }
  // Index drawn with probability proportional to weights[i].
  int PickWeighted(const double* weights, int n) {
    double total = 0;
    for (int i = 0; i < n; ++i) total += weights[i];
    double u = Uniform() * total;
    for (int i = 0; i + 1 < n; ++i) {
      if (u < weights[i]) return i;
      u -= weights[i];
    }
    return n - 1;
  }

 private:
  boost::random::mt19937_64 engine_;
  boost::random::normal_distribution<double> normal_;
};

// Stable per-municipality, per-type rate factors; drawn from the seed alone.
inline std::vector<std::array<double, kEventKindCount>> Heterogeneity(
    uint64_t seed, std::span<const FeedMunicipality> municipalities) {
  Random rng(seed, Stream::kHeterogeneity);
  std::vector<std::array<double, kEventKindCount>> out(municipalities.size());
  for (auto& factors : out) {
    for (double& f : factors) {
      do {
        f = std::exp(kHeterogeneitySigma * rng.Normal());
      } while (f < kHeterogeneityMin || f > kHeterogeneityMax);
    }
  }
  return out;
}

// Weekday weights normalised to mean 1; weekday 0 = Monday.
inline std::array<std::array<double, 7>, kEventKindCount> NormalisedWeekdays() {
  std::array<std::array<double, 7>, kEventKindCount> out{};
  for (int t = 0; t < kEventKindCount; ++t) {
    double sum = 0;
    for (double w : kWeekdayWeights[t]) sum += w;
    for (int d = 0; d < 7; ++d) out[t][d] = kWeekdayWeights[t][d] * 7 / sum;
  }
  return out;
}

inline int WeekdayOf(int64_t days_since_epoch) {  // 1970-01-01 was a Thursday (3)
  return static_cast<int>(((days_since_epoch + 3) % 7 + 7) % 7);
}

// Events per day (weekly mean, scale 1) of what an anomaly of `kind` multiplies.
inline double TargetRate(AnomalyKind kind, const FeedMunicipality& m,
                         const std::array<double, kEventKindCount>& het) {
  double per1000 = static_cast<double>(m.population) / 1000.0;
  switch (kind) {
    case AnomalyKind::kCashSurge:
      return per1000 * kRatePer1000[kSt] * het[kSt] * kCashShare;
    case AnomalyKind::kCompanyProperty:
    case AnomalyKind::kCombined:
      return per1000 * kRatePer1000[kPs] * het[kPs] * kCompanyShare;
    case AnomalyKind::kQuickResale:
      return per1000 * kRatePer1000[kPs] * het[kPs] * kNoneShare;
    case AnomalyKind::kDrugProduction:
      return per1000 * kRatePer1000[kDf] * het[kDf];
    case AnomalyKind::kVulnerableSector:
      return per1000 * kRatePer1000[kBr] * het[kBr] * kVulnerableShare;
  }
  return 0;
}

// The smallest factor (2 decimals, rounded up) that makes an anomaly of `days`
// on a target rate `rate` clearly significant (see generator.h).
inline double RequiredFactor(double rate, int days, double at_least) {
  double d = days;
  double extra =
      std::max({kMinExtraEvents / (rate * d), kMinExtraSigmas * std::sqrt(365 * rate) / (rate * d),
                kMinExtraPer30d / (rate * std::min(30.0, d))});
  return std::ceil(std::max(at_least, 1 + extra) * 100) / 100;
}

}  // namespace zicht::tools::feed
