// KafkaAdmin: creates (idempotently), describes and deletes topics and lists
// their end offsets, so zicht can set up its own topics at start.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "zicht/base/status.h"
#include "zicht/connectors/kafka_options.h"

namespace zicht::connectors {

struct KafkaTopicSpec {
  std::string name;
  int32_t partitions = 1;           // default 1
  int16_t replication_factor = -1;  // -1 = the broker's default.replication.factor
  // Topic configs, e.g. cleanup.policy=compact, min.compaction.lag.ms, segment.ms.
  std::map<std::string, std::string> configs;
};

// Not thread-safe. Every call is bounded by the timeout given to Open.
class KafkaAdmin {
 public:
  virtual ~KafkaAdmin() = default;
  // `timeout` bounds each request (default 30 s).
  static Result<std::unique_ptr<KafkaAdmin>> Open(
      const KafkaOptions& options, std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Creates the topic and waits until its partitions have leaders. A topic
  // that exists with the same partition count is OK (its configs are left as
  // they are); another count is InvalidArgument naming both. Bad configs are
  // InvalidArgument with the broker's message.
  virtual Status CreateTopic(const KafkaTopicSpec& spec) = 0;
  // Partition count; NotFound if the topic does not exist.
  virtual Result<int32_t> PartitionCount(const std::string& topic) = 0;
  // NotFound if the topic does not exist.
  virtual Status DeleteTopic(const std::string& topic) = 0;
  // End offset per partition as read_committed consumers see it: the last
  // stable offset, which is the high watermark unless a transaction is open.
  virtual Result<std::map<int32_t, int64_t>> EndOffsets(const std::string& topic) = 0;
};

using KafkaAdminPtr = std::unique_ptr<KafkaAdmin>;

}  // namespace zicht::connectors
