// KafkaSource: events from a Kafka topic as a consumer-group member whose
// offsets live with the engine's state (not in Kafka), with cooperative
// rebalancing reported synchronously to a RebalanceListener.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/connectors/event_source.h"
#include "zicht/connectors/kafka_options.h"

namespace zicht::connectors {

// The engine's side of a rebalance. Both methods are called on the thread
// that calls KafkaSource::Poll (or Close), from inside that call.
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // `partitions` were added to this member (cooperative: the others stay).
  // Returns where to start each: an offset (the engine's stored next_offset),
  // or kKafkaOffsetStored / kKafkaOffsetBeginning / kKafkaOffsetEnd. A
  // partition missing from the map starts at kKafkaOffsetStored. An error
  // (e.g. the state could not be restored) is returned by this and every
  // later Poll; the partitions stay paused and the caller should Close.
  virtual Result<std::map<int32_t, int64_t>> OnAssigned(const std::vector<int32_t>& partitions) = 0;
  // `partitions` are taken away. Every record of them that Poll returned
  // before has been handed over; none is returned after. `lost` = taken
  // without a clean handover (session timeout, fenced): another member may
  // already own them, so their state must not be trusted or published.
  virtual void OnRevoked(const std::vector<int32_t>& partitions, bool lost) = 0;
};

struct KafkaSourceOptions {
  KafkaOptions kafka;
  std::string topic = "zicht.events";  // one topic: partition numbers are the engine's partitions
  std::string group_id = "zicht";      // group.id; members share the topic's partitions
  // Records per Poll at most (default 10000).
  size_t max_batch_records = 10000;
  // Also commit the engine's positions to Kafka (CommitOffsets), only so that
  // lag tooling (kafka-consumer-groups) sees them; the engine never reads
  // them back unless it answers kKafkaOffsetStored (default false).
  bool commit_offsets_to_kafka = false;
  // isolation.level=read_committed: skip records of aborted transactions and
  // wait for open ones (default true, librdkafka's default).
  bool read_committed = true;
  // session.timeout.ms: a member silent this long is dropped (default 45 s).
  std::chrono::milliseconds session_timeout{45000};
  // max.poll.interval.ms: a member not polling this long leaves (default 5 min).
  std::chrono::milliseconds max_poll_interval{300000};
  // Fetch sizing (librdkafka's defaults; larger buffers measured no faster
  // on loopback, see docs/kafka.md): max.partition.fetch.bytes (1 MiB),
  // queued.max.messages.kbytes for prefetched data (64 MiB), queued.min.messages
  // prefetched per partition (100000).
  int max_partition_fetch_bytes = 1 << 20;
  int queued_max_kbytes = 64 << 10;
  int queued_min_messages = 100000;

  Status Validate() const;
};

// Consumer position and lag of one assigned partition.
struct PartitionLag {
  int32_t partition = 0;
  int64_t position = -1;        // next offset Poll will return; -1 = not known yet
  int64_t high_watermark = -1;  // last known end of the partition; -1 = not known yet
  int64_t lag = -1;             // high_watermark - position; -1 = not known
  bool paused = false;
};

struct KafkaSourceStats {
  int64_t records = 0;        // records returned by Poll
  int64_t bytes = 0;          // payload bytes returned by Poll
  int64_t assigned = 0;       // partitions assigned over the lifetime
  int64_t revoked = 0;        // partitions revoked (lost included)
  int64_t lost = 0;           // partitions revoked as lost
  int64_t errors = 0;         // consumer errors (broker down, transport, ...), all survived
  int64_t stale_dropped = 0;  // prefetched records of revoked partitions, dropped
  std::string last_error;     // the most recent of them
};

class KafkaSource : public EventSource {
 public:
  // Creates the consumer and subscribes. `listener` (may be null: then every
  // partition starts at kKafkaOffsetStored) must outlive the source.
  // InvalidArgument for bad options or properties.
  static Result<std::unique_ptr<KafkaSource>> Open(const KafkaSourceOptions& options,
                                                   RebalanceListener* listener);

  // EventSource::Poll waits up to `timeout` for the first record, then
  // returns at once with what is ready (at most max_batch_records).
  // Rebalance callbacks run inside it. Payload and key views stay valid until
  // the next Poll; payloads are not padded. Broker outages are survived:
  // counted in Stats(), Poll keeps returning OK (empty batches) and resumes
  // when the broker is back. Errors: the listener's OnAssigned error; IoError
  // on a fatal consumer error; Aborted after Close.
  // EventSource::Describe gives "topic/partition/offset".

  // Stops / restarts fetching these partitions (records already fetched are
  // discarded and fetched again on Resume). Unassigned ones are ignored.
  virtual Status Pause(const std::vector<int32_t>& partitions) = 0;
  virtual Status Resume(const std::vector<int32_t>& partitions) = 0;
  // Next Poll returns `partition` from `offset` (or a logical offset).
  // InvalidArgument if the partition is not assigned.
  virtual Status Seek(int32_t partition, int64_t offset) = 0;
  // Partitions this member owns now, ascending.
  virtual std::vector<int32_t> Assignment() const = 0;
  // Position and lag of every assigned partition from cached watermarks (no
  // broker round trip: cheap enough for every second). A paused partition's
  // watermark is the one seen before pausing.
  virtual std::vector<PartitionLag> Lag() const = 0;
  // With commit_offsets_to_kafka: commits these next offsets (asynchronously)
  // for lag tooling. Without it: does nothing.
  virtual Status CommitOffsets(const std::map<int32_t, int64_t>& next_offsets) = 0;
  virtual KafkaSourceStats Stats() const = 0;
  // Leaves the group: OnRevoked for the owned partitions, then the consumer
  // closes. Poll returns Aborted afterwards. The destructor closes without
  // calling the listener.
  virtual Status Close() = 0;
};

using KafkaSourcePtr = std::unique_ptr<KafkaSource>;

}  // namespace zicht::connectors
