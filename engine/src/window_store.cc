#include "zicht/engine/window_store.h"

namespace zicht::engine {

WindowStore::WindowStore(const Plan& plan, std::vector<int> municipalities,
                         std::vector<int> neighbourhoods)
    : municipalities_(std::move(municipalities)),
      neighbourhoods_(std::move(neighbourhoods)),
      lateness_ms_(plan.options().allowed_lateness_ms) {
  local_of_.assign(plan.municipalities().size(), -1);
  for (size_t i = 0; i < municipalities_.size(); ++i) {
    local_of_[static_cast<size_t>(municipalities_[i])] = static_cast<int>(i);
  }
  neighbourhood_local_of_.assign(plan.neighbourhoods() ? plan.neighbourhoods()->size() : 0, -1);
  for (size_t i = 0; i < neighbourhoods_.size(); ++i) {
    neighbourhood_local_of_[static_cast<size_t>(neighbourhoods_[i])] =
        static_cast<int>(municipalities_.size() + i);
  }
  unit_municipality_ = municipalities_;
  for (int n : neighbourhoods_) {
    unit_municipality_.push_back(plan.neighbourhoods()->at(static_cast<size_t>(n)).municipality);
  }
  for (const SeriesDef& def : plan.series()) {
    SeriesState s;
    const size_t locals = def.neighbourhood ? units() : municipalities_.size();
    s.rows = locals;
    s.hours = def.hours;
    s.retention = def.retention;
    s.has_sum = def.sum_field >= 0;
    size_t cells = locals * static_cast<size_t>(def.retention);
    s.n_match.assign(cells, 0);
    // Without a share indicator only matching events are counted, so n_all
    // equals n_match and is not kept (half the ring of a count series).
    s.has_all = def.count_all;
    if (s.has_all) s.n_all.assign(cells, 0);
    if (s.has_sum) s.sum.assign(cells, 0);
    s.row_dirty.assign(static_cast<size_t>(def.retention), 0);
    s.indicators = def.indicators;
    series_.push_back(std::move(s));
  }
  for (const IndicatorDef& def : plan.indicators()) {
    IndicatorState s;
    s.series = def.series;
    if (def.series >= 0) {
      const size_t locals = series_[static_cast<size_t>(def.series)].rows;
      s.rows = locals;
      s.window = def.window;
      s.count = def.windows;
      s.hours = plan.series()[static_cast<size_t>(def.series)].hours;
      s.windows.assign(locals * static_cast<size_t>(s.count), WindowAgg{});
      s.final.assign(locals, WindowAgg{});
      s.lag = def.yoy_lag;
      if (s.lag > 0) s.lagged.assign(locals, WindowAgg{});
    }
    indicators_.push_back(std::move(s));
  }
  if (!plan.mergers().empty()) IndexMergers(plan);
}

void WindowStore::AddBucketTo(const SeriesState& s, int local, int64_t bucket, int64_t sign,
                              WindowAgg* agg) const {
  int64_t current = current_[s.hours];
  if (bucket > current || bucket <= current - s.retention) return;
  size_t slot = Slot(s, local, bucket);
  agg->n_match += sign * s.n_match[slot];
  agg->n_all += sign * (s.has_all ? s.n_all[slot] : s.n_match[slot]);
  if (s.has_sum) agg->sum += sign * s.sum[slot];
}

void WindowStore::SumRange(const SeriesState& s, int local, int64_t from, int64_t to,
                           WindowAgg* agg) const {
  *agg = WindowAgg{};
  for (int64_t b = from; b <= to; ++b) AddBucketTo(s, local, b, 1, agg);
}

void WindowStore::Advance(TimeMs now) {
  for (int hours = 0; hours < 2; ++hours) {
    const int64_t width = hours ? kMsPerHour : kMsPerDay;
    const int64_t new_current = FloorDiv(now, width);
    const int64_t new_final = FloorDiv(now - lateness_ms_, width) - 1;
    if (!has_clock_) {
      current_[hours] = new_current;
      final_[hours] = new_final;
      continue;
    }
    const int64_t old_current = current_[hours];
    const int64_t old_final = final_[hours];
    if (new_current <= old_current && new_final <= old_final) continue;
    // Windows and final windows first, while the ring still holds the buckets
    // that leave them (buckets after old_current read as empty).
    for (IndicatorState& ind : indicators_) {
      if (ind.series < 0 || ind.hours != (hours != 0)) continue;
      const SeriesState& s = series_[static_cast<size_t>(ind.series)];
      const int64_t n = ind.window;
      const size_t locals = ind.rows;
      if (new_final > old_final) {
        for (size_t l = 0; l < locals; ++l) {
          WindowAgg& f = ind.final[l];
          int local = static_cast<int>(l);
          if (new_final - old_final > n) {
            SumRange(s, local, new_final - n + 1, new_final, &f);
          } else {
            for (int64_t b = old_final + 1; b <= new_final; ++b) {
              AddBucketTo(s, local, b, 1, &f);
              AddBucketTo(s, local, b - n, -1, &f);
            }
          }
        }
      }
      if (new_current > old_current) {
        const int64_t steps = new_current - old_current;
        for (size_t l = 0; l < locals; ++l) {
          int local = static_cast<int>(l);
          if (ind.lag > 0) {
            WindowAgg& w = ind.lagged[l];
            if (steps > n) {
              SumRange(s, local, new_current - ind.lag - n + 1, new_current - ind.lag, &w);
            } else {
              for (int64_t c = old_current + 1; c <= new_current; ++c) {
                AddBucketTo(s, local, c - ind.lag, 1, &w);
                AddBucketTo(s, local, c - ind.lag - n, -1, &w);
              }
            }
          }
          for (int k = 0; k < ind.count; ++k) {
            WindowAgg& w = ind.windows[l * static_cast<size_t>(ind.count) + static_cast<size_t>(k)];
            if (steps > n) {
              SumRange(s, local, new_current - (k + 1) * n + 1, new_current - k * n, &w);
            } else {
              for (int64_t c = old_current + 1; c <= new_current; ++c) {
                AddBucketTo(s, local, c - k * n, 1, &w);
                AddBucketTo(s, local, c - (k + 1) * n, -1, &w);
              }
            }
          }
        }
      }
    }
    // Then evict: the slots of the new buckets held buckets now out of retention.
    if (new_current > old_current) {
      for (SeriesState& s : series_) {
        if (s.hours != (hours != 0)) continue;
        int64_t first = std::max(old_current + 1, new_current - s.retention + 1);
        for (int64_t b = first; b <= new_current; ++b) {
          for (size_t l = 0; l < s.rows; ++l) {
            size_t slot = Slot(s, static_cast<int>(l), b);
            s.n_match[slot] = 0;
            if (s.has_all) s.n_all[slot] = 0;
            if (s.has_sum) s.sum[slot] = 0;
          }
          s.row_dirty[Ring(s, b)] = 0;
        }
      }
    }
    current_[hours] = std::max(old_current, new_current);
    final_[hours] = std::max(old_final, new_final);
  }
  has_clock_ = true;
}

void WindowStore::Add(int series, int local, int64_t bucket, bool matched, FixedSum value) {
  SeriesState& s = series_[static_cast<size_t>(series)];
  // A series no share indicator reads counts matching events only.
  if (!matched && !s.has_all) return;
  size_t slot = Slot(s, local, bucket);
  if (s.has_all) s.n_all[slot] += 1;
  if (matched) {
    s.n_match[slot] += 1;
    if (s.has_sum) s.sum[slot] += value;
  }
  uint8_t& row = s.row_dirty[Ring(s, bucket)];
  if (!row) {
    row = 1;
    dirty_.push_back(DirtyRow{series, bucket});
  }
  const int64_t current = current_[s.hours];
  const int64_t final_bucket = final_[s.hours];
  for (int i : s.indicators) {
    IndicatorState& ind = indicators_[static_cast<size_t>(i)];
    const int64_t n = ind.window;
    // Window k covers [current - (k+1)n + 1, current - kn].
    int64_t k = (current - bucket) / n;
    if (k < ind.count) {
      WindowAgg& w = ind.windows[static_cast<size_t>(local) * static_cast<size_t>(ind.count) +
                                 static_cast<size_t>(k)];
      w.n_all += 1;
      if (matched) {
        w.n_match += 1;
        w.sum += matched ? value : 0;
      }
    }
    // The year-earlier window only takes events when the lateness exceeds the lag.
    if (ind.lag > 0 && bucket <= current - ind.lag && bucket > current - ind.lag - n) {
      WindowAgg& w = ind.lagged[static_cast<size_t>(local)];
      w.n_all += 1;
      if (matched) {
        w.n_match += 1;
        w.sum += value;
      }
    }
    // Buckets at or before the final bucket are closed to the partition's own
    // events (too_late). An event forwarded from another partition (SPEC 8.3)
    // may land in one just closed, before its snapshot is published.
    if (bucket <= final_bucket && bucket > final_bucket - n) {
      WindowAgg& f = ind.final[static_cast<size_t>(local)];
      f.n_all += 1;
      if (matched) {
        f.n_match += 1;
        f.sum += value;
      }
    }
  }
}

WindowAgg WindowStore::FinalAt(int indicator, int local, int64_t final_bucket) const {
  const IndicatorState& ind = indicators_[static_cast<size_t>(indicator)];
  WindowAgg agg;
  SumRange(series_[static_cast<size_t>(ind.series)], local, final_bucket - ind.window + 1,
           final_bucket, &agg);
  return agg;
}

BucketValue WindowStore::Bucket(int series, int local, int64_t bucket) const {
  const SeriesState& s = series_[static_cast<size_t>(series)];
  int64_t current = current_[s.hours];
  if (!has_clock_ || bucket > current || bucket <= current - s.retention) return {};
  size_t slot = Slot(s, local, bucket);
  return BucketValue{s.n_match[slot], s.has_all ? s.n_all[slot] : s.n_match[slot],
                     s.has_sum ? s.sum[slot] : 0};
}

void WindowStore::RestoreClock(int64_t current_day, int64_t current_hour, int64_t final_day,
                               int64_t final_hour) {
  current_[0] = current_day;
  current_[1] = current_hour;
  final_[0] = final_day;
  final_[1] = final_hour;
  has_clock_ = true;
}

void WindowStore::RestoreBucket(int series, int local, int64_t bucket, const BucketValue& value) {
  SeriesState& s = series_[static_cast<size_t>(series)];
  int64_t current = current_[s.hours];
  if (bucket > current || bucket <= current - s.retention) return;  // outside retention now
  size_t slot = Slot(s, local, bucket);
  s.n_match[slot] = value.n_match;
  if (s.has_all) s.n_all[slot] = value.n_all;
  if (s.has_sum) s.sum[slot] = value.sum;
}

void WindowStore::RecomputeUnit(IndicatorState& ind, size_t l) {
  const SeriesState& s = series_[static_cast<size_t>(ind.series)];
  const int64_t n = ind.window;
  const int64_t current = current_[ind.hours];
  const int64_t final_bucket = final_[ind.hours];
  const int local = static_cast<int>(l);
  for (int k = 0; k < ind.count; ++k) {
    SumRange(s, local, current - (k + 1) * n + 1, current - k * n,
             &ind.windows[l * static_cast<size_t>(ind.count) + static_cast<size_t>(k)]);
  }
  SumRange(s, local, final_bucket - n + 1, final_bucket, &ind.final[l]);
  if (ind.lag > 0) {
    SumRange(s, local, current - ind.lag - n + 1, current - ind.lag, &ind.lagged[l]);
  }
}

void WindowStore::RecomputeWindows() {
  for (IndicatorState& ind : indicators_) {
    if (ind.series < 0) continue;
    for (size_t l = 0; l < ind.rows; ++l) RecomputeUnit(ind, l);
  }
}

void WindowStore::TakeDirty(std::vector<DirtyRow>* out) {
  out->clear();
  for (const DirtyRow& d : dirty_) {
    SeriesState& s = series_[static_cast<size_t>(d.series)];
    int64_t current = current_[s.hours];
    if (d.bucket > current || d.bucket <= current - s.retention) continue;  // evicted
    uint8_t& row = s.row_dirty[Ring(s, d.bucket)];
    if (!row) continue;
    row = 0;
    out->push_back(d);
  }
  dirty_.clear();
}

}  // namespace zicht::engine
