// SourceDriver: what the run loop needs from its input, so that `zicht run`
// has one loop for a file and for Kafka. A driver hands out batches of
// records, says how they are routed to partitions, does its own upkeep
// between batches (Kafka: national snapshots, pausing, idle partitions,
// lag) and says when a finite input is done. The engine never calls back
// into a driver; Kafka's rebalance callbacks reach the engine only inside
// Poll and Close, on the loop's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/connectors/event_source.h"
#include "zicht/runtime/kafka_runtime.h"

namespace zicht::runtime {

class SourceDriver {
 public:
  virtual ~SourceDriver() = default;
  // Next records (empty on timeout). An error ends the run.
  virtual Status Poll(std::vector<connectors::SourceRecord>* batch,
                      std::chrono::milliseconds timeout) = 0;
  // Names the input in dead letters ("events.jsonl", a topic).
  virtual const std::string& name() const = 0;
  // Where a record came from, for error messages.
  virtual std::string Describe(const connectors::SourceRecord& record) const = 0;
  // Files feed every partition (records are routed by municipality); a
  // Kafka partition feeds its own.
  virtual bool route_by_municipality() const = 0;
  // Between batches.
  virtual Status Maintain() { return Status::Ok(); }
  // Consumer lag at the last Maintain (nullopt: the input has none).
  virtual std::optional<int64_t> lag() const { return std::nullopt; }
  // The input is finite and every record of it has been handed out.
  virtual bool AtEnd() const = 0;
  // Leave the loop once at the end (else keep serving the API).
  virtual bool exit_at_end() const = 0;
  // After the loop (Kafka: leave the group, which revokes and commits).
  virtual Status Close() { return Status::Ok(); }
};

// A file source (resumed at the committed line).
std::unique_ptr<SourceDriver> MakeFileDriver(connectors::EventSourcePtr source, std::string name,
                                             bool exit_at_end);
// A started KafkaRuntime (not owned). stop_at_end: KafkaSourceConfig::stop_at_end.
std::unique_ptr<SourceDriver> MakeKafkaDriver(KafkaRuntime* kafka, bool stop_at_end);

}  // namespace zicht::runtime
