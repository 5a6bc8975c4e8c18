#include "feed_writer.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <unordered_set>

#include "feed_model.h"
#include "zicht/base/json_writer.h"

namespace zicht::tools::feed {
namespace {

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
    if (options.neighbourhoods != nullptr) {
      buurt_cumulative_.resize(municipalities.size());
      for (size_t m = 0; m < municipalities.size(); ++m) {
        int64_t total = 0;
        for (int n : options.neighbourhoods->of_municipality(static_cast<int>(m))) {
          total += options.neighbourhoods->at(static_cast<size_t>(n)).population;
          buurt_cumulative_[m].emplace_back(total, n);
        }
      }
    }
  }

  // The neighbourhood of a record: population-weighted, from a hash of the
  // seed, type and id (splitmix64), so that no random stream moves. Null when
  // the municipality has no inhabited neighbourhood.
  const std::string* NeighbourhoodOf(const Record& r) const {
    const auto& cumulative = buurt_cumulative_[r.municipality];
    if (cumulative.empty() || cumulative.back().first <= 0) return nullptr;
    uint64_t z = options_.seed ^ (static_cast<uint64_t>(r.kind) << 56) ^
                 static_cast<uint64_t>(r.id) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    const int64_t pick = static_cast<int64_t>(z % static_cast<uint64_t>(cumulative.back().first));
    auto it = std::upper_bound(cumulative.begin(), cumulative.end(), pick,
                               [](int64_t v, const auto& c) { return v < c.first; });
    return &options_.neighbourhoods->at(static_cast<size_t>(it->second)).code;
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
    if (!buurt_cumulative_.empty() && bad != static_cast<int>(BadLineKind::kUnknownMunicipality)) {
      if (const std::string* code = NeighbourhoodOf(r)) {
        out->append(",\"neighbourhood\":\"").append(*code).push_back('"');
      }
    }
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
  // Per municipality: (cumulative population, neighbourhood), for NeighbourhoodOf.
  std::vector<std::vector<std::pair<int64_t, int>>> buurt_cumulative_;
  std::vector<Record> day_;
  std::vector<Record> sorted_;   // scratch for sorting day_
  std::vector<uint64_t> keys_;   // scratch for sorting day_
  std::vector<Record> pending_;  // delivered late, sorted by delivery
  std::array<int64_t, kEventKindCount> next_id_{};
  int64_t next_order_ = 0;
  std::string buffer_;
  std::string line_;
};

}  // namespace

Status WriteFeed(const GeneratorOptions& options, std::span<const FeedMunicipality> municipalities,
                 int64_t first_day, const std::vector<PlannedAnomaly>& anomalies, std::ostream& out,
                 GeneratorStats* stats) {
  FeedWriter writer(options, municipalities, out, stats);
  return writer.Run(first_day, anomalies);
}

}  // namespace zicht::tools::feed
