// NationalBaseline: the national figures every municipality is compared with.
// They are pooled over the final (closed) windows of all municipalities at a
// final bucket F, so that they do not depend on arrival order or on how
// municipalities are spread over partitions and instances: every partition
// publishes its final windows per F, and figures for F exist once every
// active partition has published F (docs/consistency.md).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "zicht/engine/measure_math.h"
#include "zicht/engine/plan.h"
#include "zicht/engine/window_store.h"

namespace zicht::engine {

// National figures of one indicator at one final bucket, and everything
// derived from them that ranges over all municipalities, computed once per
// national update so that evaluating a condition never walks the country.
struct NationalFigures {
  bool valid = false;  // false: the national rate is 0 or undefined
  double rate = 0;     // national rate per `per` (count, sum), share, mean or value
  int64_t total_match = 0;
  int64_t total_all = 0;
  FixedSum total_sum = 0;
  std::vector<double> rate_of;       // per municipality (global index), NaN if undefined
  std::vector<WindowAgg> agg_of;     // per municipality: its final window
  std::vector<double> sorted_rates;  // defined rates, ascending (percentile)
  // SPEC 8.1: each municipality's own baseline rate for leave_one_out and
  // peers (NaN: no baseline); empty for the national baseline.
  std::vector<double> baseline_rate_of;
  // shrunk_ratio (count, share): the prior over all municipalities' final
  // windows against the national rate.
  ShrinkagePrior shrink;
  // q_value (when read): p-values of the final windows against each
  // municipality's baseline, ranked.
  BhRanking q_ranking;
  std::vector<int> q_member_of;  // municipality -> member of q_ranking, -1 (population 0)
};

// Rate of a municipality from its window aggregate (NaN when undefined).
double MunicipalityRate(const IndicatorDef& ind, const WindowAgg& agg, int64_t population);

// The rate municipality `m` is compared with (SPEC 8.1): the national rate,
// or its own leave-one-out / peer rate; NaN when it has none or it is not
// valid (zero, undefined).
inline double BaselineRate(const NationalFigures& f, int m) {
  if (!f.baseline_rate_of.empty()) return f.baseline_rate_of[static_cast<size_t>(m)];
  return f.valid ? f.rate : std::numeric_limits<double>::quiet_NaN();
}

// Expected count of a count or share indicator for a window against a
// baseline rate: rate × population ÷ per, or share × all events; NaN else.
double ExpectedCount(const IndicatorDef& ind, const WindowAgg& window, int64_t population,
                     double baseline_rate);

// The p-value behind funnel_z and q_value: poisson_p (count) or binomial_p
// (share) of a window against a baseline rate; NaN when not computable.
double BaselinePValue(const IndicatorDef& ind, const WindowAgg& window, int64_t population,
                      double baseline_rate);

// Pools an event indicator's figures from every municipality's final window
// (`agg_of`, by global index), in municipality order, so that the result is
// the same bits however municipalities are spread over partitions.
NationalFigures PoolNationalFigures(const IndicatorDef& ind, const MunicipalityTable& munis,
                                    std::vector<WindowAgg> agg_of);
// The same over any units (neighbourhoods for neighbourhood indicators, SPEC
// 8.3): `population` and `agg_of` by unit index.
NationalFigures PoolNationalFigures(const IndicatorDef& ind, std::span<const int64_t> population,
                                    std::vector<WindowAgg> agg_of);

// The units whose final windows an indicator's national figures pool, with
// their local index in `store`: (municipality, local) or, for neighbourhood
// indicators, (neighbourhood, local).
void ForEachUnit(const Plan& plan, const WindowStore& store, int indicator,
                 const std::function<void(int unit, int local)>& fn);

// A unit's final window at `final_bucket` as the national figures count it.
// With mergers (SPEC 8.3) that is the same whether the partition has folded
// a merger yet or not: from the final bucket a merger is in force
// (Plan::MergerInForce) the new code holds its old codes' counts and they
// count nothing; before it each code counts its own.
WindowAgg NationalWindow(const Plan& plan, const WindowStore& store, int indicator, int local,
                         int64_t final_bucket, int lag_days);

// A reference indicator's figures: population-weighted means over the
// municipalities with a figure (and, per baseline, over the others / peers).
NationalFigures PoolReferenceFigures(const IndicatorDef& ind, const MunicipalityTable& munis,
                                     const ReferenceValues& values);

struct NationalBaselineOptions {
  // Final buckets kept per partition and unit: how far partitions may drift apart
  // in event time before figures for the slowest are gone (default 64).
  int history = 64;
  // Drop snapshots older than every active partition can still ask for
  // (they dominate memory with neighbourhood indicators). Only safe when a
  // partition's final bucket never goes back: the engine owns every
  // partition for its whole life (files). On Kafka a partition revoked
  // without a commit is reloaded behind what it published, and then needs
  // the others' older snapshots; there `history` bounds them (default off).
  bool prune = false;
  // EngineOptions::national_lag_days: partitions compare with figures this
  // many days before their final bucket.
  int lag_days = 0;
};

class NationalBaseline {
 public:
  NationalBaseline(const Plan& plan, const std::vector<int>& active_partitions,
                   NationalBaselineOptions options = {});

  // Records the final windows of a partition's municipalities at its final
  // bucket `final_bucket` of unit `hours`.
  void Publish(int partition, bool hours, int64_t final_bucket, const WindowStore& store);
  // Publishes the `count` final buckets up to the store's current one, computed
  // from its buckets (after a restart or reload, for partitions that lag).
  void PublishHistory(int partition, bool hours, const WindowStore& store, int count);
  // A partition's final windows from another instance: per indicator index,
  // (global municipality, final window).
  struct RemoteSnapshot {
    int64_t final_bucket = 0;
    std::vector<std::pair<int, std::vector<std::pair<int, WindowAgg>>>> values;
  };
  void PublishSnapshot(int partition, bool hours, RemoteSnapshot snapshot);
  // The latest final bucket a partition published (nullopt: none).
  std::optional<int64_t> LatestOf(int partition, bool hours) const {
    auto it = partitions_.find(partition);
    return it == partitions_.end() ? std::nullopt : it->second.latest[hours];
  }
  // The highest final bucket any partition has published.
  std::optional<int64_t> NewestPublished(bool hours) const;

  // Whether every active partition has published `final_bucket` (or later).
  bool Complete(bool hours, int64_t final_bucket) const;
  // Lowest final bucket published by all active partitions (nullopt: none yet).
  std::optional<int64_t> CompleteUpTo(bool hours) const;

  // Figures of an indicator at `final_bucket`; requires Complete(). Cached;
  // the pointer stays valid as long as the caller holds it.
  std::shared_ptr<const NationalFigures> Figures(int indicator, int64_t final_bucket);
  // The newest figures every active partition has published (empty pointer
  // before that).
  std::shared_ptr<const NationalFigures> LatestFigures(int indicator);
  // Figures of a reference indicator (no bucket).
  const NationalFigures& ReferenceFigures(int indicator) const {
    return reference_figures_[static_cast<size_t>(indicator)];
  }

 private:
  struct Snapshot {
    int64_t final_bucket = 0;
    // Per indicator of the unit: (global municipality, final window).
    std::vector<std::vector<std::pair<int, WindowAgg>>> by_indicator;
  };
  struct PartitionHistory {
    std::deque<Snapshot> snapshots[2];  // [hours], oldest first
    std::optional<int64_t> latest[2];
  };
  const Snapshot* Find(int partition, bool hours, int64_t final_bucket) const;
  // Drops the snapshots of unit `hours` no active partition can ask for again.
  void Prune(bool hours);

  const Plan& plan_;
  NationalBaselineOptions options_;
  std::map<int, PartitionHistory> partitions_;
  std::vector<std::vector<int>> unit_indicators_;  // [hours] -> event indicators of that unit
  std::vector<int> slot_in_unit_;                  // indicator -> position in its unit list
  // Cache: indicator -> (final bucket -> figures), a few buckets deep.
  std::vector<std::map<int64_t, std::shared_ptr<const NationalFigures>>> cache_;
  std::vector<NationalFigures> reference_figures_;
};

}  // namespace zicht::engine
