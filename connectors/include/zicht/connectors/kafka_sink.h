// KafkaSink: alerts and dead letters to a Kafka topic through an idempotent
// producer, acknowledged by id once the broker has them durably (acks=all).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/connectors/kafka_options.h"
#include "zicht/connectors/record_sink.h"

namespace zicht::connectors {

struct KafkaSinkOptions {
  KafkaOptions kafka;
  std::string topic;  // required, e.g. "zicht.alerts" or "zicht.dead-letter"
  // queue.buffering.max.messages: records queued locally before Send returns
  // TryAgain (default 100000).
  int max_queued_records = 100000;
  // message.timeout.ms: how long librdkafka retries a record before Flush
  // reports it as failed (default 2 min; the engine keeps it and resends).
  std::chrono::milliseconds delivery_timeout{120000};
  // linger.ms: how long records wait to form a batch (default 5 ms).
  std::chrono::milliseconds linger{5};
  // compression.type (default lz4).
  std::string compression = "lz4";

  Status Validate() const;
};

struct KafkaSinkStats {
  int64_t sent = 0;        // accepted by Send
  int64_t acked = 0;       // durably written
  int64_t failed = 0;      // reported as failed by Flush
  int64_t queue_full = 0;  // Send answered TryAgain
  int64_t errors = 0;      // client errors (broker down, ...), all survived
  int64_t producers = 0;   // producer instances created (a fatal error makes a new one)
  std::string last_error;
};

// RecordSink contract: Send queues (TryAgain when max_queued_records are in
// flight; InvalidArgument for a record too large); Flush waits up to its
// timeout, appends the ids written since the last call and returns OK even if
// some are still in flight. A record librdkafka gave up on (delivery_timeout
// passed, record rejected by the broker) makes Flush return an error naming
// it; its id is not acknowledged, the caller keeps it and sends it again.
// Keys, values and headers go to Kafka as they are (dead-letter reason, detail
// and source are the zicht.* headers); an empty key is sent as no key. Records are partitioned by
// key with murmur2 (partitioner=murmur2_random), as Java producers do. Not thread-safe.
class KafkaSink : public RecordSink {
 public:
  static Result<std::unique_ptr<KafkaSink>> Open(const KafkaSinkOptions& options);
  virtual KafkaSinkStats Stats() const = 0;
  // Records handed to Send and not yet acknowledged or failed.
  virtual int64_t InFlight() const = 0;
  // Ids that Flush reported as failed since the last call, so the caller can
  // queue them for sending again.
  std::vector<uint64_t> TakeFailedIds() override = 0;
};

using KafkaSinkPtr = std::unique_ptr<KafkaSink>;

}  // namespace zicht::connectors
