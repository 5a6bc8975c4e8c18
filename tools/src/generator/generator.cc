// The synthetic feed of `zicht generate`: rates, field mixes, anomalies, delivery
// order and bad lines. All randomness comes from seeded Boost.Random engines,
// whose algorithms are fixed, so a seed gives the same bytes on every platform.
#include "zicht/tools/generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <numeric>
#include <optional>
#include <unordered_set>

#include "feed_model.h"
#include "feed_writer.h"
#include "zicht/base/json_writer.h"
#include "zicht/base/time.h"
namespace zicht::tools {
namespace {

using feed::Heterogeneity;
using feed::kLimits;
using feed::kMaxDuration;
using feed::kMinCombinedDuration;
using feed::kMinDuration;
using feed::Random;
using feed::RequiredFactor;
using feed::Stream;
using feed::TargetRate;

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
  ZICHT_RETURN_IF_ERROR(
      feed::WriteFeed(options, municipalities, first_day, stats.anomalies, events, &stats));
  return stats;
}

}  // namespace zicht::tools
