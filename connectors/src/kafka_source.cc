#include "zicht/connectors/kafka_source.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <unordered_map>

#include "kafka_common.h"
#include "zicht/base/clock.h"
#include "zicht/connectors/kafka_conf.h"

namespace zicht::connectors {
namespace {

using kafka_internal::ErrorPtr;
using kafka_internal::EventBridge;
using kafka_internal::PartitionList;
using Clock = std::chrono::steady_clock;

class KafkaSourceImpl final : public KafkaSource, public RdKafka::RebalanceCb {
 public:
  KafkaSourceImpl(KafkaSourceOptions options, RebalanceListener* listener)
      : options_(std::move(options)),
        listener_(listener),
        bridge_(std::make_unique<EventBridge>(options_.kafka.log)) {}

  ~KafkaSourceImpl() override {
    suppress_listener_ = true;  // the listener may already be gone
    (void)Close();
  }

  Status Start() {
    KafkaConfSpec spec;
    spec.defaults = {
        {"auto.offset.reset", "earliest"},
        {"session.timeout.ms", std::to_string(options_.session_timeout.count())},
        {"max.poll.interval.ms", std::to_string(options_.max_poll_interval.count())},
        {"max.partition.fetch.bytes", std::to_string(options_.max_partition_fetch_bytes)},
        {"fetch.max.bytes", std::to_string(std::max(options_.max_partition_fetch_bytes, 50 << 20))},
        {"queued.max.messages.kbytes", std::to_string(options_.queued_max_kbytes)},
        {"queued.min.messages", std::to_string(options_.queued_min_messages)},
        {"fetch.wait.max.ms", "100"},
    };
    spec.managed = {
        {"group.id", options_.group_id},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"isolation.level", options_.read_committed ? "read_committed" : "read_uncommitted"},
    };
    spec.managed_hint =
        "use KafkaSourceOptions (group_id, read_committed, commit_offsets_to_kafka); offsets are "
        "stored with the engine's state and the assignment is cooperative-sticky";
    spec.event_cb = bridge_.get();
    spec.rebalance_cb = this;
    Result<std::unique_ptr<RdKafka::Conf>> conf = BuildKafkaConf(options_.kafka, spec);
    if (!conf.ok()) return conf.status();
    std::string err;
    consumer_.reset(RdKafka::KafkaConsumer::create(conf->get(), err));
    if (consumer_ == nullptr) return Status::InvalidArgument("kafka source: " + err);
    // The consumer queue of the high-level consumer, read in batches below;
    // rebalance and error events are served from it too.
    queue_ = rd_kafka_queue_get_consumer(consumer_->c_ptr());
    if (queue_ == nullptr) return Status::Internal("kafka source: no consumer queue");
    RdKafka::ErrorCode rc = consumer_->subscribe({options_.topic});
    if (rc != RdKafka::ERR_NO_ERROR) {
      return kafka_internal::KafkaErrorStatus(rc, "kafka source: subscribe " + options_.topic);
    }
    scratch_.resize(options_.max_batch_records);
    return Status::Ok();
  }

  Status Poll(std::vector<SourceRecord>* batch, std::chrono::milliseconds timeout) override {
    batch->clear();
    ReleaseHeld();
    if (closed_) return Status::Aborted("kafka source is closed");
    if (!failure_.ok()) return failure_;
    const Clock::time_point deadline = Clock::now() + timeout;
    const size_t max = options_.max_batch_records;
    while (batch->size() < max) {
      const bool have = !batch->empty();
      // Wait for one record, then take whatever else is ready without waiting.
      const int wait_ms =
          have
              ? 0
              : static_cast<int>(std::max<int64_t>(
                    0,
                    std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count()));
      const size_t want = have ? max - batch->size() : 1;
      ssize_t got = rd_kafka_consume_batch_queue(queue_, wait_ms, scratch_.data(), want);
      if (got < 0) {
        const rd_kafka_resp_err_t err = rd_kafka_last_error();
        bridge_->NoteError(std::string("consume: ") + rd_kafka_err2str(err));
        break;
      }
      for (ssize_t i = 0; i < got; ++i) Take(scratch_[static_cast<size_t>(i)], batch);
      if (!failure_.ok() || closed_) break;
      if (have && static_cast<size_t>(got) < want) break;  // drained what was ready
      if (!have && batch->empty() && Clock::now() >= deadline) break;
    }
    return Status::Ok();
  }

  std::string Describe(const SourceRecord& record) const override {
    return fmt::format("{}/{}/{}", options_.topic, record.partition, record.offset);
  }

  Status Pause(const std::vector<int32_t>& partitions) override {
    return SetPaused(partitions, true);
  }
  Status Resume(const std::vector<int32_t>& partitions) override {
    return SetPaused(partitions, false);
  }

  Status Seek(int32_t partition, int64_t offset) override {
    if (closed_) return Status::Aborted("kafka source is closed");
    auto it = parts_.find(partition);
    if (it == parts_.end()) {
      return Status::InvalidArgument(
          fmt::format("seek {}/{}: partition not assigned", options_.topic, partition));
    }
    std::unique_ptr<RdKafka::TopicPartition> tp(
        RdKafka::TopicPartition::create(options_.topic, partition, offset));
    RdKafka::ErrorCode rc =
        consumer_->seek(*tp, 0);  // asynchronous; takes effect at the next fetch
    if (rc != RdKafka::ERR_NO_ERROR) {
      return kafka_internal::KafkaErrorStatus(
          rc, fmt::format("seek {}/{} to {}", options_.topic, partition, offset));
    }
    it->second.next = offset >= 0 ? offset : -1;
    return Status::Ok();
  }

  std::vector<int32_t> Assignment() const override {
    std::vector<int32_t> out;
    for (const auto& [p, state] : parts_) out.push_back(p);
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<PartitionLag> Lag() const override {
    std::vector<PartitionLag> out;
    if (closed_) return out;
    PartitionList positions;
    for (int32_t p : Assignment()) positions.Add(options_.topic, p);
    if (!positions.empty()) (void)consumer_->position(positions.get());
    for (RdKafka::TopicPartition* tp : positions.get()) {
      const PartState& state = parts_.at(tp->partition());
      PartitionLag lag;
      lag.partition = tp->partition();
      lag.paused = state.paused;
      lag.position = state.next >= 0 ? state.next : (tp->offset() >= 0 ? tp->offset() : -1);
      int64_t low = -1, high = -1;
      if (consumer_->get_watermark_offsets(options_.topic, tp->partition(), &low, &high) ==
              RdKafka::ERR_NO_ERROR &&
          high >= 0) {
        lag.high_watermark = high;
      }
      if (lag.position >= 0 && lag.high_watermark >= 0) {
        lag.lag = std::max<int64_t>(0, lag.high_watermark - lag.position);
      }
      out.push_back(lag);
    }
    return out;
  }

  Status CommitOffsets(const std::map<int32_t, int64_t>& next_offsets) override {
    if (!options_.commit_offsets_to_kafka) return Status::Ok();
    if (closed_) return Status::Aborted("kafka source is closed");
    PartitionList list;
    for (const auto& [p, offset] : next_offsets) {
      if (parts_.count(p) != 0 && offset >= 0) list.Add(options_.topic, p, offset);
    }
    if (list.empty()) return Status::Ok();
    RdKafka::ErrorCode rc = consumer_->commitAsync(list.get());
    if (rc != RdKafka::ERR_NO_ERROR) {
      return kafka_internal::KafkaErrorStatus(rc, "commit offsets of " + options_.topic);
    }
    return Status::Ok();
  }

  KafkaSourceStats Stats() const override {
    KafkaSourceStats s = stats_;
    s.errors = bridge_->errors();
    s.last_error = bridge_->last_error();
    return s;
  }

  Status Close() override {
    if (closed_ || consumer_ == nullptr) {
      closed_ = true;
      return Status::Ok();
    }
    ReleaseHeld();
    // Serves the final revocation (OnRevoked) through rebalance_cb.
    RdKafka::ErrorCode rc = consumer_->close();
    closed_ = true;
    if (queue_ != nullptr) {
      rd_kafka_queue_destroy(queue_);
      queue_ = nullptr;
    }
    parts_.clear();
    if (rc != RdKafka::ERR_NO_ERROR) {
      return kafka_internal::KafkaErrorStatus(rc, "close kafka source on " + options_.topic);
    }
    return Status::Ok();
  }

  // librdkafka calls this from inside Poll/Close on the polling thread.
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    std::vector<int32_t> ids;
    ids.reserve(partitions.size());
    for (RdKafka::TopicPartition* tp : partitions) ids.push_back(tp->partition());
    if (ids.empty()) {
      // Cooperative rebalances end with an empty assignment; librdkafka still
      // expects the call, the listener has nothing to do.
      ErrorPtr e(err == RdKafka::ERR__REVOKE_PARTITIONS ? consumer->incremental_unassign(partitions)
                                                        : consumer->incremental_assign(partitions));
      if (e != nullptr) bridge_->NoteError("rebalance: " + e->str());
      return;
    }
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      OnAssign(consumer, partitions, ids);
    } else if (err == RdKafka::ERR__REVOKE_PARTITIONS) {
      OnRevoke(consumer, partitions, ids);
    } else {
      bridge_->NoteError(std::string("rebalance: ") + RdKafka::err2str(err));
    }
  }

 private:
  struct PartState {
    int64_t next = -1;  // offset of the next record to return; -1 = not known
    bool paused = false;
  };

  void OnAssign(RdKafka::KafkaConsumer* consumer, std::vector<RdKafka::TopicPartition*>& partitions,
                const std::vector<int32_t>& ids) {
    std::map<int32_t, int64_t> starts;
    Status listener_status;
    if (listener_ != nullptr && !suppress_listener_) {
      Result<std::map<int32_t, int64_t>> r = listener_->OnAssigned(ids);
      if (r.ok()) {
        starts = std::move(*r);
      } else {
        listener_status = r.status();
      }
    }
    for (RdKafka::TopicPartition* tp : partitions) {
      auto it = starts.find(tp->partition());
      tp->set_offset(it != starts.end() ? it->second : RdKafka::Topic::OFFSET_STORED);
    }
    // Assign even when the listener failed: the group protocol waits for it.
    // Those partitions are paused below and Poll reports the failure.
    ErrorPtr e(consumer->incremental_assign(partitions));
    if (e != nullptr) {
      failure_ = Status::IoError(
          fmt::format("kafka source: incremental_assign on {}: {}", options_.topic, e->str()));
      bridge_->NoteError(failure_.message());
      return;
    }
    for (RdKafka::TopicPartition* tp : partitions) {
      PartState& state = parts_[tp->partition()];
      state.next = tp->offset() >= 0 ? tp->offset() : -1;
      state.paused = false;
    }
    stats_.assigned += static_cast<int64_t>(ids.size());
    if (!listener_status.ok()) {
      failure_ = listener_status;
      (void)SetPaused(ids, true);
    }
  }

  void OnRevoke(RdKafka::KafkaConsumer* consumer, std::vector<RdKafka::TopicPartition*>& partitions,
                const std::vector<int32_t>& ids) {
    const bool lost = consumer->assignment_lost();
    if (listener_ != nullptr && !suppress_listener_) listener_->OnRevoked(ids, lost);
    // librdkafka keeps a partition's pause flag across assignments; a
    // partition handed back later must start unpaused.
    std::vector<int32_t> paused;
    for (int32_t p : ids) {
      auto it = parts_.find(p);
      if (it != parts_.end() && it->second.paused) paused.push_back(p);
    }
    if (!paused.empty()) (void)SetPaused(paused, false);
    ErrorPtr e(consumer->incremental_unassign(partitions));
    if (e != nullptr) bridge_->NoteError("incremental_unassign: " + e->str());
    for (int32_t p : ids) parts_.erase(p);
    stats_.revoked += static_cast<int64_t>(ids.size());
    if (lost) stats_.lost += static_cast<int64_t>(ids.size());
  }

  // Turns one consumed message into a record, or drops it: errors are
  // counted; records of partitions no longer assigned (prefetched before a
  // revocation served in the same call) and records behind the position
  // (fetched before a seek) are stale.
  void Take(rd_kafka_message_t* m, std::vector<SourceRecord>* batch) {
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        std::string reason;
        (void)consumer_->fatal_error(reason);
        failure_ = Status::IoError("kafka source: fatal consumer error: " + reason);
      }
      bridge_->NoteError(fmt::format("consume {}: {}", options_.topic, rd_kafka_message_errstr(m)));
      rd_kafka_message_destroy(m);
      return;
    }
    auto it = parts_.find(m->partition);
    if (it == parts_.end() || (it->second.next >= 0 && m->offset < it->second.next)) {
      ++stats_.stale_dropped;
      rd_kafka_message_destroy(m);
      return;
    }
    it->second.next = m->offset + 1;
    SourceRecord r;
    if (m->payload != nullptr)
      r.payload = std::string_view(static_cast<const char*>(m->payload), m->len);
    if (m->key != nullptr) r.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
    r.partition = m->partition;
    r.offset = m->offset;
    r.next_offset = m->offset + 1;
    const int64_t ts = rd_kafka_message_timestamp(m, nullptr);
    r.ingest_time = ts >= 0 ? ts : SystemClock().WallMs();
    batch->push_back(r);
    held_.push_back(m);
    ++stats_.records;
    stats_.bytes += static_cast<int64_t>(m->len);
  }

  void ReleaseHeld() {
    for (rd_kafka_message_t* m : held_) rd_kafka_message_destroy(m);
    held_.clear();
  }

  Status SetPaused(const std::vector<int32_t>& partitions, bool pause) {
    if (closed_) return Status::Aborted("kafka source is closed");
    PartitionList list;
    for (int32_t p : partitions) {
      auto it = parts_.find(p);
      if (it == parts_.end() || it->second.paused == pause) continue;
      list.Add(options_.topic, p);
    }
    if (list.empty()) return Status::Ok();
    RdKafka::ErrorCode rc = pause ? consumer_->pause(list.get()) : consumer_->resume(list.get());
    if (rc != RdKafka::ERR_NO_ERROR) {
      return kafka_internal::KafkaErrorStatus(
          rc, fmt::format("{} partitions of {}", pause ? "pause" : "resume", options_.topic));
    }
    for (RdKafka::TopicPartition* tp : list.get()) {
      if (tp->err() == RdKafka::ERR_NO_ERROR) parts_[tp->partition()].paused = pause;
    }
    return Status::Ok();
  }

  KafkaSourceOptions options_;
  RebalanceListener* listener_;
  bool suppress_listener_ = false;
  // Declared before consumer_ so it outlives it (librdkafka calls into it).
  std::unique_ptr<EventBridge> bridge_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  rd_kafka_queue_t* queue_ = nullptr;
  std::vector<rd_kafka_message_t*> scratch_;
  std::vector<rd_kafka_message_t*> held_;         // backing the last batch's views
  std::unordered_map<int32_t, PartState> parts_;  // assigned partitions
  Status failure_;
  bool closed_ = false;
  KafkaSourceStats stats_;
};

}  // namespace

Status KafkaSourceOptions::Validate() const {
  ZICHT_RETURN_IF_ERROR(kafka.Validate());
  if (topic.empty()) return Status::InvalidArgument("kafka source: topic is empty");
  if (group_id.empty()) return Status::InvalidArgument("kafka source: group_id is empty");
  if (max_batch_records == 0) {
    return Status::InvalidArgument("kafka source: max_batch_records must be at least 1");
  }
  return Status::Ok();
}

Result<std::unique_ptr<KafkaSource>> KafkaSource::Open(const KafkaSourceOptions& options,
                                                       RebalanceListener* listener) {
  ZICHT_RETURN_IF_ERROR(options.Validate());
  auto source = std::make_unique<KafkaSourceImpl>(options, listener);
  ZICHT_RETURN_IF_ERROR(source->Start());
  return std::unique_ptr<KafkaSource>(std::move(source));
}

}  // namespace zicht::connectors
