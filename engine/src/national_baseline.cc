#include "zicht/engine/national_baseline.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace zicht::engine {
namespace {
constexpr size_t kCacheDepth = 4;
}  // namespace

void ForEachUnit(const Plan& plan, const WindowStore& store, int indicator,
                 const std::function<void(int unit, int local)>& fn) {
  const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(indicator)];
  if (ind.neighbourhood) {
    const size_t first = store.municipalities().size();
    for (size_t i = 0; i < store.neighbourhoods().size(); ++i) {
      fn(store.neighbourhoods()[i], static_cast<int>(first + i));
    }
    return;
  }
  for (size_t l = 0; l < store.municipalities().size(); ++l) {
    fn(store.municipalities()[l], static_cast<int>(l));
  }
}

namespace {

WindowAgg RawFinal(const WindowStore& store, int indicator, int local, int64_t final_bucket,
                   bool hours) {
  return final_bucket == store.final_bucket(hours) ? store.Final(indicator, local)
                                                   : store.FinalAt(indicator, local, final_bucket);
}

void AddTo(WindowAgg* to, const WindowAgg& a, int64_t sign) {
  to->n_match += sign * a.n_match;
  to->n_all += sign * a.n_all;
  to->sum += sign * a.sum;
}

// A code with everything merged into it that is not folded into its rows yet.
WindowAgg FamilyWindow(const Plan& plan, const WindowStore& store, int indicator, int municipality,
                       int64_t final_bucket, bool hours) {
  const int local = store.Local(municipality);
  WindowAgg agg = RawFinal(store, indicator, local, final_bucket, hours);
  const int step = plan.step_creating(municipality);
  if (step >= 0 && !store.folded(step)) {
    for (int old : plan.mergers()[static_cast<size_t>(step)].old_units) {
      AddTo(&agg, FamilyWindow(plan, store, indicator, old, final_bucket, hours), 1);
    }
  }
  return agg;
}

}  // namespace

WindowAgg NationalWindow(const Plan& plan, const WindowStore& store, int indicator, int local,
                         int64_t final_bucket, int lag_days) {
  const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(indicator)];
  const bool hours = store.series_hours(ind.series);
  if (plan.mergers().empty() || ind.neighbourhood) {
    return RawFinal(store, indicator, local, final_bucket, hours);
  }
  const int m = store.municipalities()[static_cast<size_t>(local)];
  const int merged = plan.step_merging(m);
  if (merged >= 0 && plan.MergerInForce(merged, final_bucket, hours, lag_days)) return {};
  const int created = plan.step_creating(m);
  if (created < 0) return RawFinal(store, indicator, local, final_bucket, hours);
  if (plan.MergerInForce(created, final_bucket, hours, lag_days)) {
    return FamilyWindow(plan, store, indicator, m, final_bucket, hours);
  }
  WindowAgg agg = RawFinal(store, indicator, local, final_bucket, hours);
  // Folded early (a reload or restart re-publishing history): the old
  // codes' frozen rows are exactly what the fold added.
  if (store.folded(created)) {
    for (int old : plan.mergers()[static_cast<size_t>(created)].old_units) {
      const int l = store.Local(old);
      if (l >= 0) AddTo(&agg, RawFinal(store, indicator, l, final_bucket, hours), -1);
    }
  }
  return agg;
}

NationalBaseline::NationalBaseline(const Plan& plan, const std::vector<int>& active_partitions,
                                   NationalBaselineOptions options)
    : plan_(plan), options_(options) {
  for (int p : active_partitions) partitions_[p];
  unit_indicators_.resize(2);
  slot_in_unit_.assign(plan.indicators().size(), -1);
  cache_.resize(plan.indicators().size());
  reference_figures_.resize(plan.indicators().size());
  const MunicipalityTable& munis = plan.municipalities();
  for (const IndicatorDef& ind : plan.indicators()) {
    if (ind.series >= 0) {
      bool hours = plan.series()[static_cast<size_t>(ind.series)].hours;
      slot_in_unit_[static_cast<size_t>(ind.index)] =
          static_cast<int>(unit_indicators_[hours].size());
      unit_indicators_[hours].push_back(ind.index);
      continue;
    }
    // Reference indicator: population-weighted means, computed once.
    reference_figures_[static_cast<size_t>(ind.index)] =
        PoolReferenceFigures(ind, munis, plan.references()[static_cast<size_t>(ind.reference)]);
  }
}

void NationalBaseline::Publish(int partition, bool hours, int64_t final_bucket,
                               const WindowStore& store) {
  PartitionHistory& h = partitions_[partition];
  if (h.latest[hours] && *h.latest[hours] >= final_bucket) return;
  Snapshot snap;
  snap.final_bucket = final_bucket;
  const std::vector<int>& inds = unit_indicators_[hours];
  snap.by_indicator.resize(inds.size());
  for (size_t i = 0; i < inds.size(); ++i) {
    auto& values = snap.by_indicator[i];
    // Empty windows are left out (they pool as zero): most neighbourhoods
    // have none for a rare event, and snapshots are kept `history` deep.
    ForEachUnit(plan_, store, inds[i], [&](int unit, int local) {
      const WindowAgg a =
          NationalWindow(plan_, store, inds[i], local, final_bucket, options_.lag_days);
      if (!(a == WindowAgg{})) values.emplace_back(unit, a);
    });
  }
  auto& q = h.snapshots[hours];
  q.push_back(std::move(snap));
  while (q.size() > static_cast<size_t>(options_.history)) q.pop_front();
  h.latest[hours] = final_bucket;
  Prune(hours);
}

void NationalBaseline::PublishSnapshot(int partition, bool hours, RemoteSnapshot remote) {
  PartitionHistory& h = partitions_[partition];
  if (h.latest[hours] && *h.latest[hours] >= remote.final_bucket) return;
  Snapshot snap;
  snap.final_bucket = remote.final_bucket;
  snap.by_indicator.resize(unit_indicators_[hours].size());
  for (auto& [indicator, values] : remote.values) {
    int slot = slot_in_unit_[static_cast<size_t>(indicator)];
    if (slot < 0) continue;
    snap.by_indicator[static_cast<size_t>(slot)] = std::move(values);
  }
  auto& q = h.snapshots[hours];
  q.push_back(std::move(snap));
  while (q.size() > static_cast<size_t>(options_.history)) q.pop_front();
  h.latest[hours] = remote.final_bucket;
  Prune(hours);
}

void NationalBaseline::PublishHistory(int partition, bool hours, const WindowStore& store,
                                      int count) {
  const int64_t newest = store.final_bucket(hours);
  PartitionHistory& h = partitions_[partition];
  const std::vector<int>& inds = unit_indicators_[hours];
  for (int64_t f = newest - count + 1; f <= newest; ++f) {
    if (h.latest[hours] && *h.latest[hours] >= f) continue;
    Snapshot snap;
    snap.final_bucket = f;
    snap.by_indicator.resize(inds.size());
    for (size_t i = 0; i < inds.size(); ++i) {
      auto& values = snap.by_indicator[i];
      ForEachUnit(plan_, store, inds[i], [&](int unit, int local) {
        const WindowAgg a = NationalWindow(plan_, store, inds[i], local, f, options_.lag_days);
        if (!(a == WindowAgg{})) values.emplace_back(unit, a);
      });
    }
    auto& q = h.snapshots[hours];
    q.push_back(std::move(snap));
    while (q.size() > static_cast<size_t>(options_.history)) q.pop_front();
    h.latest[hours] = f;
  }
  Prune(hours);
}

void NationalBaseline::Prune(bool hours) {
  // A partition asks for its own final bucket minus the lag, and its final
  // bucket never goes back; the slowest active partition bounds what anyone
  // asks for. Find takes the latest snapshot at or before a bucket, so the
  // newest one at or below the cut is kept too. A few buckets of slack keep
  // the ones a restarted partition's first evaluations read.
  if (!options_.prune) return;
  const std::optional<int64_t> low = CompleteUpTo(hours);
  if (!low) return;
  const int64_t cut = *low - int64_t{hours ? 24 : 1} * (options_.lag_days + 2);
  for (auto& [p, h] : partitions_) {
    auto& q = h.snapshots[hours];
    while (q.size() > 1 && q[1].final_bucket <= cut) q.pop_front();
  }
}

std::optional<int64_t> NationalBaseline::NewestPublished(bool hours) const {
  std::optional<int64_t> high;
  for (const auto& [p, h] : partitions_) {
    if (h.latest[hours] && (!high || *h.latest[hours] > *high)) high = h.latest[hours];
  }
  return high;
}

std::optional<int64_t> NationalBaseline::CompleteUpTo(bool hours) const {
  std::optional<int64_t> low;
  for (const auto& [p, h] : partitions_) {
    if (!h.latest[hours]) return std::nullopt;
    if (!low || *h.latest[hours] < *low) low = h.latest[hours];
  }
  return low;
}

bool NationalBaseline::Complete(bool hours, int64_t final_bucket) const {
  auto low = CompleteUpTo(hours);
  return low && *low >= final_bucket;
}

const NationalBaseline::Snapshot* NationalBaseline::Find(int partition, bool hours,
                                                         int64_t final_bucket) const {
  const PartitionHistory& h = partitions_.at(partition);
  const auto& q = h.snapshots[hours];
  // Latest snapshot at or before final_bucket: a partition that jumped ahead
  // publishes only where it landed; nothing changed for it in between except
  // windows sliding, which its published snapshot for the landing already
  // reflects for later buckets. Partitions publish every bucket they pass
  // (the engine steps through them), so an exact match is the normal case.
  const Snapshot* best = nullptr;
  for (auto it = q.rbegin(); it != q.rend(); ++it) {
    if (it->final_bucket <= final_bucket) {
      best = &*it;
      break;
    }
  }
  return best;
}

std::shared_ptr<const NationalFigures> NationalBaseline::LatestFigures(int indicator) {
  const IndicatorDef& ind = plan_.indicators()[static_cast<size_t>(indicator)];
  if (ind.series < 0) return nullptr;
  auto complete = CompleteUpTo(plan_.series()[static_cast<size_t>(ind.series)].hours);
  if (!complete) return nullptr;
  return Figures(indicator, *complete);
}

std::shared_ptr<const NationalFigures> NationalBaseline::Figures(int indicator,
                                                                 int64_t final_bucket) {
  auto& cache = cache_[static_cast<size_t>(indicator)];
  auto it = cache.find(final_bucket);
  if (it != cache.end()) return it->second;
  const IndicatorDef& ind = plan_.indicators()[static_cast<size_t>(indicator)];
  bool hours = plan_.series()[static_cast<size_t>(ind.series)].hours;
  int slot = slot_in_unit_[static_cast<size_t>(indicator)];
  // Municipalities, or neighbourhoods for a neighbourhood indicator.
  // Mergers: a merged-away code's population counts no longer, a new one's
  // from its day (SPEC 8.3: the national figure is unchanged by a merger).
  std::shared_ptr<const std::vector<int64_t>> merged;
  if (!ind.neighbourhood)
    merged = plan_.NationalPopulations(final_bucket, hours, options_.lag_days);
  const std::vector<int64_t>& population = merged ? *merged : plan_.populations(ind.neighbourhood);
  std::vector<WindowAgg> by_unit(population.size());
  for (const auto& [p, h] : partitions_) {
    const Snapshot* snap = Find(p, hours, final_bucket);
    if (snap == nullptr) continue;
    for (const auto& [m, agg] : snap->by_indicator[static_cast<size_t>(slot)]) {
      if (static_cast<size_t>(m) < by_unit.size()) by_unit[static_cast<size_t>(m)] = agg;
    }
  }
  NationalFigures f = PoolNationalFigures(ind, population, std::move(by_unit));
  while (cache.size() >= kCacheDepth) cache.erase(cache.begin());
  auto figures = std::make_shared<const NationalFigures>(std::move(f));
  cache.emplace(final_bucket, figures);
  return figures;
}

}  // namespace zicht::engine
