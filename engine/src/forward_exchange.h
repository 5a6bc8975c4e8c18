// ForwardExchange: events that arrive on one partition but count in
// another's municipality (SPEC 8.3: on Kafka an event is keyed by the code
// its producer wrote, and a merged code's history lives with its final
// code). The arrival partition accepts the event by its own clock and
// forwards it; the owner applies it exactly when its final bucket passes the
// bucket the arrival partition was at, so every layout, restart and replay
// counts it at the same point (docs/consistency.md, "Forwarded events").
//
// Forwards travel in batches: when a partition is about to move its final
// bucket from `after` to `through`, it publishes every event it accepted at
// `after`, which also promises that it accepts nothing more below `through`.
// A partition may move its own final bucket to f only once every partition
// that forwards to it has published through f. Internal to the engine; one
// thread (the codec is pure).
#pragma once

#include <climits>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zicht/base/status.h"

namespace zicht::engine {

struct ForwardedEvent {
  int target = 0;       // the partition that counts it
  std::string payload;  // the event as received (decoded again by the target)
};

struct ForwardBatch {
  int partition = -1;
  int64_t after = INT64_MIN;  // final bucket while `events` were accepted
  int64_t through = INT64_MIN;
  std::vector<ForwardedEvent> events;
  bool operator==(const ForwardBatch&) const = default;
};

inline bool operator==(const ForwardedEvent& a, const ForwardedEvent& b) {
  return a.target == b.target && a.payload == b.payload;
}

class ForwardExchange {
 public:
  // `history`: batches kept per partition, in final buckets before its newest.
  explicit ForwardExchange(int64_t history) : history_(history) {}

  // A batch (again after a restart: the newer one for the same `after` wins).
  void Publish(ForwardBatch batch);
  // Whether `source`'s batches cover every bucket a partition moving its
  // final bucket from `from` to `to` must take in (INT64_MIN: no clock yet).
  bool Covers(int source, int64_t from, int64_t to) const;
  // Calls `fn` for every event of `source` for `target` that counts when the
  // target's final bucket moves from `from` to `to`: those accepted while
  // the source was at a final bucket in [from, to), in acceptance order.
  void ForEach(int source, int target, int64_t from, int64_t to,
               const std::function<void(const ForwardedEvent&)>& fn) const;
  // The furthest `through` any partition published (idle partitions are
  // moved up to it, so that none waits for a quiet one forever).
  std::optional<int64_t> NewestThrough() const;

  // Wire form for the national topic (key, value), and its test.
  static std::pair<std::string, std::string> Encode(std::string_view rule_version,
                                                    const ForwardBatch& batch);
  static bool IsBatch(std::string_view value);
  // nullopt: a batch of another rule set (a rolling reload).
  static Result<std::optional<ForwardBatch>> Decode(std::string_view rule_version,
                                                    std::string_view value);
  // A partition's own forwards in its persisted meta: the events accepted at
  // its current final bucket and the batches it may have to publish again.
  static std::string EncodeState(int64_t through, const std::vector<ForwardedEvent>& pending,
                                 const std::vector<ForwardBatch>& sent);
  static Status DecodeState(std::string_view data, int64_t* through,
                            std::vector<ForwardedEvent>* pending, std::vector<ForwardBatch>* sent);

 private:
  int64_t history_;
  std::map<int, std::map<int64_t, ForwardBatch>> batches_;  // partition -> after -> batch
};

}  // namespace zicht::engine
