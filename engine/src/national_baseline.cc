#include "zicht/engine/national_baseline.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace zicht::engine {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kCacheDepth = 4;
}  // namespace

double MunicipalityRate(const IndicatorDef& ind, const WindowAgg& agg, int64_t population) {
  switch (ind.aggregate) {
    case rules::Aggregate::kCount:
      return population > 0
                 ? static_cast<double>(agg.n_match) / static_cast<double>(population) * ind.per
                 : kNaN;
    case rules::Aggregate::kSum:
      return population > 0 ? FromFixed(agg.sum) / static_cast<double>(population) * ind.per : kNaN;
    case rules::Aggregate::kMean:
      return agg.n_match > 0 ? FromFixed(agg.sum) / static_cast<double>(agg.n_match) : kNaN;
    case rules::Aggregate::kShare:
      return agg.n_all > 0 ? static_cast<double>(agg.n_match) / static_cast<double>(agg.n_all)
                           : kNaN;
    case rules::Aggregate::kValue:
      return kNaN;
  }
  return kNaN;
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
    // Reference indicator: population-weighted mean over municipalities with a figure.
    NationalFigures& f = reference_figures_[static_cast<size_t>(ind.index)];
    const ReferenceValues& ref = plan.references()[static_cast<size_t>(ind.reference)];
    double weighted = 0, population = 0;
    f.rate_of.assign(munis.size(), kNaN);
    for (size_t m = 0; m < munis.size(); ++m) {
      if (!ref.by_municipality[m]) continue;
      double v = *ref.by_municipality[m];
      f.rate_of[m] = v;
      f.sorted_rates.push_back(v);
      weighted += v * static_cast<double>(munis.at(m).population);
      population += static_cast<double>(munis.at(m).population);
    }
    std::sort(f.sorted_rates.begin(), f.sorted_rates.end());
    if (population > 0) {
      f.rate = weighted / population;
      f.valid = f.rate != 0;
    }
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
  const std::vector<int>& munis = store.municipalities();
  for (size_t i = 0; i < inds.size(); ++i) {
    auto& values = snap.by_indicator[i];
    values.reserve(munis.size());
    for (size_t l = 0; l < munis.size(); ++l) {
      values.emplace_back(munis[l], store.Final(inds[i], static_cast<int>(l)));
    }
  }
  auto& q = h.snapshots[hours];
  q.push_back(std::move(snap));
  while (q.size() > static_cast<size_t>(options_.history)) q.pop_front();
  h.latest[hours] = final_bucket;
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
}

void NationalBaseline::PublishHistory(int partition, bool hours, const WindowStore& store,
                                      int count) {
  const int64_t newest = store.final_bucket(hours);
  PartitionHistory& h = partitions_[partition];
  const std::vector<int>& inds = unit_indicators_[hours];
  const std::vector<int>& munis = store.municipalities();
  for (int64_t f = newest - count + 1; f <= newest; ++f) {
    if (h.latest[hours] && *h.latest[hours] >= f) continue;
    Snapshot snap;
    snap.final_bucket = f;
    snap.by_indicator.resize(inds.size());
    for (size_t i = 0; i < inds.size(); ++i) {
      auto& values = snap.by_indicator[i];
      values.reserve(munis.size());
      for (size_t l = 0; l < munis.size(); ++l) {
        values.emplace_back(munis[l], f == newest ? store.Final(inds[i], static_cast<int>(l))
                                                  : store.FinalAt(inds[i], static_cast<int>(l), f));
      }
    }
    auto& q = h.snapshots[hours];
    q.push_back(std::move(snap));
    while (q.size() > static_cast<size_t>(options_.history)) q.pop_front();
    h.latest[hours] = f;
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
  const MunicipalityTable& munis = plan_.municipalities();
  NationalFigures f;
  f.rate_of.assign(munis.size(), kNaN);
  std::vector<WindowAgg> by_muni(munis.size());
  for (const auto& [p, h] : partitions_) {
    const Snapshot* snap = Find(p, hours, final_bucket);
    if (snap == nullptr) continue;
    for (const auto& [m, agg] : snap->by_indicator[static_cast<size_t>(slot)]) {
      by_muni[static_cast<size_t>(m)] = agg;
    }
  }
  // Pool in municipality order so the figures are identical however the
  // municipalities are spread over partitions.
  f.agg_of = by_muni;
  for (size_t m = 0; m < munis.size(); ++m) {
    const WindowAgg& a = by_muni[m];
    f.total_match += a.n_match;
    f.total_all += a.n_all;
    f.total_sum += a.sum;
    double r = MunicipalityRate(ind, a, munis.at(m).population);
    f.rate_of[m] = r;
    if (!std::isnan(r)) f.sorted_rates.push_back(r);
  }
  std::sort(f.sorted_rates.begin(), f.sorted_rates.end());
  double population = static_cast<double>(munis.total_population());
  switch (ind.aggregate) {
    case rules::Aggregate::kCount:
      f.rate = population > 0 ? static_cast<double>(f.total_match) / population * ind.per : 0;
      f.valid = f.rate > 0;
      break;
    case rules::Aggregate::kSum:
      f.rate = population > 0 ? FromFixed(f.total_sum) / population * ind.per : 0;
      f.valid = f.rate != 0;
      break;
    case rules::Aggregate::kMean:
      f.valid = f.total_match > 0;
      f.rate = f.valid ? FromFixed(f.total_sum) / static_cast<double>(f.total_match) : 0;
      f.valid = f.valid && f.rate != 0;
      break;
    case rules::Aggregate::kShare:
      f.valid = f.total_all > 0;
      f.rate = f.valid ? static_cast<double>(f.total_match) / static_cast<double>(f.total_all) : 0;
      f.valid = f.valid && f.rate > 0;
      break;
    case rules::Aggregate::kValue:
      break;
  }
  while (cache.size() >= kCacheDepth) cache.erase(cache.begin());
  auto figures = std::make_shared<const NationalFigures>(std::move(f));
  cache.emplace(final_bucket, figures);
  return figures;
}

}  // namespace zicht::engine
