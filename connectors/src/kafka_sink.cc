#include "zicht/connectors/kafka_sink.h"

#include <fmt/format.h>

#include <cstdint>

#include "kafka_common.h"
#include "zicht/connectors/kafka_conf.h"

namespace zicht::connectors {
namespace {

using kafka_internal::EventBridge;

void* IdToOpaque(uint64_t id) {
  return reinterpret_cast<void*>(static_cast<uintptr_t>(id));
}
uint64_t OpaqueToId(void* opaque) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(opaque));
}

class KafkaSinkImpl final : public KafkaSink, public RdKafka::DeliveryReportCb {
 public:
  explicit KafkaSinkImpl(KafkaSinkOptions options)
      : options_(std::move(options)), bridge_(std::make_unique<EventBridge>(options_.kafka.log)) {}

  ~KafkaSinkImpl() override { DropProducer(); }

  // A new idempotent producer (at start, and after a fatal error: a fatal
  // idempotence error leaves a producer unusable).
  Status NewProducer() {
    DropProducer();
    KafkaConfSpec spec;
    spec.defaults = {
        {"linger.ms", std::to_string(options_.linger.count())},
        {"compression.type", options_.compression},
        {"queue.buffering.max.messages", std::to_string(options_.max_queued_records)},
        {"message.timeout.ms", std::to_string(options_.delivery_timeout.count())},
        {"partitioner", "murmur2_random"},
    };
    spec.managed = {{"enable.idempotence", "true"}, {"acks", "all"}};
    spec.managed_hint = "the sink is an idempotent producer with acks=all";
    spec.event_cb = bridge_.get();
    spec.dr_cb = this;
    Result<std::unique_ptr<RdKafka::Conf>> conf = BuildKafkaConf(options_.kafka, spec);
    if (!conf.ok()) return conf.status();
    std::string err;
    producer_.reset(RdKafka::Producer::create(conf->get(), err));
    if (producer_ == nullptr) return Status::InvalidArgument("kafka sink: " + err);
    fatal_ = false;
    ++stats_.producers;
    return Status::Ok();
  }

  Status Send(uint64_t id, const OutRecord& record) override {
    if (fatal_) {
      // Collect the failed reports of the old producer before replacing it.
      producer_->poll(0);
      if (in_flight_ > 0) return Status::TryAgain("kafka sink: replacing a failed producer");
      ZICHT_RETURN_IF_ERROR(NewProducer());
    }
    RdKafka::Headers* headers = nullptr;
    if (!record.headers.empty()) {
      headers = RdKafka::Headers::create();
      for (const auto& [name, value] : record.headers)
        headers->add(name, value.data(), value.size());
    }
    RdKafka::ErrorCode rc =
        producer_->produce(options_.topic, RdKafka::Topic::PARTITION_UA,
                           RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(record.value.data()),
                           record.value.size(), record.key.empty() ? nullptr : record.key.data(),
                           record.key.size(), 0, headers, IdToOpaque(id));
    if (rc != RdKafka::ERR_NO_ERROR) {
      delete headers;      // librdkafka owns them only on success
      producer_->poll(0);  // serve delivery reports: frees queue space
      if (rc == RdKafka::ERR__QUEUE_FULL) {
        ++stats_.queue_full;
        return Status::TryAgain(fmt::format("kafka sink {}: local queue full ({} records)",
                                            options_.topic, in_flight_));
      }
      if (rc == RdKafka::ERR__FATAL) fatal_ = true;
      return kafka_internal::KafkaErrorStatus(
          rc, fmt::format("kafka sink {}: record {} ({} bytes)", options_.topic, id,
                          record.value.size()));
    }
    ++in_flight_;
    ++stats_.sent;
    return Status::Ok();
  }

  Status Flush(std::vector<uint64_t>* acked, std::chrono::milliseconds timeout) override {
    if (in_flight_ > 0) {
      (void)producer_->flush(
          kafka_internal::TimeoutMs(timeout));  // timeout: the rest stays in flight
    } else {
      producer_->poll(0);
    }
    if (bridge_->fatal()) fatal_ = true;
    acked->insert(acked->end(), acked_.begin(), acked_.end());
    acked_.clear();
    if (failures_.empty()) return Status::Ok();
    const Failure& first = failures_.front();
    std::string message = fmt::format("kafka sink {}: record {} not delivered: {}", options_.topic,
                                      first.id, first.reason);
    if (failures_.size() > 1) message += fmt::format(" (and {} more)", failures_.size() - 1);
    Status s = kafka_internal::KafkaErrorStatus(first.code, "");
    failures_.clear();
    return Status(s.code(), std::move(message));
  }

  KafkaSinkStats Stats() const override {
    KafkaSinkStats s = stats_;
    s.errors = bridge_->errors();
    s.last_error = bridge_->last_error();
    return s;
  }

  int64_t InFlight() const override { return in_flight_; }

  std::vector<uint64_t> TakeFailedIds() override {
    std::vector<uint64_t> out;
    out.swap(failed_ids_);
    return out;
  }

  // Called from poll/flush on the caller's thread.
  void dr_cb(RdKafka::Message& message) override {
    --in_flight_;
    const uint64_t id = OpaqueToId(message.msg_opaque());
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      acked_.push_back(id);
      ++stats_.acked;
      return;
    }
    if (message.err() == RdKafka::ERR__FATAL) fatal_ = true;
    ++stats_.failed;
    failed_ids_.push_back(id);
    failures_.push_back({id, message.err(), message.errstr()});
  }

 private:
  struct Failure {
    uint64_t id;
    RdKafka::ErrorCode code;
    std::string reason;
  };

  void DropProducer() {
    if (producer_ == nullptr) return;
    // Unacknowledged records stay in the caller's outbox; do not wait for them.
    (void)producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    producer_->poll(0);
    producer_.reset();
    in_flight_ = 0;
  }

  KafkaSinkOptions options_;
  std::unique_ptr<EventBridge> bridge_;  // outlives producer_
  std::unique_ptr<RdKafka::Producer> producer_;
  int64_t in_flight_ = 0;
  bool fatal_ = false;
  std::vector<uint64_t> acked_;
  std::vector<uint64_t> failed_ids_;
  std::vector<Failure> failures_;
  KafkaSinkStats stats_;
};

}  // namespace

Status KafkaSinkOptions::Validate() const {
  ZICHT_RETURN_IF_ERROR(kafka.Validate());
  if (topic.empty()) return Status::InvalidArgument("kafka sink: topic is empty");
  if (max_queued_records < 1) {
    return Status::InvalidArgument("kafka sink: max_queued_records must be at least 1");
  }
  return Status::Ok();
}

Result<std::unique_ptr<KafkaSink>> KafkaSink::Open(const KafkaSinkOptions& options) {
  ZICHT_RETURN_IF_ERROR(options.Validate());
  auto sink = std::make_unique<KafkaSinkImpl>(options);
  ZICHT_RETURN_IF_ERROR(sink->NewProducer());
  return std::unique_ptr<KafkaSink>(std::move(sink));
}

}  // namespace zicht::connectors
