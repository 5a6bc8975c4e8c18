// EventSource: where raw events come from (a JSONL file, standard input, Kafka).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/connectors/record.h"

namespace zicht::connectors {

class EventSource {
 public:
  virtual ~EventSource() = default;
  // Fills `batch` (cleared first) with the next records; they stay valid until
  // the next call. An empty batch means nothing arrived within `timeout`.
  // Returns Aborted when a finite source is exhausted.
  virtual Status Poll(std::vector<SourceRecord>* batch, std::chrono::milliseconds timeout) = 0;
  // Where a record came from, for dead letters: "events.jsonl:17" or "topic/3/1234".
  virtual std::string Describe(const SourceRecord& record) const = 0;
};

using EventSourcePtr = std::unique_ptr<EventSource>;

}  // namespace zicht::connectors
