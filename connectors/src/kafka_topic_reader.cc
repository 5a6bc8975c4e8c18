#include "zicht/connectors/kafka_topic_reader.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <thread>

#include "kafka_common.h"
#include "zicht/connectors/kafka_conf.h"

namespace zicht::connectors {
namespace {

using kafka_internal::EventBridge;
using kafka_internal::PartitionList;
using Clock = std::chrono::steady_clock;

// librdkafka's C++ KafkaConsumer needs a group.id even when it only assigns;
// a name of its own keeps it out of every real group (it never joins one).
std::string ReaderGroupId() {
  static std::atomic<int> counter{0};
  return fmt::format("zicht-topic-reader-{}-{}-{}", ::getpid(),
                     std::chrono::steady_clock::now().time_since_epoch().count(), counter++);
}

class KafkaTopicReaderImpl final : public KafkaTopicReader {
 public:
  explicit KafkaTopicReaderImpl(KafkaTopicReaderOptions options)
      : options_(std::move(options)), bridge_(std::make_unique<EventBridge>(options_.kafka.log)) {}

  ~KafkaTopicReaderImpl() override {
    for (rd_kafka_message_t* m : pending_) rd_kafka_message_destroy(m);
    pending_.clear();
    if (queue_ != nullptr) rd_kafka_queue_destroy(queue_);
    if (consumer_ != nullptr) (void)consumer_->close();
  }

  Status Start() {
    KafkaConfSpec spec;
    spec.defaults = {
        {"fetch.wait.max.ms", "100"},
        {"auto.offset.reset", "earliest"},
    };
    spec.managed = {
        {"group.id", ReaderGroupId()},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
        {"isolation.level", options_.read_committed ? "read_committed" : "read_uncommitted"},
    };
    spec.managed_hint = "use KafkaTopicReaderOptions; the reader is in no consumer group";
    spec.event_cb = bridge_.get();
    Result<std::unique_ptr<RdKafka::Conf>> conf = BuildKafkaConf(options_.kafka, spec);
    if (!conf.ok()) return conf.status();
    std::string err;
    consumer_.reset(RdKafka::KafkaConsumer::create(conf->get(), err));
    if (consumer_ == nullptr) return Status::InvalidArgument("kafka topic reader: " + err);

    Result<std::vector<int32_t>> all = kafka_internal::TopicPartitionIds(
        consumer_.get(), options_.topic, options_.metadata_timeout);
    if (!all.ok()) return all.status();
    std::vector<int32_t> wanted = options_.partitions.empty() ? *all : options_.partitions;
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    PartitionList assignment;
    for (int32_t p : wanted) {
      if (!std::binary_search(all->begin(), all->end(), p)) {
        return Status::NotFound(
            fmt::format("kafka topic reader: {} has no partition {} ({} partitions)",
                        options_.topic, p, all->size()));
      }
      int64_t low = 0, high = 0;
      // Just after a topic is created or a leader moved, the broker answers
      // "not leader" for a moment: retry those until metadata_timeout. After a
      // broker restart librdkafka reports a partition the metadata just listed
      // as unknown until it learns the leader again: the same.
      const Clock::time_point deadline = Clock::now() + options_.metadata_timeout;
      while (true) {
        RdKafka::ErrorCode rc = consumer_->query_watermark_offsets(
            options_.topic, p, &low, &high, kafka_internal::TimeoutMs(options_.metadata_timeout));
        if (rc == RdKafka::ERR_NO_ERROR) break;
        Status s = kafka_internal::KafkaErrorStatus(
            rc, fmt::format("kafka topic reader: end offset of {}/{}", options_.topic, p));
        const bool transient =
            s.code() == StatusCode::kTryAgain || rc == RdKafka::ERR__UNKNOWN_PARTITION;
        if (!transient || Clock::now() >= deadline) return s;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      end_[p] = high;
      auto start = options_.start_offsets.find(p);
      const int64_t from =
          start != options_.start_offsets.end() ? start->second : kKafkaOffsetBeginning;
      if (from == kKafkaOffsetEnd) {
        position_[p] = high;
        assignment.Add(options_.topic, p, RdKafka::Topic::OFFSET_END);
      } else if (from < 0) {  // beginning (or "stored": a reader has no group offsets)
        position_[p] = low;
        assignment.Add(options_.topic, p, RdKafka::Topic::OFFSET_BEGINNING);
      } else {
        // Before the oldest retained record: auto.offset.reset starts at that record.
        position_[p] = std::max(from, low);
        assignment.Add(options_.topic, p, from);
      }
    }
    partitions_ = wanted;
    if (!assignment.empty()) {
      RdKafka::ErrorCode rc = consumer_->assign(assignment.get());
      if (rc != RdKafka::ERR_NO_ERROR) {
        return kafka_internal::KafkaErrorStatus(rc, "kafka topic reader: assign " + options_.topic);
      }
    }
    queue_ = rd_kafka_queue_get_consumer(consumer_->c_ptr());
    if (queue_ == nullptr) return Status::Internal("kafka topic reader: no consumer queue");
    scratch_.resize(options_.max_batch_records);
    return Status::Ok();
  }

  std::vector<int32_t> partitions() const override { return partitions_; }
  const std::map<int32_t, int64_t>& end_offsets() const override { return end_; }
  std::map<int32_t, int64_t> positions() const override { return position_; }

  Result<std::map<int32_t, int64_t>> ReadToEnd(const KafkaRecordFn& fn,
                                               std::chrono::milliseconds timeout) override {
    const Clock::time_point deadline = Clock::now() + timeout;
    while (!AtEnd()) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        std::string behind;
        for (const auto& [p, end] : end_) {
          if (position_[p] < end) behind += fmt::format(" {} at {} of {};", p, position_[p], end);
        }
        return Status::TryAgain(
            fmt::format("kafka topic reader: {} not read to the end in {} ms:{}", options_.topic,
                        timeout.count(), behind));
      }
      Result<size_t> n =
          Read(fn, std::min<std::chrono::milliseconds>(left, std::chrono::milliseconds(100)));
      if (!n.ok()) return n.status();
    }
    return position_;
  }

  Result<size_t> Poll(const KafkaRecordFn& fn, std::chrono::milliseconds timeout) override {
    return Read(fn, timeout);
  }

  KafkaTopicReaderStats Stats() const override {
    KafkaTopicReaderStats s = stats_;
    s.errors = bridge_->errors();
    s.last_error = bridge_->last_error();
    return s;
  }

 private:
  bool AtEnd() const {
    for (const auto& [p, end] : end_) {
      if (position_.at(p) < end) return false;
    }
    return true;
  }

  // Fills pending_ (waiting up to `timeout` for the first message) and
  // delivers it; stops at the first callback error, keeping the rest.
  Result<size_t> Read(const KafkaRecordFn& fn, std::chrono::milliseconds timeout) {
    if (pending_.empty()) {
      ssize_t got = rd_kafka_consume_batch_queue(queue_, kafka_internal::TimeoutMs(timeout),
                                                 scratch_.data(), 1);
      if (got > 0) {
        pending_.push_back(scratch_[0]);
        got = rd_kafka_consume_batch_queue(queue_, 0, scratch_.data(), scratch_.size());
        for (ssize_t i = 0; i < got; ++i) pending_.push_back(scratch_[static_cast<size_t>(i)]);
      }
      if (got < 0)
        bridge_->NoteError(std::string("consume: ") + rd_kafka_err2str(rd_kafka_last_error()));
    }
    size_t delivered = 0;
    KafkaTopicRecord record;
    while (!pending_.empty()) {
      rd_kafka_message_t* m = pending_.front();
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        // The fetch position passed the end (control records included).
        int64_t& pos = position_[m->partition];
        pos = std::max(pos, m->offset);
      } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        bridge_->NoteError(fmt::format("read {}: {}", options_.topic, rd_kafka_message_errstr(m)));
      } else {
        record.partition = m->partition;
        record.offset = m->offset;
        record.key = m->key != nullptr
                         ? std::string_view(static_cast<const char*>(m->key), m->key_len)
                         : std::string_view();
        record.value = m->payload != nullptr ? std::optional<std::string_view>(std::string_view(
                                                   static_cast<const char*>(m->payload), m->len))
                                             : std::nullopt;
        record.timestamp = rd_kafka_message_timestamp(m, nullptr);
        if (options_.read_headers) ReadHeaders(m, &record.headers);
        Status s = fn(record);
        if (!s.ok()) return s;  // m stays pending: delivered again next time
        position_[m->partition] = m->offset + 1;
        ++stats_.records;
        stats_.bytes += static_cast<int64_t>(m->len + m->key_len);
        ++delivered;
      }
      pending_.pop_front();
      rd_kafka_message_destroy(m);
    }
    return delivered;
  }

  static void ReadHeaders(rd_kafka_message_t* m, std::vector<Header>* out) {
    out->clear();
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      out->emplace_back(name, value != nullptr ? std::string(static_cast<const char*>(value), size)
                                               : std::string());
    }
  }

  KafkaTopicReaderOptions options_;
  std::unique_ptr<EventBridge> bridge_;  // outlives consumer_
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  rd_kafka_queue_t* queue_ = nullptr;
  std::vector<int32_t> partitions_;
  std::map<int32_t, int64_t> end_;
  std::map<int32_t, int64_t> position_;
  std::vector<rd_kafka_message_t*> scratch_;
  std::deque<rd_kafka_message_t*> pending_;
  KafkaTopicReaderStats stats_;
};

}  // namespace

Status KafkaTopicReaderOptions::Validate() const {
  ZICHT_RETURN_IF_ERROR(kafka.Validate());
  if (topic.empty()) return Status::InvalidArgument("kafka topic reader: topic is empty");
  if (max_batch_records == 0) {
    return Status::InvalidArgument("kafka topic reader: max_batch_records must be at least 1");
  }
  return Status::Ok();
}

Result<std::unique_ptr<KafkaTopicReader>> KafkaTopicReader::Open(
    const KafkaTopicReaderOptions& options) {
  ZICHT_RETURN_IF_ERROR(options.Validate());
  auto reader = std::make_unique<KafkaTopicReaderImpl>(options);
  ZICHT_RETURN_IF_ERROR(reader->Start());
  return std::unique_ptr<KafkaTopicReader>(std::move(reader));
}

}  // namespace zicht::connectors
