#include "zicht/engine/state_store.h"

namespace zicht::engine {

std::string_view FamilyName(Family f) {
  switch (f) {
    case Family::kMeta:
      return "meta";
    case Family::kBuckets:
      return "buckets";
    case Family::kEvidence:
      return "evidence";
    case Family::kTimers:
      return "timers";
    case Family::kDedup:
      return "dedup";
    case Family::kOutbox:
      return "outbox";
  }
  return "unknown";
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(end.back());
    if (c != 0xFF) {
      ++c;
      return end;
    }
    end.pop_back();
  }
  return end;  // empty: to the end of the family
}

}  // namespace zicht::engine
