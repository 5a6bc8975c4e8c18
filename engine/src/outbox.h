// Outbox: alerts and dead letters between "decided" and "acknowledged by
// their sink". New records are written in the same atomic batch as the state
// that produced them; after the commit they go to the sinks, and only an
// acknowledged record is deleted, so a crash or a move of the partition
// delivers it again (at least once; alert ids are stable). Internal to the
// engine; one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

#include "zicht/base/clock.h"
#include "zicht/base/status.h"
#include "zicht/connectors/record.h"
#include "zicht/connectors/record_sink.h"
#include "zicht/engine/probe.h"
#include "zicht/engine/state_store.h"

namespace zicht::engine {

struct OutboxRecord {
  int partition = 0;
  uint64_t seq = 0;  // per partition
  bool alert = false;
  connectors::OutRecord record;
  // For the event-to-alert latency (not persisted: unknown after a restart).
  int rule = -1;
  TimeMs ingest_time = 0;
  // Unique over partitions: the id sinks acknowledge.
  uint64_t id() const { return (static_cast<uint64_t>(partition) << 48) | seq; }
};

struct OutboxOptions {
  connectors::RecordSink* alerts = nullptr;        // null: counted only
  connectors::RecordSink* dead_letters = nullptr;  // null: counted only
  // How long a delivery waits for acknowledgements (default 10 s); the
  // unacknowledged stay and are retried.
  std::chrono::milliseconds flush_timeout{10000};
};

class Outbox {
 public:
  Outbox(OutboxOptions options, EngineProbe* probe, const Clock* clock)
      : options_(options), probe_(probe), clock_(ClockOr(clock)) {}

  // A record decided since the last commit.
  void Add(OutboxRecord record) { new_.push_back(std::move(record)); }
  // Puts of the new records, for the commit's batch.
  void WriteNew(StateBatch* batch) const;
  // The commit is durable: the new records may go to the sinks.
  void Committed();
  // Hands committed records to the sinks, waits for acknowledgements (up to
  // the flush timeout), and deletes the acknowledged ones from `store`.
  // Records whose delivery failed are queued again; `retries` counts flushes
  // that timed out.
  Status Deliver(StateStore* store, int64_t* retries);
  // Records of `partition` left undelivered by a previous owner or run.
  // Returns the highest sequence found (0: none).
  Result<uint64_t> Load(int partition, StateStore* store);
  // A revoked partition: its new and unsent records are the next owner's.
  void Drop(int partition);
  // Committed but not yet acknowledged.
  size_t pending() const { return unsent_.size() + in_flight_.size(); }

 private:
  OutboxOptions options_;
  EngineProbe* probe_;
  const Clock& clock_;
  std::vector<OutboxRecord> new_;               // since the last commit
  std::vector<OutboxRecord> unsent_;            // committed, not yet given to sinks
  std::map<uint64_t, OutboxRecord> in_flight_;  // given to sinks, not yet acknowledged
  std::vector<uint64_t> acked_;                 // delivered; deleted after the flush
};

}  // namespace zicht::engine
