// DedupIndex: the (type, id) hashes accepted within the de-duplication horizon.
// An open-addressing table with linear probing. Entries older than the horizon
// are not erased one by one (a random memory access each); they count as
// absent and are dropped when the table is rebuilt on growth, one sequential
// pass.
#pragma once

#include <cstdint>
#include <vector>

#include "zicht/base/hash.h"
#include "zicht/base/time.h"

namespace zicht::engine {

class DedupIndex {
 public:
  DedupIndex() { slots_.assign(kMinCapacity, Slot{}); mask_ = kMinCapacity - 1; }

  // Accepted time of `key`, or kMinTime when absent.
  TimeMs Find(const Hash128& key) const {
    size_t i = Home(key);
    while (true) {
      const Slot& s = slots_[i];
      if (s.time == kMinTime) return kMinTime;
      if (s.key == key) return s.time;
      i = (i + 1) & mask_;
    }
  }

  // Records `key` at `time`. Entries accepted before `forget_before` may be
  // dropped from now on.
  void Put(const Hash128& key, TimeMs time, TimeMs forget_before) {
    if ((used_ + 1) * 10 > slots_.size() * 7) Rebuild(forget_before);
    size_t i = Home(key);
    while (slots_[i].time != kMinTime && !(slots_[i].key == key)) i = (i + 1) & mask_;
    if (slots_[i].time == kMinTime) ++used_;
    slots_[i] = Slot{key, time};
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
    Hash128 key;
    TimeMs time = kMinTime;  // kMinTime marks an empty slot
  };
  size_t Home(const Hash128& key) const { return static_cast<size_t>(key.lo) & mask_; }

  void Rebuild(TimeMs forget_before) {
    size_t live = 0;
    for (const Slot& s : slots_) live += s.time != kMinTime && s.time >= forget_before;
    // Keep the load at or below ~35% after a rebuild, so rebuilds are rare.
    size_t capacity = kMinCapacity;
    while (capacity * 35 < (live + 1) * 100) capacity *= 2;
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    used_ = 0;
    for (const Slot& s : old) {
      if (s.time == kMinTime || s.time < forget_before) continue;
      size_t i = Home(s.key);
      while (slots_[i].time != kMinTime) i = (i + 1) & mask_;
      slots_[i] = s;
      ++used_;
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t used_ = 0;
};

}  // namespace zicht::engine
