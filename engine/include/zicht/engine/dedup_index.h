// DedupIndex: the (type, id) hashes accepted within the de-duplication horizon.
// An open-addressing table with linear probing and 16-byte slots (96 bits of
// the 128-bit hash, accepted time in whole minutes), so that a year of events
// at ten million a year stays in cache-sized memory. Entries older than the
// horizon are not erased one by one (a random memory access each); they count
// as absent and are dropped when the table is rebuilt on growth, in one
// sequential pass.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <vector>

#include "zicht/base/hash.h"
#include "zicht/base/time.h"

namespace zicht::engine {

class DedupIndex {
 public:
  DedupIndex() { Clear(); }

  // Minute (since the epoch) at which `key` was accepted, or kAbsent.
  static constexpr int32_t kAbsent = INT32_MIN;
  static int32_t Minute(TimeMs t) {
    return static_cast<int32_t>(
        std::clamp<int64_t>(FloorDiv(t, kMsPerMinute), INT32_MIN + 1, INT32_MAX));
  }

  // Starts loading the slot of `key` into the cache (the lookup follows later).
  void Prefetch(const Hash128& key) const { __builtin_prefetch(&slots_[Home(key)]); }

  int32_t Find(const Hash128& key) const {
    const uint32_t hi = static_cast<uint32_t>(key.hi);
    size_t i = Home(key);
    while (true) {
      const Slot& s = slots_[i];
      if (s.minute == kAbsent) return kAbsent;
      if (s.lo == key.lo && s.hi == hi) return s.minute;
      i = (i + 1) & mask_;
    }
  }

  // Records `key` at `time`. Entries accepted before `forget_before` may be
  // dropped from now on.
  void Put(const Hash128& key, TimeMs time, TimeMs forget_before) {
    if ((used_ + 1) * 10 > slots_.size() * 7) Rebuild(Minute(forget_before));
    const uint32_t hi = static_cast<uint32_t>(key.hi);
    size_t i = Home(key);
    while (slots_[i].minute != kAbsent && !(slots_[i].lo == key.lo && slots_[i].hi == hi)) {
      i = (i + 1) & mask_;
    }
    if (slots_[i].minute == kAbsent) ++used_;
    slots_[i] = Slot{key.lo, hi, Minute(time)};
  }

  // Occupied slots, stale ones included.
  size_t size() const { return used_; }
  size_t capacity() const { return slots_.size(); }
  void Clear() {
    slots_.assign(kMinCapacity, Slot{});
    mask_ = kMinCapacity - 1;
    used_ = 0;
  }

 private:
  static constexpr size_t kMinCapacity = 1024;
  struct Slot {
    uint64_t lo = 0;
    uint32_t hi = 0;
    int32_t minute = kAbsent;
  };
  static_assert(sizeof(Slot) == 16);
  size_t Home(const Hash128& key) const { return static_cast<size_t>(key.lo) & mask_; }

  void Rebuild(int32_t forget_before) {
    size_t live = 0;
    for (const Slot& s : slots_) live += s.minute != kAbsent && s.minute >= forget_before;
    // Keep the load at or below ~35% after a rebuild, so rebuilds are rare.
    size_t capacity = kMinCapacity;
    while (capacity * 35 < (live + 1) * 100) capacity *= 2;
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    used_ = 0;
    for (const Slot& s : old) {
      if (s.minute == kAbsent || s.minute < forget_before) continue;
      size_t i = static_cast<size_t>(s.lo) & mask_;
      while (slots_[i].minute != kAbsent) i = (i + 1) & mask_;
      slots_[i] = s;
      ++used_;
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t used_ = 0;
};

}  // namespace zicht::engine
