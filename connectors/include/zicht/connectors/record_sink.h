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

// Keeps every record it is sent, in order, and acknowledges them on Flush as
// a file would: for `zicht rules test`, fuzzing and tests.
class MemorySink : public RecordSink {
 public:
  Status Send(uint64_t id, const OutRecord& record) override {
    records.push_back(record);
    pending_.push_back(id);
    return Status::Ok();
  }
  Status Flush(std::vector<uint64_t>* acked, std::chrono::milliseconds) override {
    acked->insert(acked->end(), pending_.begin(), pending_.end());
    pending_.clear();
    return Status::Ok();
  }
  std::vector<OutRecord> records;

 private:
  std::vector<uint64_t> pending_;
};

}  // namespace zicht::connectors
