// Internals shared by the Kafka connectors: the librdkafka event bridge (logs,
// error counts), owned topic-partition lists and error-code mapping.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/connectors/kafka_options.h"

namespace zicht::connectors::kafka_internal {

// librdkafka's event callback: logs go to the caller's KafkaLogFn, errors are
// counted and the last one kept. Called from librdkafka's threads and from
// poll calls, hence the atomics and the mutex.
class EventBridge : public RdKafka::EventCb {
 public:
  explicit EventBridge(KafkaLogFn log) : log_(std::move(log)) {}
  void event_cb(RdKafka::Event& event) override;

  int64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  bool fatal() const { return fatal_.load(std::memory_order_relaxed); }
  std::string last_error() const;
  // Counts an error seen elsewhere (a consumer error message, a failed call).
  void NoteError(const std::string& what);
  void Log(KafkaLogLevel level, std::string_view message) const;

 private:
  KafkaLogFn log_;
  std::atomic<int64_t> errors_{0};
  std::atomic<bool> fatal_{false};
  mutable std::mutex mu_;
  std::string last_error_;
};

// Owns the TopicPartition pointers librdkafka's C++ API hands around.
class PartitionList {
 public:
  PartitionList() = default;
  PartitionList(const std::string& topic, const std::vector<int32_t>& partitions,
                int64_t offset = RdKafka::Topic::OFFSET_INVALID);
  ~PartitionList() { RdKafka::TopicPartition::destroy(list_); }
  PartitionList(const PartitionList&) = delete;
  PartitionList& operator=(const PartitionList&) = delete;

  void Add(const std::string& topic, int32_t partition,
           int64_t offset = RdKafka::Topic::OFFSET_INVALID) {
    list_.push_back(RdKafka::TopicPartition::create(topic, partition, offset));
  }
  std::vector<RdKafka::TopicPartition*>& get() { return list_; }
  bool empty() const { return list_.empty(); }

 private:
  std::vector<RdKafka::TopicPartition*> list_;
};

// A Status for a librdkafka error code: queue full and transport problems
// are TryAgain, unknown topics NotFound, bad arguments InvalidArgument,
// everything else IoError. `context` says what failed.
Status KafkaErrorStatus(RdKafka::ErrorCode code, const std::string& context);

// Takes ownership of an RdKafka::Error* (null = success).
using ErrorPtr = std::unique_ptr<RdKafka::Error>;

// Partition ids of `topic`, ascending, from a metadata request for all
// topics (asking for one topic could auto-create it on brokers that allow
// that). NotFound if the topic does not exist.
Result<std::vector<int32_t>> TopicPartitionIds(RdKafka::Handle* handle, const std::string& topic,
                                               std::chrono::milliseconds timeout);

// Milliseconds for librdkafka's int timeouts (clamped to [0, INT_MAX]).
int TimeoutMs(std::chrono::milliseconds timeout);

}  // namespace zicht::connectors::kafka_internal
