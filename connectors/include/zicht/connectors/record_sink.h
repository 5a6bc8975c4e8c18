// RecordSink: where alerts and dead letters go. Delivery is acknowledged by
// id, so the engine can keep records in its outbox until they are safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/connectors/record.h"

namespace zicht::connectors {

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Queues a record for delivery. TryAgain when the sink is full (back-pressure).
  virtual Status Send(uint64_t id, const OutRecord& record) = 0;
  // Waits up to `timeout` for queued records to be durable and appends the ids
  // acknowledged since the last call.
  virtual Status Flush(std::vector<uint64_t>* acked, std::chrono::milliseconds timeout) = 0;
  // Ids given up on since the last call (delivery failed for good); the caller
  // sends them again later. Sinks that never give up return none.
  virtual std::vector<uint64_t> TakeFailedIds() { return {}; }
};

using RecordSinkPtr = std::unique_ptr<RecordSink>;

// Sends every record to several sinks; a record is acknowledged when all are.
RecordSinkPtr MakeFanOutSink(std::vector<RecordSinkPtr> sinks);

}  // namespace zicht::connectors
