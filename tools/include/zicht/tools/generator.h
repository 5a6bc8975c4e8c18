// `zicht generate`: a seeded, deterministic synthetic feed of the four built-in
// event types for every municipality, with planted anomalies and realistic noise.
//
// The feed (one JSON object per line, SPEC section 2):
//  - Poisson arrivals per municipality, type and UTC day with rates proportional
//    to population. Weekly means, per 1000 inhabitants per day, at scale 1:
//      suspicious_transaction 0.095   property_sale 0.037
//      business_registration  0.021   drug_finding  0.0002 (a few per municipality a year)
//    For the 17.9 million inhabitants of the 2024 table that is about 1.0 million
//    events a year; `scale` multiplies every rate.
//  - Heterogeneity: each municipality has a stable factor per event type,
//    lognormal with sigma 0.15, truncated to [0.75, 1.33] (drawn from the seed
//    alone, so it is the same for every --days). Rates therefore differ between
//    municipalities, but a count ratio >= 1.5 against the national rate never
//    comes from heterogeneity alone. Field mixes (cash share, buyer types,
//    financing, sectors, finding kinds) are the same everywhere outside
//    anomalies: a share differs from the national share only by sampling noise.
//  - Weekly seasonality (weekday weights, mean 1): suspicious transactions dip
//    at weekends (Sat 0.7, Sun 0.4 of a weekday), property sales and business
//    registrations almost vanish on Saturday and Sunday (Sunday 0.5% and 2% of a
//    weekday); time of day follows office hours for sales and registrations.
//  - Field distributions: amount_eur lognormal (cash median 4 000, other 7 500);
//    channel cash 35%, wire 30%, money_transfer 14%, crypto 8%, card 8%, cheque 5%;
//    price_eur lognormal around 400 000; buyer_type company 12%, foreign_company 2%;
//    financing none ~16%, unknown ~6% (companies pay without a mortgage far more
//    often); resale_days on 30% of sales (median ~7 years); sector/SBI pairs of
//    which barbershop, nail_salon, car_wash, minimarket, phone_shop (18% together)
//    are the "vulnerable" ones; drug_finding kind hemp_plantation 70%,
//    drug_storage 22%, synthetic_lab 8%; property residential/business/rural.
//  - Delivery: sorted by event time, except ~1% of events delivered 2 minutes to
//    20 hours late (inside the default 1d allowed lateness: accepted) and ~0.05%
//    delivered 36 to 72 hours late (the engine must dead-letter them `too_late`;
//    none in the last 3 days of the feed, where no later event would make them so).
//  - Unless `clean`: ~0.1% deliberately bad lines, equally split between
//    malformed JSON (a truncated line), a missing required field, an unknown
//    municipality code, a field of the wrong JSON type, and an exact duplicate of
//    an event delivered up to 3 hours earlier. The first four replace the event
//    they were made from; a duplicate is an extra line. Bad-line choices use their
//    own random stream: with and without `clean` the valid events are identical.
//
// Planted anomalies (12..20 per 365 days, none in feeds shorter than ~38 days):
// each has a kind, a municipality (one anomaly per municipality; never the
// smallest 10%), a first and last day (30..120 days, not in the first
// min(60, days/5) days) and a factor. The factor is at least the kind's default
// and is raised for smaller municipalities until the anomaly adds >= 30 events
// and >= 6 standard deviations over a 365-day window, and >= 6 events to every
// 30-day window it covers; a municipality whose factor would exceed the kind's
// cap is not chosen. What each kind changes in its municipality and period:
//   cash_surge        suspicious_transaction with channel cash x factor (default 4,
//                     cap 12): cash count, cash share, amounts summed all rise.
//   company_property  property_sale buyer_type company+foreign_company share
//                     x factor (default 3.5, cap 5.5, >= 1 + 90/days, so a 90d
//                     share doubles); companies then pay 45% without mortgage.
//                     Sales count unchanged.
//   quick_resale      property_sale financing none share x factor (default 4,
//                     cap 5): the extra sales are resales after 14..179 days with
//                     financing none, so the mean resale_days falls to about a
//                     quarter. Buyer types and sales count unchanged. (A company
//                     anomaly raises the none share too, up to ~2x: companies
//                     pay without mortgage more often.)
//   drug_production   drug_finding x factor (default 6, cap 30); the extra findings
//                     are 55% hemp_plantation, 40% synthetic_lab.
//   vulnerable_sector business_registration in the five vulnerable sectors
//                     x factor (default 4, cap 12), with revenue median 250 000
//                     instead of 60 000.
//   combined          company_property and drug_production at once (SPEC rule
//                     property-and-drugs): 70..120 days, company share factor
//                     >= 1 + 300/days (at most 5.5) so a 365d share reaches 1.5x
//                     the national share, and the drug factor computed as for drug_production.
#pragma once

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/reference/municipalities.h"
#include "zicht/reference/neighbourhoods.h"

namespace zicht::tools {

// The generator reads the municipality reference table (reference/municipalities.h):
// codes, names and populations.
using FeedMunicipality = reference::Municipality;

struct GeneratorOptions {
  int days = 0;                           // UTC days of events; required, 1..36600
  uint64_t seed = 0;                      // same seed and options: byte-identical output
  std::string start_date = "2026-01-01";  // first day, YYYY-MM-DD (UTC)
  double scale = 1.0;                     // multiplies every rate; (0, 1000]
  bool clean = false;                     // true: no deliberately bad lines
  bool anomalies = true;                  // false: no planted anomalies (a null feed)
  // SPEC 8.3: when set (a table loaded against the same municipality list),
  // every event carries a `neighbourhood` of its municipality, drawn in
  // proportion to population from a hash of the seed, type and id, so the
  // rest of the feed is byte-identical to a feed without. Not owned.
  const reference::NeighbourhoodTable* neighbourhoods = nullptr;

  Status Validate() const;
};

enum class AnomalyKind : uint8_t {
  kCashSurge,
  kCompanyProperty,
  kQuickResale,
  kDrugProduction,
  kVulnerableSector,
  kCombined,
};
inline constexpr int kAnomalyKindCount = 6;
// "cash_surge", "company_property", "quick_resale", "drug_production",
// "vulnerable_sector", "combined".
std::string_view AnomalyKindName(AnomalyKind kind);

struct PlannedAnomaly {
  AnomalyKind kind = AnomalyKind::kCashSurge;
  size_t municipality = 0;  // index into the municipality list
  int first_day = 0;        // 0-based day of the feed
  int last_day = 0;         // inclusive
  double factor = 1;        // the kind's multiplier (property share for combined)
  double drug_factor = 1;   // combined only: drug findings multiplier
};

// The anomalies a feed with these options plants; a pure function of the
// options (scale and clean aside) and the municipality list.
std::vector<PlannedAnomaly> PlanAnomalies(const GeneratorOptions& options,
                                          std::span<const FeedMunicipality> municipalities);

enum class EventKind : uint8_t {
  kSuspiciousTransaction,
  kPropertySale,
  kBusinessRegistration,
  kDrugFinding,
};
inline constexpr int kEventKindCount = 4;

enum class BadLineKind : uint8_t {
  kMalformedJson,
  kMissingField,
  kUnknownMunicipality,
  kWrongType,
  kDuplicate,
};
inline constexpr int kBadLineKindCount = 5;

struct GeneratorStats {
  int64_t lines = 0;                           // lines written
  int64_t valid_events[kEventKindCount] = {};  // well-formed events, by EventKind
  int64_t delayed_within_lateness = 0;         // delivered late but < 1d
  int64_t delayed_beyond_lateness = 0;         // > 1d late: too_late for the engine
  int64_t bad_lines[kBadLineKindCount] = {};   // by BadLineKind
  std::vector<PlannedAnomaly> anomalies;

  int64_t valid_event_total() const;
  int64_t bad_line_total() const;
};

// Writes the feed to `events` and, when `truth` is not null, one JSON line per
// planted anomaly: {"kind","municipality","municipality_name","start","end"
// (last day, inclusive),"factor"[,"drug_factor"]}. InvalidArgument for bad
// options or an empty municipality list; IoError when a stream fails.
Result<GeneratorStats> GenerateFeed(const GeneratorOptions& options,
                                    std::span<const FeedMunicipality> municipalities,
                                    std::ostream& events, std::ostream* truth);

}  // namespace zicht::tools
