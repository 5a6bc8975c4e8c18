// The synthetic feed of `zicht generate`: rates, field mixes, anomalies, delivery
// order and bad lines. All randomness comes from seeded Boost.Random engines,
// whose algorithms are fixed, so a seed gives the same bytes on every platform.
#include "zicht/tools/generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/poisson_distribution.hpp>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <numeric>
#include <optional>
#include <unordered_set>

#include "zicht/base/csv.h"
#include "zicht/base/json_writer.h"
#include "zicht/base/time.h"

namespace zicht::tools {
namespace {

// ---------------------------------------------------------------- rates

constexpr int kSt = static_cast<int>(EventKind::kSuspiciousTransaction);
constexpr int kPs = static_cast<int>(EventKind::kPropertySale);
constexpr int kBr = static_cast<int>(EventKind::kBusinessRegistration);
constexpr int kDf = static_cast<int>(EventKind::kDrugFinding);

// Weekly mean events per 1000 inhabitants per day at scale 1 (see generator.h).
constexpr std::array<double, kEventKindCount> kRatePer1000 = {0.095, 0.037, 0.021, 0.0002};

constexpr double kHeterogeneitySigma = 0.15;
constexpr double kHeterogeneityMin = 0.75;
constexpr double kHeterogeneityMax = 1.33;

// Monday..Sunday, normalised to mean 1 where used.
constexpr double kWeekdayWeights[kEventKindCount][7] = {
    {1, 1, 1, 1, 1, 0.7, 0.4},             // reports are filed on working days
    {1, 1, 1.05, 1.05, 1.3, 0.03, 0.005},  // notaries transfer property Mon-Fri
    {1.1, 1, 1, 1, 0.95, 0.08, 0.02},      // the chamber of commerce works Mon-Fri
    {1, 1, 1, 1, 1, 0.9, 0.9},             // police findings, any day
};

constexpr double kHourWeights[kEventKindCount][24] = {
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

constexpr double kCashShare = 0.35;
constexpr Option kChannels[] = {{"cash", 0.35},   {"wire", 0.30}, {"money_transfer", 0.14},
                                {"crypto", 0.08}, {"card", 0.08}, {"cheque", 0.05}};
constexpr int kChannelCash = 0;
constexpr int kChannelMoneyTransfer = 2;
constexpr int kChannelCrypto = 3;
constexpr Option kTransactionSectors[] = {{"bank", 0.40},
                                          {"money_transfer", 0.15},
                                          {"casino", 0.06},
                                          {"car_dealer", 0.08},
                                          {"jewelry", 0.05},
                                          {"real_estate", 0.06},
                                          {"crypto_exchange", 0.06},
                                          {"notary", 0.04},
                                          {"trust_office", 0.03},
                                          {"payment_service", 0.07}};
constexpr int kSectorMoneyTransfer = 1;
constexpr int kSectorCryptoExchange = 6;

constexpr Option kBuyerTypes[] = {{"person", 0.86}, {"company", 0.12}, {"foreign_company", 0.02}};
constexpr double kCompanyShare = 0.14;
constexpr Option kFinancing[] = {{"mortgage", 0}, {"none", 0}, {"unknown", 0}};
constexpr int kFinancingMortgage = 0;
constexpr int kFinancingNone = 1;
constexpr int kFinancingUnknown = 2;
// Financing by buyer: persons mostly take a mortgage, companies often do not.
constexpr double kPersonNone = 0.12, kPersonUnknown = 0.05;
constexpr double kCompanyNone = 0.40, kCompanyUnknown = 0.10;
constexpr double kAnomalyCompanyNone = 0.45;
constexpr double kNoneShare = (1 - kCompanyShare) * kPersonNone + kCompanyShare * kCompanyNone;
constexpr double kResaleShare = 0.30;

struct BusinessSector {
  const char* name;
  const char* sbi;  // SBI 2008 code of the activity
  double weight;    // within its group (vulnerable or other)
};
// The sectors the ondermijning method calls vulnerable; 18% of registrations.
constexpr double kVulnerableShare = 0.18;
constexpr BusinessSector kVulnerableSectors[] = {{"barbershop", "96021", 0.06},
                                                 {"nail_salon", "96022", 0.05},
                                                 {"car_wash", "45205", 0.02},
                                                 {"minimarket", "47111", 0.03},
                                                 {"phone_shop", "47420", 0.02}};
constexpr BusinessSector kOtherSectors[] = {
    {"consultancy", "70221", 0.20},    {"webshop", "47910", 0.14},
    {"construction", "41200", 0.12},   {"software", "62010", 0.08},
    {"restaurant", "56101", 0.07},     {"cleaning", "81210", 0.06},
    {"road_transport", "49410", 0.05}, {"cafe", "56301", 0.03},
    {"real_estate", "68100", 0.04},    {"holding", "64200", 0.03}};

constexpr Option kDrugKinds[] = {
    {"hemp_plantation", 0.70}, {"drug_storage", 0.22}, {"synthetic_lab", 0.08}};
constexpr Option kAnomalyDrugKinds[] = {
    {"hemp_plantation", 0.55}, {"drug_storage", 0.05}, {"synthetic_lab", 0.40}};
constexpr Option kDrugProperties[] = {{"residential", 0.62}, {"business", 0.23}, {"rural", 0.15}};
constexpr Option kAnomalyDrugProperties[] = {
    {"residential", 0.35}, {"business", 0.30}, {"rural", 0.35}};

// ---------------------------------------------------------------- delivery, bad lines

constexpr double kLateFraction = 0.01;       // delivered < 1d late
constexpr double kTooLateFraction = 0.0005;  // delivered > 1d late
constexpr double kBadLineFraction = 0.001;
constexpr TimeMs kLateMin = 2 * kMsPerMinute;
constexpr TimeMs kLateMax = 20 * kMsPerHour;
constexpr TimeMs kTooLateMin = 36 * kMsPerHour;
constexpr TimeMs kTooLateMax = 72 * kMsPerHour;
constexpr TimeMs kDuplicateDelayMax = 3 * kMsPerHour;
constexpr int kNoTooLateDays = 3;  // no too-late events in the last days of a feed

// ---------------------------------------------------------------- anomalies

struct KindLimits {
  double default_factor;
  double cap;
};
constexpr KindLimits kLimits[kAnomalyKindCount] = {
    {4.0, 12.0},  // cash_surge
    {3.5, 5.5},   // company_property
    {4.0, 5.0},   // quick_resale
    {6.0, 30.0},  // drug_production
    {4.0, 12.0},  // vulnerable_sector
    {3.5, 5.5},   // combined (company share; drugs use drug_production's)
};
constexpr double kMinExtraEvents = 30;  // over the whole anomaly
constexpr double kMinExtraSigmas = 6;   // against a 365-day window
constexpr double kMinExtraPer30d = 6;   // in any 30-day window inside the anomaly
constexpr int kMinDuration = 30;
constexpr int kMaxDuration = 120;
constexpr int kMinCombinedDuration = 70;

// ---------------------------------------------------------------- randomness

uint64_t SplitMix64(uint64_t x) {
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
std::vector<std::array<double, kEventKindCount>> Heterogeneity(
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
std::array<std::array<double, 7>, kEventKindCount> NormalisedWeekdays() {
  std::array<std::array<double, 7>, kEventKindCount> out{};
  for (int t = 0; t < kEventKindCount; ++t) {
    double sum = 0;
    for (double w : kWeekdayWeights[t]) sum += w;
    for (int d = 0; d < 7; ++d) out[t][d] = kWeekdayWeights[t][d] * 7 / sum;
  }
  return out;
}

int WeekdayOf(int64_t days_since_epoch) {  // 1970-01-01 was a Thursday (3)
  return static_cast<int>(((days_since_epoch + 3) % 7 + 7) % 7);
}

// Events per day (weekly mean, scale 1) of what an anomaly of `kind` multiplies.
double TargetRate(AnomalyKind kind, const FeedMunicipality& m,
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
double RequiredFactor(double rate, int days, double at_least) {
  double d = days;
  double extra =
      std::max({kMinExtraEvents / (rate * d), kMinExtraSigmas * std::sqrt(365 * rate) / (rate * d),
                kMinExtraPer30d / (rate * std::min(30.0, d))});
  return std::ceil(std::max(at_least, 1 + extra) * 100) / 100;
}

// ---------------------------------------------------------------- records

struct Record {
  TimeMs time = 0;
  TimeMs deliver_at = 0;
  int64_t order = 0;  // generation order: the tie-break that keeps sorting deterministic
  int64_t id = 0;     // per-type sequence number
  int64_t value = 0;  // amount_eur in cents, price_eur or revenue_eur in euros
  int32_t resale_days = -1;
  uint16_t municipality = 0;
  EventKind kind = EventKind::kSuspiciousTransaction;
  uint8_t a = 0;    // channel | buyer type | business sector | drug kind
  uint8_t b = 0;    // transaction sector | financing | vulnerable? | drug property
  int8_t bad = -1;  // BadLineKind, or -1
  uint8_t variant = 0;
};

// What the anomalies active on a day change for one municipality.
struct Effects {
  double cash = 1;
  double company_share = 1;
  double quick_resale = 0;  // probability that a sale is a quick cash resale
  double drugs = 1;
  double vulnerable = 1;
};

class FeedWriter {
 public:
  FeedWriter(const GeneratorOptions& options, std::span<const FeedMunicipality> municipalities,
             std::ostream& out, GeneratorStats* stats)
      : options_(options),
        municipalities_(municipalities),
        out_(out),
        stats_(stats),
        events_rng_(options.seed, Stream::kEvents),
        delivery_rng_(options.seed, Stream::kDelivery),
        heterogeneity_(Heterogeneity(options.seed, municipalities)),
        weekdays_(NormalisedWeekdays()) {
    std::unordered_set<std::string> known;
    for (const auto& m : municipalities) known.insert(m.code);
    for (int n = 9999; n >= 0 && unknown_codes_.size() < 16; n -= 7) {
      std::string code = fmt::format("GM{:04}", n);
      if (!known.contains(code)) unknown_codes_.push_back(code);
    }
    buffer_.reserve(kFlushBytes + 4096);
  }

  Status Run(int64_t first_day, const std::vector<PlannedAnomaly>& anomalies) {
    std::vector<Effects> effects(municipalities_.size());
    for (int day = 0; day < options_.days; ++day) {
      std::fill(effects.begin(), effects.end(), Effects{});
      for (const auto& a : anomalies) {
        if (day >= a.first_day && day <= a.last_day) Apply(a, &effects[a.municipality]);
      }
      TimeMs day_start = (first_day + day) * kMsPerDay;
      GenerateDay(day_start, WeekdayOf(first_day + day), effects,
                  day >= options_.days - kNoTooLateDays);
      Deliver(day_start + kMsPerDay);
      if (!out_) return Status::IoError("cannot write the event stream");
    }
    Deliver(std::numeric_limits<TimeMs>::max());
    Flush();
    if (!out_) return Status::IoError("cannot write the event stream");
    return Status::Ok();
  }

 private:
  static constexpr size_t kFlushBytes = 1 << 20;

  static void Apply(const PlannedAnomaly& a, Effects* e) {
    switch (a.kind) {
      case AnomalyKind::kCashSurge:
        e->cash = a.factor;
        break;
      case AnomalyKind::kCompanyProperty:
        e->company_share = a.factor;
        break;
      case AnomalyKind::kQuickResale:
        e->quick_resale = kNoneShare * (a.factor - 1) / (1 - kNoneShare);
        break;
      case AnomalyKind::kDrugProduction:
        e->drugs = a.factor;
        break;
      case AnomalyKind::kVulnerableSector:
        e->vulnerable = a.factor;
        break;
      case AnomalyKind::kCombined:
        e->company_share = a.factor;
        e->drugs = a.drug_factor;
        break;
    }
  }

  TimeMs TimeInDay(TimeMs day_start, int type) {
    int hour = events_rng_.PickWeighted(kHourWeights[type], 24);
    return day_start + hour * kMsPerHour + events_rng_.UniformInt(0, 3599) * kMsPerSecond;
  }

  void GenerateDay(TimeMs day_start, int weekday, const std::vector<Effects>& effects,
                   bool near_end) {
    day_.clear();
    for (size_t m = 0; m < municipalities_.size(); ++m) {
      const auto& het = heterogeneity_[m];
      const Effects& e = effects[m];
      double base = static_cast<double>(municipalities_[m].population) / 1000.0 * options_.scale;
      auto mean = [&](int type) {
        return base * kRatePer1000[type] * het[type] * weekdays_[type][weekday];
      };
      auto add = [&](EventKind kind) -> Record& {
        Record& r = day_.emplace_back();
        r.kind = kind;
        r.municipality = static_cast<uint16_t>(m);
        r.order = next_order_++;
        r.time = TimeInDay(day_start, static_cast<int>(kind));
        return r;
      };

      // Suspicious transactions: cash and other channels are separate streams
      // so that a cash surge multiplies only the cash reports.
      double st = mean(kSt);
      for (int64_t n = events_rng_.Poisson(st * kCashShare * e.cash); n > 0; --n) {
        FillTransaction(add(EventKind::kSuspiciousTransaction), /*cash=*/true);
      }
      for (int64_t n = events_rng_.Poisson(st * (1 - kCashShare)); n > 0; --n) {
        FillTransaction(add(EventKind::kSuspiciousTransaction), /*cash=*/false);
      }
      for (int64_t n = events_rng_.Poisson(mean(kPs)); n > 0; --n) {
        FillSale(add(EventKind::kPropertySale), e);
      }
      double br = mean(kBr);
      for (int64_t n = events_rng_.Poisson(br * kVulnerableShare * e.vulnerable); n > 0; --n) {
        FillRegistration(add(EventKind::kBusinessRegistration), true, e.vulnerable > 1);
      }
      for (int64_t n = events_rng_.Poisson(br * (1 - kVulnerableShare)); n > 0; --n) {
        FillRegistration(add(EventKind::kBusinessRegistration), false, false);
      }
      for (int64_t n = events_rng_.Poisson(mean(kDf) * e.drugs); n > 0; --n) {
        // Of the findings during an anomaly, 1/factor are the usual ones.
        bool anomalous = e.drugs > 1 && events_rng_.Uniform() * e.drugs >= 1;
        FillFinding(add(EventKind::kDrugFinding), anomalous);
      }
    }
    // Sort by (time, generation order) through packed 8-byte keys: ms in the
    // day (27 bits) above the index in the day (up to 2^36 events a day).
    keys_.resize(day_.size());
    for (size_t i = 0; i < day_.size(); ++i) {
      keys_[i] = static_cast<uint64_t>(day_[i].time - day_start) << 36 | i;
    }
    std::sort(keys_.begin(), keys_.end());
    sorted_.resize(day_.size());
    for (size_t i = 0; i < keys_.size(); ++i)
      sorted_[i] = day_[keys_[i] & ((uint64_t{1} << 36) - 1)];
    day_.swap(sorted_);
    size_t generated = day_.size();
    for (size_t i = 0; i < generated; ++i) {
      Record& r = day_[i];
      r.id = ++next_id_[static_cast<int>(r.kind)];
      Schedule(&r, near_end);
    }
  }

  void FillTransaction(Record& r, bool cash) {
    double amount;
    if (cash) {
      r.a = kChannelCash;
      amount = events_rng_.LogNormal(4000, 1.0);
    } else {
      do {
        r.a = static_cast<uint8_t>(events_rng_.Pick(kChannels));
      } while (r.a == kChannelCash);
      amount = events_rng_.LogNormal(7500, 1.3);
    }
    r.value = std::llround(std::clamp(amount, 100.0, 1e9) * 100);
    if (r.a == kChannelCrypto && events_rng_.Uniform() < 0.8) {
      r.b = kSectorCryptoExchange;
    } else if (r.a == kChannelMoneyTransfer && events_rng_.Uniform() < 0.8) {
      r.b = kSectorMoneyTransfer;
    } else {
      r.b = static_cast<uint8_t>(events_rng_.Pick(kTransactionSectors));
    }
  }

  void FillSale(Record& r, const Effects& e) {
    bool quick = e.quick_resale > 0 && events_rng_.Uniform() < e.quick_resale;
    // Buyer type; during company_property both company shares are multiplied.
    double u = events_rng_.Uniform();
    double company = kBuyerTypes[1].weight * e.company_share;
    double foreign = kBuyerTypes[2].weight * e.company_share;
    r.a = u < company ? 1 : u < company + foreign ? 2 : 0;
    bool is_company = r.a != 0;
    double price =
        is_company ? events_rng_.LogNormal(550000, 0.6) : events_rng_.LogNormal(400000, 0.45);
    r.value = std::llround(std::clamp(price, 25000.0, 1e9) / 1000) * 1000;
    if (quick) {
      r.b = kFinancingNone;
      r.resale_days = static_cast<int32_t>(events_rng_.UniformInt(14, 179));
      return;
    }
    double none =
        is_company ? (e.company_share > 1 ? kAnomalyCompanyNone : kCompanyNone) : kPersonNone;
    double unknown = is_company ? kCompanyUnknown : kPersonUnknown;
    double f = events_rng_.Uniform();
    r.b = f < none ? kFinancingNone : f < none + unknown ? kFinancingUnknown : kFinancingMortgage;
    if (events_rng_.Uniform() < kResaleShare) {
      double days = std::clamp(events_rng_.LogNormal(2600, 0.9), 30.0, 20000.0);
      r.resale_days = static_cast<int32_t>(days);
    }
  }

  void FillRegistration(Record& r, bool vulnerable, bool anomalous) {
    r.b = vulnerable ? 1 : 0;
    double revenue;
    if (vulnerable) {
      r.a = static_cast<uint8_t>(events_rng_.Pick(kVulnerableSectors));
      revenue = anomalous ? events_rng_.LogNormal(250000, 0.6) : events_rng_.LogNormal(60000, 0.8);
    } else {
      r.a = static_cast<uint8_t>(events_rng_.Pick(kOtherSectors));
      revenue = events_rng_.LogNormal(90000, 1.0);
    }
    r.value = std::llround(std::clamp(revenue, 1000.0, 1e10) / 100) * 100;
  }

  void FillFinding(Record& r, bool anomalous) {
    r.a = static_cast<uint8_t>(anomalous ? events_rng_.Pick(kAnomalyDrugKinds)
                                         : events_rng_.Pick(kDrugKinds));
    r.b = static_cast<uint8_t>(anomalous ? events_rng_.Pick(kAnomalyDrugProperties)
                                         : events_rng_.Pick(kDrugProperties));
  }

  // Decides delivery time and bad-line treatment. The draws do not depend on
  // `clean`, so clean and dirty feeds carry the same valid events.
  void Schedule(Record* r, bool near_end) {
    double u = delivery_rng_.Uniform();
    double delay_u = delivery_rng_.Uniform();
    double bad_u = delivery_rng_.Uniform();
    double bad_kind_u = delivery_rng_.Uniform();
    double variant_u = delivery_rng_.Uniform();
    r->deliver_at = r->time;
    bool delayed = false;
    if (u < kTooLateFraction && !near_end) {
      r->deliver_at += kTooLateMin + static_cast<TimeMs>(delay_u * (kTooLateMax - kTooLateMin));
      delayed = true;
    } else if (u < kTooLateFraction + kLateFraction) {
      // Log-uniform: most late events are minutes late, a few many hours.
      double ratio = static_cast<double>(kLateMax) / static_cast<double>(kLateMin);
      r->deliver_at +=
          static_cast<TimeMs>(static_cast<double>(kLateMin) * std::pow(ratio, delay_u));
      delayed = true;
    }
    if (options_.clean || bad_u >= kBadLineFraction) {
      CountDelay(*r);
      return;
    }
    auto kind = static_cast<BadLineKind>(
        std::min(kBadLineKindCount - 1, static_cast<int>(bad_kind_u * kBadLineKindCount)));
    if (kind == BadLineKind::kDuplicate) {
      CountDelay(*r);
      if (delayed) return;  // a late original's copy could be too late instead of duplicate
      Record copy = *r;
      copy.order = next_order_++;
      copy.deliver_at =
          r->time + kMsPerMinute + static_cast<TimeMs>(variant_u * kDuplicateDelayMax);
      copy.bad = static_cast<int8_t>(kind);
      day_.push_back(copy);
      return;
    }
    r->bad = static_cast<int8_t>(kind);
    r->variant = static_cast<uint8_t>(variant_u * 256);
  }

  void CountDelay(const Record& r) {
    TimeMs delay = r.deliver_at - r.time;
    if (delay >= kTooLateMin) {
      ++stats_->delayed_beyond_lateness;
    } else if (delay > 0) {
      ++stats_->delayed_within_lateness;
    }
  }

  static bool DeliveredBefore(const Record& x, const Record& y) {
    return x.deliver_at != y.deliver_at ? x.deliver_at < y.deliver_at : x.order < y.order;
  }

  // Writes the day's records and every pending one due before `until`, in
  // delivery order. The day is sorted by time and on-time records keep that
  // order, so only the few late ones (and duplicates) are sorted, then merged.
  void Deliver(TimeMs until) {
    for (const Record& r : day_) {
      if (r.deliver_at != r.time) pending_.push_back(r);
    }
    std::sort(pending_.begin(), pending_.end(), DeliveredBefore);
    size_t p = 0;
    for (const Record& r : day_) {
      if (r.deliver_at != r.time) continue;
      while (p < pending_.size() && pending_[p].deliver_at < until &&
             DeliveredBefore(pending_[p], r)) {
        Write(pending_[p++]);
      }
      Write(r);
    }
    while (p < pending_.size() && pending_[p].deliver_at < until) Write(pending_[p++]);
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(p));
    day_.clear();
  }

  void Write(const Record& r) {
    ++stats_->lines;
    if (r.bad < 0 || r.bad == static_cast<int8_t>(BadLineKind::kDuplicate)) {
      if (r.bad < 0) ++stats_->valid_events[static_cast<int>(r.kind)];
      if (r.bad >= 0) ++stats_->bad_lines[static_cast<int>(BadLineKind::kDuplicate)];
      AppendEvent(r, -1, &buffer_);
    } else {
      ++stats_->bad_lines[static_cast<uint8_t>(r.bad)];
      if (r.bad == static_cast<int8_t>(BadLineKind::kMalformedJson)) {
        line_.clear();
        AppendEvent(r, -1, &line_);
        // A prefix of an object without its closing brace is never valid JSON.
        size_t cut = 10 + (line_.size() - 20) * r.variant / 256;
        buffer_.append(line_, 0, cut);
        buffer_.push_back('\n');
      } else {
        AppendEvent(r, r.bad, &buffer_);
      }
    }
    if (buffer_.size() >= kFlushBytes) Flush();
  }

  void Flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
  }

  static void PutInt(std::string* out, int64_t v) {
    fmt::format_int text(v);
    out->append(text.data(), text.size());
  }
  static void PutPadded(std::string* out, int64_t v, size_t width) {
    fmt::format_int text(v);
    if (text.size() < width) out->append(width - text.size(), '0');
    out->append(text.data(), text.size());
  }

  // Appends one JSON line; `bad` (a BadLineKind other than malformed/duplicate)
  // spoils it on purpose. Written piece by piece: this is the hot path of a
  // 10-million-event benchmark feed.
  void AppendEvent(const Record& r, int bad, std::string* out) const {
    static constexpr std::string_view kTypeNames[] = {
        R"({"type":"suspicious_transaction","id":"fiu-)", R"({"type":"property_sale","id":"kad-)",
        R"({"type":"business_registration","id":"kvk-)", R"({"type":"drug_finding","id":"pol-)"};
    bool missing = bad == static_cast<int>(BadLineKind::kMissingField);
    bool wrong = bad == static_cast<int>(BadLineKind::kWrongType);
    // Missing field: either `time` or the type's first own field.
    bool drop_time = missing && r.variant % 2 == 0;
    bool drop_first = missing && !drop_time;
    // Wrong type: a number field written as a string (a string as a number for drug_finding).
    std::string_view quote = wrong ? "\"" : "";

    out->append(kTypeNames[static_cast<int>(r.kind)]);
    PutPadded(out, r.id, 8);
    out->append("\",");
    if (!drop_time) {
      int64_t day = FloorDiv(r.time, kMsPerDay);
      CivilDate date = CivilFromDays(day);
      TimeMs in_day = r.time - day * kMsPerDay;
      out->append("\"time\":\"");
      PutPadded(out, date.year, 4);
      out->push_back('-');
      PutPadded(out, date.month, 2);
      out->push_back('-');
      PutPadded(out, date.day, 2);
      out->push_back('T');
      PutPadded(out, in_day / kMsPerHour, 2);
      out->push_back(':');
      PutPadded(out, in_day / kMsPerMinute % 60, 2);
      out->push_back(':');
      PutPadded(out, in_day / kMsPerSecond % 60, 2);
      out->append("Z\",");
    }
    out->append("\"municipality\":\"");
    out->append(bad == static_cast<int>(BadLineKind::kUnknownMunicipality)
                    ? unknown_codes_[r.variant % unknown_codes_.size()]
                    : municipalities_[r.municipality].code);
    out->push_back('"');
    switch (r.kind) {
      case EventKind::kSuspiciousTransaction:
        if (!drop_first) {
          out->append(",\"amount_eur\":").append(quote);
          PutInt(out, r.value / 100);
          out->push_back('.');
          PutPadded(out, r.value % 100, 2);
          out->append(quote);
        }
        out->append(",\"channel\":\"").append(kChannels[r.a].name);
        out->append("\",\"sector\":\"").append(kTransactionSectors[r.b].name).append("\"}");
        break;
      case EventKind::kPropertySale:
        if (!drop_first) {
          out->append(",\"price_eur\":").append(quote);
          PutInt(out, r.value);
          out->append(quote);
        }
        out->append(",\"buyer_type\":\"").append(kBuyerTypes[r.a].name);
        out->append("\",\"financing\":\"").append(kFinancing[r.b].name).append("\"");
        if (r.resale_days >= 0) {
          out->append(",\"resale_days\":");
          PutInt(out, r.resale_days);
        }
        out->push_back('}');
        break;
      case EventKind::kBusinessRegistration: {
        const BusinessSector& sector = r.b ? kVulnerableSectors[r.a] : kOtherSectors[r.a];
        if (!drop_first) out->append(",\"sbi\":\"").append(sector.sbi).append("\"");
        out->append(",\"sector\":\"").append(sector.name).append("\",\"revenue_eur\":");
        out->append(quote);
        PutInt(out, r.value);
        out->append(quote).append("}");
        break;
      }
      case EventKind::kDrugFinding:
        if (!drop_first) out->append(",\"kind\":\"").append(kDrugKinds[r.a].name).append("\"");
        if (wrong) {
          out->append(",\"property\":");
          PutInt(out, r.b);
          out->push_back('}');
        } else {
          out->append(",\"property\":\"").append(kDrugProperties[r.b].name).append("\"}");
        }
        break;
    }
    out->push_back('\n');
  }

  const GeneratorOptions& options_;
  std::span<const FeedMunicipality> municipalities_;
  std::ostream& out_;
  GeneratorStats* stats_;
  Random events_rng_;
  Random delivery_rng_;
  std::vector<std::array<double, kEventKindCount>> heterogeneity_;
  std::array<std::array<double, 7>, kEventKindCount> weekdays_;
  std::vector<std::string> unknown_codes_;
  std::vector<Record> day_;
  std::vector<Record> sorted_;   // scratch for sorting day_
  std::vector<uint64_t> keys_;   // scratch for sorting day_
  std::vector<Record> pending_;  // delivered late, sorted by delivery
  std::array<int64_t, kEventKindCount> next_id_{};
  int64_t next_order_ = 0;
  std::string buffer_;
  std::string line_;
};

Result<int64_t> ParseStartDay(const std::string& date) {
  std::optional<TimeMs> t;
  if (date.size() == 10) t = ParseRfc3339(date + "T00:00:00Z");
  if (!t) return Status::InvalidArgument(fmt::format("start date '{}' is not YYYY-MM-DD", date));
  return FloorDiv(*t, kMsPerDay);
}

void WriteTruth(const std::vector<PlannedAnomaly>& anomalies,
                std::span<const FeedMunicipality> municipalities, int64_t first_day,
                std::ostream& out) {
  std::string text;
  for (const auto& a : anomalies) {
    const FeedMunicipality& m = municipalities[a.municipality];
    JsonWriter w(&text);
    w.BeginObject()
        .Key("kind")
        .String(AnomalyKindName(a.kind))
        .Key("municipality")
        .String(m.code)
        .Key("municipality_name")
        .String(m.name)
        .Key("start")
        .String(FormatDate((first_day + a.first_day) * kMsPerDay))
        .Key("end")
        .String(FormatDate((first_day + a.last_day) * kMsPerDay))
        .Key("factor")
        .Double(a.factor);
    if (a.kind == AnomalyKind::kCombined) w.Key("drug_factor").Double(a.drug_factor);
    w.EndObject();
    text.push_back('\n');
  }
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

}  // namespace

std::string_view AnomalyKindName(AnomalyKind kind) {
  switch (kind) {
    case AnomalyKind::kCashSurge:
      return "cash_surge";
    case AnomalyKind::kCompanyProperty:
      return "company_property";
    case AnomalyKind::kQuickResale:
      return "quick_resale";
    case AnomalyKind::kDrugProduction:
      return "drug_production";
    case AnomalyKind::kVulnerableSector:
      return "vulnerable_sector";
    case AnomalyKind::kCombined:
      return "combined";
  }
  return "unknown";
}

int64_t GeneratorStats::valid_event_total() const {
  return std::accumulate(std::begin(valid_events), std::end(valid_events), int64_t{0});
}

int64_t GeneratorStats::bad_line_total() const {
  return std::accumulate(std::begin(bad_lines), std::end(bad_lines), int64_t{0});
}

Status GeneratorOptions::Validate() const {
  if (days < 1 || days > 36600) {
    return Status::InvalidArgument(fmt::format("days must be 1..36600, not {}", days));
  }
  if (!std::isfinite(scale) || scale <= 0 || scale > 1000) {
    return Status::InvalidArgument(fmt::format("scale must be in (0, 1000], not {}", scale));
  }
  auto start = ParseStartDay(start_date);
  if (!start.ok()) return start.status();
  return Status::Ok();
}

Result<std::vector<FeedMunicipality>> LoadFeedMunicipalities(const std::string& path) {
  auto table = ReadCsvFile(path);
  if (!table.ok()) return table.status();
  int code_col = table->Column("code");
  int name_col = table->Column("name");
  int population_col = table->Column("population");
  if (code_col < 0 || name_col < 0 || population_col < 0) {
    return Status::InvalidArgument(
        fmt::format("{}:1:1: expected columns code, name and population", path));
  }
  std::vector<FeedMunicipality> out;
  std::unordered_set<std::string> seen;
  for (const auto& row : table->rows) {
    auto field = [&](int col) -> const std::string& {
      return row.fields.at(static_cast<size_t>(col));
    };
    if (row.fields.size() != table->header.size()) {
      return Status::InvalidArgument(fmt::format("{}:{}:1: expected {} fields, found {}", path,
                                                 row.line, table->header.size(),
                                                 row.fields.size()));
    }
    const std::string& code = field(code_col);
    bool code_ok =
        code.size() == 6 && code[0] == 'G' && code[1] == 'M' &&
        std::all_of(code.begin() + 2, code.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!code_ok) {
      return Status::InvalidArgument(
          fmt::format("{}:{}:{}: '{}' is not a GM code", path, row.line, code_col + 1, code));
    }
    if (!seen.insert(code).second) {
      return Status::InvalidArgument(
          fmt::format("{}:{}:{}: duplicate code {}", path, row.line, code_col + 1, code));
    }
    const std::string& pop = field(population_col);
    char* end = nullptr;
    long long population = pop.empty() ? 0 : std::strtoll(pop.c_str(), &end, 10);
    if (pop.empty() || *end != '\0' || population <= 0) {
      return Status::InvalidArgument(
          fmt::format("{}:{}:{}: population '{}' is not a positive integer", path, row.line,
                      population_col + 1, pop));
    }
    out.push_back({code, field(name_col), population});
  }
  if (out.empty()) return Status::InvalidArgument(fmt::format("{}: no municipalities", path));
  if (out.size() > 10000) return Status::InvalidArgument(fmt::format("{}: too many rows", path));
  return out;
}

std::vector<PlannedAnomaly> PlanAnomalies(const GeneratorOptions& options,
                                          std::span<const FeedMunicipality> municipalities) {
  std::vector<PlannedAnomaly> out;
  if (!options.anomalies || municipalities.size() < 8) return out;
  int margin = std::min(60, options.days / 5);
  int max_duration = std::min(kMaxDuration, options.days - margin);
  if (max_duration < kMinDuration) return out;

  Random rng(options.seed, Stream::kPlan);
  auto heterogeneity = Heterogeneity(options.seed, municipalities);
  double per_year = 12 + 8 * rng.Uniform();
  auto count = std::max<int64_t>(1, std::llround(per_year * options.days / 365.0));

  // Candidates by population, the smallest tenth left out; four strata so that
  // small, medium and large municipalities all get anomalies.
  std::vector<size_t> order(municipalities.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    const auto& a = municipalities[x];
    const auto& b = municipalities[y];
    return a.population != b.population ? a.population < b.population : a.code < b.code;
  });
  std::vector<size_t> candidates(order.begin() + static_cast<ptrdiff_t>(order.size() / 10),
                                 order.end());
  constexpr int kStrata = 4;
  auto stratum_bounds = [&](int s) {
    return std::pair{candidates.size() * static_cast<size_t>(s) / kStrata,
                     candidates.size() * static_cast<size_t>(s + 1) / kStrata};
  };
  std::vector<bool> used(municipalities.size(), false);
  std::vector<AnomalyKind> kinds;
  auto rotation = static_cast<int>(rng.UniformInt(0, kStrata - 1));

  for (int64_t i = 0; i < count; ++i) {
    if (kinds.empty()) {
      for (int k = kAnomalyKindCount - 1; k >= 0; --k) kinds.push_back(static_cast<AnomalyKind>(k));
      for (size_t j = kinds.size() - 1; j > 0; --j) {
        std::swap(kinds[j], kinds[static_cast<size_t>(rng.UniformInt(0, static_cast<int64_t>(j)))]);
      }
    }
    AnomalyKind kind = kinds.back();
    kinds.pop_back();
    bool combined = kind == AnomalyKind::kCombined;
    int min_duration = combined ? std::min(kMinCombinedDuration, max_duration) : kMinDuration;
    auto duration = static_cast<int>(rng.UniformInt(min_duration, max_duration));
    auto first = static_cast<int>(rng.UniformInt(margin, options.days - duration));
    int stratum = static_cast<int>((i + rotation) % kStrata);

    for (int attempt = 0; attempt < 40; ++attempt) {
      auto [lo, hi] = stratum_bounds(std::min(kStrata - 1, stratum + attempt / 10));
      size_t m = candidates[static_cast<size_t>(
          rng.UniformInt(static_cast<int64_t>(lo), static_cast<int64_t>(hi) - 1))];
      if (used[m]) continue;
      const auto& limits = kLimits[static_cast<int>(kind)];
      double at_least = limits.default_factor;
      if (kind == AnomalyKind::kCompanyProperty) at_least = std::max(at_least, 1 + 90.0 / duration);
      if (combined) at_least = std::min(limits.cap, std::max(at_least, 1 + 300.0 / duration));
      double factor =
          RequiredFactor(TargetRate(kind, municipalities[m], heterogeneity[m]), duration, at_least);
      if (factor > limits.cap) continue;
      double drug_factor = 1;
      if (combined) {
        const auto& drug_limits = kLimits[static_cast<int>(AnomalyKind::kDrugProduction)];
        drug_factor = RequiredFactor(
            TargetRate(AnomalyKind::kDrugProduction, municipalities[m], heterogeneity[m]), duration,
            drug_limits.default_factor);
        if (drug_factor > drug_limits.cap) continue;
      }
      used[m] = true;
      out.push_back({kind, m, first, first + duration - 1, factor, drug_factor});
      break;
    }
  }
  std::sort(out.begin(), out.end(), [](const PlannedAnomaly& a, const PlannedAnomaly& b) {
    return a.first_day != b.first_day ? a.first_day < b.first_day : a.municipality < b.municipality;
  });
  return out;
}

Result<GeneratorStats> GenerateFeed(const GeneratorOptions& options,
                                    std::span<const FeedMunicipality> municipalities,
                                    std::ostream& events, std::ostream* truth) {
  ZICHT_RETURN_IF_ERROR(options.Validate());
  if (municipalities.empty()) return Status::InvalidArgument("no municipalities");
  if (municipalities.size() > UINT16_MAX) return Status::InvalidArgument("too many municipalities");
  for (const auto& m : municipalities) {
    if (m.population <= 0) {
      return Status::InvalidArgument(fmt::format("{}: population must be positive", m.code));
    }
  }
  int64_t first_day = ParseStartDay(options.start_date).value();
  GeneratorStats stats;
  stats.anomalies = PlanAnomalies(options, municipalities);
  if (truth != nullptr) {
    WriteTruth(stats.anomalies, municipalities, first_day, *truth);
    if (!*truth) return Status::IoError("cannot write the anomalies");
  }
  FeedWriter writer(options, municipalities, events, &stats);
  ZICHT_RETURN_IF_ERROR(writer.Run(first_day, stats.anomalies));
  return stats;
}

}  // namespace zicht::tools
