// WindowStore, municipal mergers (SPEC 8.3): folding the old codes' buckets
// into the new code's when the partition's clock enters the effective day.
#include <algorithm>

#include "zicht/engine/window_store.h"

namespace zicht::engine {

void WindowStore::IndexMergers(const Plan& plan) {
  steps_ = plan.mergers();
  folded_.assign(steps_.size(), 0);
  redirect_.resize(units());
  for (size_t l = 0; l < redirect_.size(); ++l) redirect_[l] = static_cast<int>(l);
  live_.assign(units(), 1);
  for (size_t s = 0; s < steps_.size(); ++s) {
    const reference::MergerStep& step = steps_[s];
    const int new_local = Local(step.new_unit);
    // Old codes that are only aliases (a file that follows the merger): nothing to fold.
    if (new_local < 0 || step.old_units.empty()) continue;
    local_steps_.push_back(static_cast<int>(s));
    // A new code without a row of its own starts to exist on its day.
    if (step.new_unit_added) live_[static_cast<size_t>(new_local)] = 0;
  }
}

void WindowStore::Fold(int step) {
  ApplyFold(step, /*add_buckets=*/true);
}

void WindowStore::MarkFolded(int step) {
  ApplyFold(step, /*add_buckets=*/false);
}

void WindowStore::ApplyFold(int step_index, bool add_buckets) {
  if (folded(step_index)) return;
  const reference::MergerStep& step = steps_[static_cast<size_t>(step_index)];
  const int into = Local(step.new_unit);
  if (into < 0) return;
  std::vector<int> from;
  for (int old : step.old_units) {
    if (Local(old) >= 0) from.push_back(Local(old));
  }
  if (add_buckets) {
    for (size_t si = 0; si < series_.size(); ++si) {
      SeriesState& s = series_[si];
      for (size_t r = 0; r < static_cast<size_t>(s.retention); ++r) {
        const size_t to = r * s.rows + static_cast<size_t>(into);
        for (int old : from) {
          const size_t at = r * s.rows + static_cast<size_t>(old);
          s.n_match[to] += s.n_match[at];
          if (s.has_all) s.n_all[to] += s.n_all[at];
          if (s.has_sum) s.sum[to] += s.sum[at];
        }
      }
      // Every kept bucket of the series changed for the new code.
      if (!has_clock_) continue;
      const int64_t current = current_[s.hours];
      for (int64_t b = current - s.retention + 1; b <= current; ++b) {
        uint8_t& row = s.row_dirty[Ring(s, b)];
        if (row) continue;
        row = 1;
        dirty_.push_back(DirtyRow{static_cast<int>(si), b});
      }
    }
    for (IndicatorState& ind : indicators_) {
      if (ind.series >= 0) RecomputeUnit(ind, static_cast<size_t>(into));
    }
  }
  folded_[static_cast<size_t>(step_index)] = 1;
  live_[static_cast<size_t>(into)] = 1;
  for (int old : from) {
    live_[static_cast<size_t>(old)] = 0;
    // Chains: whatever counted under the old code counts under the new one.
    for (int& r : redirect_) {
      if (r == old) r = into;
    }
  }
  // Buurten of an old code now lie in the new municipality.
  for (size_t l = municipalities_.size(); l < unit_municipality_.size(); ++l) {
    if (std::find(step.old_units.begin(), step.old_units.end(), unit_municipality_[l]) !=
        step.old_units.end()) {
      unit_municipality_[l] = step.new_unit;
    }
  }
}

}  // namespace zicht::engine
