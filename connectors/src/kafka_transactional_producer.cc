#include "zicht/connectors/kafka_transactional_producer.h"

#include <fmt/format.h>

#include <thread>

#include "kafka_common.h"
#include "zicht/connectors/kafka_conf.h"

namespace zicht::connectors {
namespace {

using kafka_internal::ErrorPtr;
using kafka_internal::EventBridge;
using Clock = std::chrono::steady_clock;

bool IsFencedCode(RdKafka::ErrorCode code) {
  return code == RdKafka::ERR__FENCED || code == RdKafka::ERR_PRODUCER_FENCED ||
         code == RdKafka::ERR_INVALID_PRODUCER_EPOCH ||
         code == RdKafka::ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
}

class KafkaTransactionalProducerImpl final : public KafkaTransactionalProducer,
                                             public RdKafka::DeliveryReportCb {
 public:
  explicit KafkaTransactionalProducerImpl(KafkaTransactionalProducerOptions options)
      : options_(std::move(options)), bridge_(std::make_unique<EventBridge>(options_.kafka.log)) {}

  ~KafkaTransactionalProducerImpl() override {
    if (producer_ != nullptr && in_txn_ && !fatal_) {
      // Do not leave the transaction open until transaction_timeout.
      ErrorPtr e(producer_->abort_transaction(kafka_internal::TimeoutMs(std::chrono::seconds(5))));
    }
  }

  Status Start() {
    KafkaConfSpec spec;
    spec.defaults = {
        {"linger.ms", std::to_string(options_.linger.count())},
        {"compression.type", options_.compression},
        {"partitioner", "murmur2_random"},
    };
    spec.managed = {
        {"transactional.id", options_.transactional_id},
        {"transaction.timeout.ms", std::to_string(options_.transaction_timeout.count())},
        {"enable.idempotence", "true"},
        {"acks", "all"},
    };
    spec.managed_hint = "use KafkaTransactionalProducerOptions";
    spec.event_cb = bridge_.get();
    spec.dr_cb = this;
    Result<std::unique_ptr<RdKafka::Conf>> conf = BuildKafkaConf(options_.kafka, spec);
    if (!conf.ok()) return conf.status();
    std::string err;
    producer_.reset(RdKafka::Producer::create(conf->get(), err));
    if (producer_ == nullptr) {
      return Status::InvalidArgument("kafka transactional producer: " + err);
    }
    // Retriable errors (coordinator loading, broker not up yet) are retried
    // until operation_timeout.
    const Clock::time_point deadline = Clock::now() + options_.operation_timeout;
    while (true) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      ErrorPtr e(producer_->init_transactions(kafka_internal::TimeoutMs(left)));
      if (e == nullptr) return Status::Ok();
      if (!e->is_retriable() || Clock::now() >= deadline) return Classify("init transactions", e);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  Status Begin() override {
    if (fatal_) return FatalStatus("begin");
    ErrorPtr e(producer_->begin_transaction());
    if (e != nullptr) return Classify("begin transaction", e);
    in_txn_ = true;
    delivery_failure_.clear();
    return Status::Ok();
  }

  Status Produce(const std::string& topic, int32_t partition, std::string_view key,
                 std::optional<std::string_view> value,
                 const std::vector<Header>& headers) override {
    if (fatal_) return FatalStatus("produce");
    if (!in_txn_)
      return Status::Internal("kafka transactional producer: produce outside a transaction");
    const Clock::time_point deadline = Clock::now() + options_.operation_timeout;
    while (true) {
      RdKafka::Headers* h = nullptr;
      if (!headers.empty()) {
        h = RdKafka::Headers::create();
        for (const auto& [name, v] : headers) h->add(name, v.data(), v.size());
      }
      RdKafka::ErrorCode rc = producer_->produce(
          topic, partition < 0 ? RdKafka::Topic::PARTITION_UA : partition,
          RdKafka::Producer::RK_MSG_COPY, value ? const_cast<char*>(value->data()) : nullptr,
          value ? value->size() : 0, key.empty() ? nullptr : key.data(), key.size(), 0, h, nullptr);
      if (rc == RdKafka::ERR_NO_ERROR) return Status::Ok();
      delete h;  // owned by librdkafka only on success
      if (rc == RdKafka::ERR__QUEUE_FULL && Clock::now() < deadline) {
        producer_->poll(10);  // wait for deliveries to make room
        continue;
      }
      if (rc == RdKafka::ERR__FATAL) return MarkFatal("produce", rc);
      if (rc == RdKafka::ERR__STATE) {
        // The transaction went into an abortable state (a delivery failed).
        return Status::Aborted(fmt::format(
            "kafka transactional producer {}: produce to {}: transaction must be aborted: {}",
            options_.transactional_id, topic, RdKafka::err2str(rc)));
      }
      return kafka_internal::KafkaErrorStatus(
          rc, fmt::format("kafka transactional producer {}: produce to {}/{}",
                          options_.transactional_id, topic, partition));
    }
  }

  Status Flush() override {
    if (fatal_) return FatalStatus("flush");
    RdKafka::ErrorCode rc = producer_->flush(kafka_internal::TimeoutMs(options_.operation_timeout));
    if (rc == RdKafka::ERR__FATAL) return MarkFatal("flush", rc);
    if (rc != RdKafka::ERR_NO_ERROR) {
      return kafka_internal::KafkaErrorStatus(
          rc, fmt::format("kafka transactional producer {}: flush", options_.transactional_id));
    }
    if (!delivery_failure_.empty()) {
      return Status::Aborted(fmt::format("kafka transactional producer {}: {} (abort and retry)",
                                         options_.transactional_id, delivery_failure_));
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (fatal_) return FatalStatus("commit");
    ErrorPtr e(
        producer_->commit_transaction(kafka_internal::TimeoutMs(options_.operation_timeout)));
    if (e != nullptr) return Classify("commit transaction", e);
    in_txn_ = false;
    ++committed_;
    return Status::Ok();
  }

  Status Abort() override {
    if (fatal_) return FatalStatus("abort");
    ErrorPtr e(producer_->abort_transaction(kafka_internal::TimeoutMs(options_.operation_timeout)));
    if (e != nullptr) return Classify("abort transaction", e);
    in_txn_ = false;
    ++aborted_;
    return Status::Ok();
  }

  bool in_transaction() const override { return in_txn_; }
  bool fenced() const override { return fenced_; }
  int64_t committed() const override { return committed_; }
  int64_t aborted() const override { return aborted_; }

  void dr_cb(RdKafka::Message& message) override {
    if (message.err() != RdKafka::ERR_NO_ERROR && delivery_failure_.empty()) {
      delivery_failure_ =
          fmt::format("{}/{}: {}", message.topic_name(), message.partition(), message.errstr());
    }
  }

 private:
  Status Classify(const char* what, const ErrorPtr& e) {
    std::string detail = e->str();
    if (!delivery_failure_.empty()) detail += " (first failed record: " + delivery_failure_ + ")";
    const std::string message = fmt::format("kafka transactional producer {}: {}: {}",
                                            options_.transactional_id, what, detail);
    if (e->is_fatal() || IsFencedCode(e->code())) {
      fatal_ = true;
      fenced_ = IsFencedCode(e->code());
      std::string reason;
      if (producer_->fatal_error(reason) != RdKafka::ERR_NO_ERROR && !reason.empty()) {
        fenced_ = fenced_ || reason.find("fenced") != std::string::npos;
      }
      return Status::IoError(message + " (fatal" + (fenced_ ? ", fenced" : "") + ")");
    }
    if (e->txn_requires_abort()) return Status::Aborted(message + " (abort and retry)");
    if (e->is_retriable()) return Status::TryAgain(message + " (retriable)");
    if (e->code() == RdKafka::ERR__STATE) return Status::Internal(message);
    return Status::IoError(message);
  }

  Status MarkFatal(const char* what, RdKafka::ErrorCode rc) {
    fatal_ = true;
    std::string reason;
    RdKafka::ErrorCode code = producer_->fatal_error(reason);
    fenced_ = IsFencedCode(code);
    return Status::IoError(fmt::format("kafka transactional producer {}: {}: {}: {} (fatal{})",
                                       options_.transactional_id, what, RdKafka::err2str(rc),
                                       reason, fenced_ ? ", fenced" : ""));
  }

  Status FatalStatus(const char* what) const {
    return Status::IoError(fmt::format(
        "kafka transactional producer {}: {}: producer is unusable{}", options_.transactional_id,
        what, fenced_ ? " (fenced by a newer instance)" : ""));
  }

  KafkaTransactionalProducerOptions options_;
  std::unique_ptr<EventBridge> bridge_;  // outlives producer_
  std::unique_ptr<RdKafka::Producer> producer_;
  bool in_txn_ = false;
  bool fatal_ = false;
  bool fenced_ = false;
  int64_t committed_ = 0;
  int64_t aborted_ = 0;
  std::string delivery_failure_;
};

}  // namespace

Status KafkaTransactionalProducerOptions::Validate() const {
  ZICHT_RETURN_IF_ERROR(kafka.Validate());
  if (transactional_id.empty()) {
    return Status::InvalidArgument("kafka transactional producer: transactional_id is empty");
  }
  return Status::Ok();
}

Result<std::unique_ptr<KafkaTransactionalProducer>> KafkaTransactionalProducer::Open(
    const KafkaTransactionalProducerOptions& options) {
  ZICHT_RETURN_IF_ERROR(options.Validate());
  auto producer = std::make_unique<KafkaTransactionalProducerImpl>(options);
  ZICHT_RETURN_IF_ERROR(producer->Start());
  return std::unique_ptr<KafkaTransactionalProducer>(std::move(producer));
}

}  // namespace zicht::connectors
