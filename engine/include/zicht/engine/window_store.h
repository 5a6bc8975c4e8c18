// WindowStore: the hot, in-memory aggregates of one partition: per series a
// ring of event-time buckets per municipality, and per indicator the running
// window sums (current window, the 4 before it for trend_ratio, the one a
// year earlier for yoy_ratio, and the "final" window that ends at the last closed bucket, used for
// national figures). All arithmetic is integer, so results are exact and order-free.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "zicht/engine/plan.h"
#include "zicht/reference/mergers.h"

namespace zicht::engine {

struct WindowAgg {
  int64_t n_match = 0;  // events passing the indicator's filter
  int64_t n_all = 0;    // all events of the type (share denominator)
  FixedSum sum = 0;     // sum of the field over passing events
  friend bool operator==(const WindowAgg&, const WindowAgg&) = default;
};

struct BucketValue {
  uint32_t n_match = 0;
  uint32_t n_all = 0;
  FixedSum sum = 0;
};

// A (series, bucket) row, all municipalities of the partition, whose persisted
// value must be rewritten at the next commit.
struct DirtyRow {
  int series;
  int64_t bucket;
};

// Units: a partition's municipalities have the local indices 0..M-1, its
// neighbourhoods (SPEC 8.3) M..M+N-1. A series kept per neighbourhood has rows
// for every unit; any other series (and its indicators) only for the
// municipalities, so neighbourhoods cost memory only where a pack reads them.
class WindowStore {
 public:
  // `municipalities`: global indices owned by this partition;
  // `neighbourhoods`: indices into the plan's neighbourhood table, of
  // neighbourhoods in those municipalities.
  WindowStore(const Plan& plan, std::vector<int> municipalities,
              std::vector<int> neighbourhoods = {});

  const std::vector<int>& municipalities() const { return municipalities_; }
  const std::vector<int>& neighbourhoods() const { return neighbourhoods_; }
  // Municipalities and neighbourhoods: the size of per-unit state.
  size_t units() const { return municipalities_.size() + neighbourhoods_.size(); }
  bool is_neighbourhood(int local) const {
    return static_cast<size_t>(local) >= municipalities_.size();
  }
  // The neighbourhood index of a neighbourhood unit.
  int NeighbourhoodOf(int local) const {
    return neighbourhoods_[static_cast<size_t>(local) - municipalities_.size()];
  }
  // The municipality (global index) of a unit: itself, or the one a
  // neighbourhood lies in.
  int MunicipalityOf(int local) const { return unit_municipality_[static_cast<size_t>(local)]; }
  // Local index of a global municipality index, -1 when not owned.
  int Local(int municipality) const { return local_of_[static_cast<size_t>(municipality)]; }
  // Local index of a neighbourhood, -1 when not owned.
  int LocalOfNeighbourhood(int neighbourhood) const {
    return neighbourhood_local_of_[static_cast<size_t>(neighbourhood)];
  }
  // Units with rows in a series: every unit, or the municipalities only.
  size_t rows(int series) const { return series_[static_cast<size_t>(series)].rows; }

  bool has_clock() const { return has_clock_; }
  bool series_hours(int series) const { return series_[static_cast<size_t>(series)].hours; }
  // Moves the clock to `now` (never backwards): shifts every window and the
  // final windows, and frees buckets that leave the retention.
  void Advance(TimeMs now);
  // Whether Advance(now) would move any current or final bucket.
  bool NeedsAdvance(TimeMs now) const {
    if (!has_clock_) return true;
    return FloorDiv(now, kMsPerHour) != current_[1] ||
           FloorDiv(now - lateness_ms_, kMsPerHour) - 1 != final_[1] ||
           FloorDiv(now - lateness_ms_, kMsPerDay) - 1 != final_[0];
  }
  int64_t current_bucket(bool hours) const { return current_[hours]; }
  int64_t final_bucket(bool hours) const { return final_[hours]; }
  // Lowest bucket still kept for a series.
  int64_t oldest_bucket(int series) const {
    return current_[series_hours(series)] - series_[static_cast<size_t>(series)].retention + 1;
  }

  // Counts one event in `bucket` (which must lie in [oldest, current]). An
  // event that does not match counts only in series a share indicator reads
  // (SeriesDef::count_all); elsewhere it is ignored.
  void Add(int series, int local, int64_t bucket, bool matched, FixedSum value);

  // Window k (0 = current, 1..4 = the previous ones) of an indicator.
  const WindowAgg& Window(int indicator, int local, int k) const {
    const IndicatorState& s = indicators_[static_cast<size_t>(indicator)];
    return s.windows[static_cast<size_t>(local) * static_cast<size_t>(s.count) +
                     static_cast<size_t>(k)];
  }
  // yoy_ratio: the indicator's window ending IndicatorDef::yoy_lag buckets
  // before the current one (empty when the indicator has no lag).
  const WindowAgg& Lagged(int indicator, int local) const {
    return indicators_[static_cast<size_t>(indicator)].lagged[static_cast<size_t>(local)];
  }
  // The indicator's window ending at the final (closed) bucket.
  const WindowAgg& Final(int indicator, int local) const {
    return indicators_[static_cast<size_t>(indicator)].final[static_cast<size_t>(local)];
  }

  // The indicator's window ending at an earlier closed bucket (summed from the
  // ring; buckets no longer kept count as empty).
  WindowAgg FinalAt(int indicator, int local, int64_t final_bucket) const;

  BucketValue Bucket(int series, int local, int64_t bucket) const;
  // For loading persisted state: sets a bucket without touching windows; call
  // RecomputeWindows() after the last one.
  void RestoreBucket(int series, int local, int64_t bucket, const BucketValue& value);
  void RestoreClock(int64_t current_day, int64_t current_hour, int64_t final_day,
                    int64_t final_hour);
  void RecomputeWindows();

  // Rows changed since the last TakeDirty(); evicted ones are skipped.
  void TakeDirty(std::vector<DirtyRow>* out);

  // --- Municipal mergers (SPEC 8.3); window_store_mergers.cc ---
  // The plan's merger steps whose new municipality is owned here (the engine
  // gives every code of a merger the same partition).
  const std::vector<int>& merger_steps() const { return local_steps_; }
  // Adds the old municipalities' buckets of plan step `step` into its new
  // municipality and marks the step folded. The old rows keep their history,
  // frozen (events now count under the new code), so that a national
  // snapshot of any final bucket can still be given before or after the fold.
  void Fold(int step);
  // A step whose fold was persisted before a restart: only the bookkeeping.
  void MarkFolded(int step);
  bool folded(int step) const {
    return !folded_.empty() && folded_[static_cast<size_t>(step)] != 0;
  }
  // The unit an event of unit `local` counts under: its new municipality
  // once the merger is folded (buurten and other units: themselves).
  int CountingUnit(int local) const {
    return redirect_.empty() ? local : redirect_[static_cast<size_t>(local)];
  }
  // Whether rules are evaluated for a unit: not for a merged-away code, nor
  // for a new code (not in the municipalities file) before its merger.
  bool live(int local) const { return live_.empty() || live_[static_cast<size_t>(local)] != 0; }

 private:
  struct SeriesState {
    size_t rows = 0;  // units kept
    bool hours = false;
    int64_t retention = 0;
    bool has_sum = false;
    bool has_all = false;           // n_all kept (a share indicator reads the series)
    std::vector<uint32_t> n_match;  // [ring slot * rows + local]
    std::vector<uint32_t> n_all;    // empty without has_all: equal to n_match
    std::vector<FixedSum> sum;
    std::vector<uint8_t> row_dirty;  // [slot of bucket]
    std::vector<int> indicators;
  };
  struct IndicatorState {
    size_t rows = 0;  // units kept, as its series
    int series = -1;
    int64_t window = 0;
    int count = 1;  // windows kept
    bool hours = false;
    int64_t lag = 0;                 // yoy_ratio: buckets back (0: none)
    std::vector<WindowAgg> windows;  // [local * count + k]
    std::vector<WindowAgg> final;    // [local]
    std::vector<WindowAgg> lagged;   // [local] when lag > 0
  };

  static size_t Ring(const SeriesState& s, int64_t bucket) {
    int64_t r = bucket % s.retention;
    if (r < 0) r += s.retention;
    return static_cast<size_t>(r);
  }
  // Bucket-major: a day's sweep over every unit (Advance) reads memory in
  // order, which matters with thousands of neighbourhoods; an event touches
  // one slot either way.
  size_t Slot(const SeriesState& s, int local, int64_t bucket) const {
    return Ring(s, bucket) * s.rows + static_cast<size_t>(local);
  }
  // Value of a bucket as seen with the current clock: 0 outside the ring.
  void AddBucketTo(const SeriesState& s, int local, int64_t bucket, int64_t sign,
                   WindowAgg* agg) const;
  void SumRange(const SeriesState& s, int local, int64_t from, int64_t to, WindowAgg* agg) const;
  void RecomputeUnit(IndicatorState& ind, size_t local);
  void IndexMergers(const Plan& plan);
  void ApplyFold(int step, bool add_buckets);

  std::vector<int> municipalities_;
  std::vector<int> neighbourhoods_;
  std::vector<int> local_of_;
  std::vector<int> neighbourhood_local_of_;
  std::vector<int> unit_municipality_;
  std::vector<SeriesState> series_;
  std::vector<IndicatorState> indicators_;
  std::vector<DirtyRow> dirty_;
  // Mergers: the plan's steps (only those owned here are used), and per
  // step whether it is folded; per unit where its events count, and
  // whether rules run for it. All empty without mergers.
  std::vector<reference::MergerStep> steps_;
  std::vector<int> local_steps_;
  std::vector<uint8_t> folded_;
  std::vector<int> redirect_;
  std::vector<uint8_t> live_;
  TimeMs lateness_ms_ = kMsPerDay;
  bool has_clock_ = false;
  int64_t current_[2] = {0, 0};  // [hours]
  int64_t final_[2] = {0, 0};
};

}  // namespace zicht::engine
