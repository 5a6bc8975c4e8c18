// KafkaTopicReader: reads a topic (all or some partitions) outside any
// consumer group, from given offsets to the end it had when opened, then
// optionally keeps following it. Restores state from a changelog and loads
// the national totals other instances publish.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/base/time.h"
#include "zicht/connectors/kafka_options.h"
#include "zicht/connectors/record.h"

namespace zicht::connectors {

// One record as read. Views are valid during the callback only.
struct KafkaTopicRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string_view key;
  std::optional<std::string_view> value;  // nullopt: a tombstone (key deleted)
  TimeMs timestamp = -1;                  // broker/producer timestamp, -1 if none
  std::vector<Header> headers;            // filled only with read_headers
};

// Called once per record, in offset order per partition. A non-OK Status
// stops the read and is returned; the record is delivered again by the next
// call (at-least-once).
using KafkaRecordFn = std::function<Status(const KafkaTopicRecord&)>;

struct KafkaTopicReaderOptions {
  KafkaOptions kafka;
  std::string topic;                         // required
  std::vector<int32_t> partitions;           // empty = every partition of the topic
  std::map<int32_t, int64_t> start_offsets;  // next offset to read; missing = the beginning
  // isolation.level=read_committed (default true): records of aborted or
  // still open transactions are never delivered and the end is the last
  // stable offset, so a changelog restore sees only committed batches.
  bool read_committed = true;
  bool read_headers = false;  // fill KafkaTopicRecord::headers (default false: faster)
  // Bound for the metadata and watermark lookups of Open (default 10 s).
  std::chrono::milliseconds metadata_timeout{10000};
  size_t max_batch_records = 10000;  // records taken from librdkafka per call (default 10000)

  Status Validate() const;
};

struct KafkaTopicReaderStats {
  int64_t records = 0;
  int64_t bytes = 0;  // key + value bytes
  int64_t errors = 0;
  std::string last_error;
};

// Not thread-safe.
class KafkaTopicReader {
 public:
  virtual ~KafkaTopicReader() = default;
  // Looks up the partitions and their end offsets (high watermark, or last
  // stable offset with read_committed) and starts fetching. NotFound if the
  // topic or a requested partition does not exist.
  static Result<std::unique_ptr<KafkaTopicReader>> Open(const KafkaTopicReaderOptions& options);

  // Partitions read, ascending.
  virtual std::vector<int32_t> partitions() const = 0;
  // End offsets taken at Open, per partition.
  virtual const std::map<int32_t, int64_t>& end_offsets() const = 0;
  // Next offset to read per partition (start offset until something is read).
  virtual std::map<int32_t, int64_t> positions() const = 0;

  // Delivers records until every partition has reached its end offset and
  // returns positions() (each >= its end offset; records that arrived after
  // Open may be delivered too). TryAgain naming the partitions not done when
  // `timeout` passes first: calling again continues where it stopped.
  virtual Result<std::map<int32_t, int64_t>> ReadToEnd(const KafkaRecordFn& fn,
                                                       std::chrono::milliseconds timeout) = 0;
  // Follow mode: delivers whatever has arrived, waiting up to `timeout` for
  // the first record; returns how many were delivered.
  virtual Result<size_t> Poll(const KafkaRecordFn& fn, std::chrono::milliseconds timeout) = 0;

  virtual KafkaTopicReaderStats Stats() const = 0;
};

using KafkaTopicReaderPtr = std::unique_ptr<KafkaTopicReader>;

}  // namespace zicht::connectors
