#include "zicht/connectors/kafka_admin.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <array>
#include <thread>

#include "kafka_common.h"
#include "zicht/connectors/kafka_conf.h"

namespace zicht::connectors {
namespace {

using kafka_internal::EventBridge;
using Clock = std::chrono::steady_clock;

template <typename T, void (*Destroy)(T*)>
struct CDeleter {
  void operator()(T* p) const {
    if (p != nullptr) Destroy(p);
  }
};
using AdminOptionsPtr =
    std::unique_ptr<rd_kafka_AdminOptions_t,
                    CDeleter<rd_kafka_AdminOptions_t, rd_kafka_AdminOptions_destroy>>;
using QueuePtr =
    std::unique_ptr<rd_kafka_queue_t, CDeleter<rd_kafka_queue_t, rd_kafka_queue_destroy>>;
using EventPtr =
    std::unique_ptr<rd_kafka_event_t, CDeleter<rd_kafka_event_t, rd_kafka_event_destroy>>;
using NewTopicPtr =
    std::unique_ptr<rd_kafka_NewTopic_t, CDeleter<rd_kafka_NewTopic_t, rd_kafka_NewTopic_destroy>>;
using DeleteTopicPtr =
    std::unique_ptr<rd_kafka_DeleteTopic_t,
                    CDeleter<rd_kafka_DeleteTopic_t, rd_kafka_DeleteTopic_destroy>>;

class KafkaAdminImpl final : public KafkaAdmin {
 public:
  KafkaAdminImpl(KafkaOptions options, std::chrono::milliseconds timeout)
      : options_(std::move(options)),
        timeout_(timeout),
        bridge_(std::make_unique<EventBridge>(options_.log)) {}

  Status Start() {
    KafkaConfSpec spec;
    spec.event_cb = bridge_.get();
    Result<std::unique_ptr<RdKafka::Conf>> conf = BuildKafkaConf(options_, spec);
    if (!conf.ok()) return conf.status();
    std::string err;
    // A producer handle that never produces: the Admin API needs a handle.
    handle_.reset(RdKafka::Producer::create(conf->get(), err));
    if (handle_ == nullptr) return Status::InvalidArgument("kafka admin: " + err);
    return Status::Ok();
  }

  Status CreateTopic(const KafkaTopicSpec& spec) override {
    if (spec.name.empty()) return Status::InvalidArgument("kafka admin: topic name is empty");
    if (spec.partitions < 1) {
      return Status::InvalidArgument(
          fmt::format("kafka admin: topic {}: partitions must be at least 1", spec.name));
    }
    std::array<char, 512> err{};
    NewTopicPtr topic(rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions,
                                            spec.replication_factor, err.data(), err.size()));
    if (topic == nullptr) {
      return Status::InvalidArgument(
          fmt::format("kafka admin: topic {}: {}", spec.name, err.data()));
    }
    for (const auto& [key, value] : spec.configs) {
      if (rd_kafka_NewTopic_set_config(topic.get(), key.c_str(), value.c_str()) !=
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Status::InvalidArgument(
            fmt::format("kafka admin: topic {}: bad config {}={}", spec.name, key, value));
      }
    }
    Result<AdminOptionsPtr> options = MakeOptions(RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (!options.ok()) return options.status();
    QueuePtr queue(rd_kafka_queue_new(rk()));
    rd_kafka_NewTopic_t* topics[] = {topic.get()};
    rd_kafka_CreateTopics(rk(), topics, 1, options->get(), queue.get());
    Result<EventPtr> event = Wait(queue.get(), "create topic " + spec.name);
    if (!event.ok()) return event.status();
    size_t count = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(
        rd_kafka_event_CreateTopics_result(event->get()), &count);
    if (count != 1) return Status::Internal("kafka admin: CreateTopics returned no topic result");
    const rd_kafka_resp_err_t code = rd_kafka_topic_result_error(results[0]);
    const char* why = rd_kafka_topic_result_error_string(results[0]);
    const std::string detail = why != nullptr ? why : rd_kafka_err2str(code);
    if (code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      // Another client may have created it a moment ago (instances starting
      // together): until the metadata reaches this broker connection the
      // topic "exists" but is not described yet.
      const Clock::time_point deadline = Clock::now() + timeout_;
      Result<int32_t> existing = PartitionCount(spec.name);
      while (!existing.ok() && existing.status().code() == StatusCode::kNotFound &&
             Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        existing = PartitionCount(spec.name);
      }
      if (!existing.ok()) return existing.status();
      if (*existing != spec.partitions) {
        return Status::InvalidArgument(fmt::format(
            "kafka admin: topic {} exists with {} partitions, configured for {}; zicht partitions "
            "by key, so the counts must match (recreate the topic or change the configuration)",
            spec.name, *existing, spec.partitions));
      }
      return WaitForLeaders(spec.name, spec.partitions);
    }
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Status s = kafka_internal::KafkaErrorStatus(static_cast<RdKafka::ErrorCode>(code), "");
      if (code == RD_KAFKA_RESP_ERR_POLICY_VIOLATION) s = Status::InvalidArgument("");
      return Status(s.code(), fmt::format("kafka admin: create topic {}: {}", spec.name, detail));
    }
    return WaitForLeaders(spec.name, spec.partitions);
  }

  Result<int32_t> PartitionCount(const std::string& topic) override {
    Result<std::vector<int32_t>> ids =
        kafka_internal::TopicPartitionIds(handle_.get(), topic, timeout_);
    if (!ids.ok()) return ids.status();
    return static_cast<int32_t>(ids->size());
  }

  Status DeleteTopic(const std::string& topic) override {
    DeleteTopicPtr del(rd_kafka_DeleteTopic_new(topic.c_str()));
    Result<AdminOptionsPtr> options = MakeOptions(RD_KAFKA_ADMIN_OP_DELETETOPICS);
    if (!options.ok()) return options.status();
    QueuePtr queue(rd_kafka_queue_new(rk()));
    rd_kafka_DeleteTopic_t* topics[] = {del.get()};
    rd_kafka_DeleteTopics(rk(), topics, 1, options->get(), queue.get());
    Result<EventPtr> event = Wait(queue.get(), "delete topic " + topic);
    if (!event.ok()) return event.status();
    size_t count = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_DeleteTopics_result_topics(
        rd_kafka_event_DeleteTopics_result(event->get()), &count);
    if (count != 1) return Status::Internal("kafka admin: DeleteTopics returned no topic result");
    const rd_kafka_resp_err_t code = rd_kafka_topic_result_error(results[0]);
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
    return kafka_internal::KafkaErrorStatus(static_cast<RdKafka::ErrorCode>(code),
                                            "kafka admin: delete topic " + topic);
  }

  Result<std::map<int32_t, int64_t>> EndOffsets(const std::string& topic) override {
    Result<std::vector<int32_t>> ids =
        kafka_internal::TopicPartitionIds(handle_.get(), topic, timeout_);
    if (!ids.ok()) return ids.status();
    std::map<int32_t, int64_t> out;
    for (int32_t p : *ids) {
      int64_t low = 0, high = 0;
      RdKafka::ErrorCode rc = handle_->query_watermark_offsets(topic, p, &low, &high,
                                                               kafka_internal::TimeoutMs(timeout_));
      if (rc != RdKafka::ERR_NO_ERROR) {
        return kafka_internal::KafkaErrorStatus(
            rc, fmt::format("kafka admin: end offset of {}/{}", topic, p));
      }
      out[p] = high;
    }
    return out;
  }

 private:
  rd_kafka_t* rk() { return handle_->c_ptr(); }

  Result<AdminOptionsPtr> MakeOptions(rd_kafka_admin_op_t op) {
    AdminOptionsPtr options(rd_kafka_AdminOptions_new(rk(), op));
    std::array<char, 512> err{};
    const int ms = kafka_internal::TimeoutMs(timeout_);
    // The operation timeout makes the broker answer once the change is done.
    if (rd_kafka_AdminOptions_set_operation_timeout(options.get(), ms, err.data(), err.size()) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_AdminOptions_set_request_timeout(options.get(), ms, err.data(), err.size()) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::InvalidArgument(std::string("kafka admin: ") + err.data());
    }
    return options;
  }

  Result<EventPtr> Wait(rd_kafka_queue_t* queue, const std::string& what) {
    EventPtr event(rd_kafka_queue_poll(queue, kafka_internal::TimeoutMs(timeout_) + 5000));
    if (event == nullptr) {
      return Status::TryAgain(fmt::format("kafka admin: {}: no answer from {} within {} ms", what,
                                          options_.bootstrap_servers, timeout_.count()));
    }
    if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Status s = kafka_internal::KafkaErrorStatus(
          static_cast<RdKafka::ErrorCode>(rd_kafka_event_error(event.get())), "");
      return Status(s.code(), fmt::format("kafka admin: {}: {}", what,
                                          rd_kafka_event_error_string(event.get())));
    }
    return event;
  }

  // Whether every partition's leader answers ListOffsets (it says "not
  // leader" for a moment after the metadata already names it).
  bool OffsetsAnswer(const std::string& topic, int32_t partitions) {
    for (int32_t p = 0; p < partitions; ++p) {
      int64_t low = 0, high = 0;
      if (handle_->query_watermark_offsets(topic, p, &low, &high,
                                           kafka_internal::TimeoutMs(timeout_)) !=
          RdKafka::ERR_NO_ERROR) {
        return false;
      }
    }
    return true;
  }

  // Metadata reaches every broker shortly after the controller created the
  // topic; producing before that fails with unknown partition.
  Status WaitForLeaders(const std::string& topic, int32_t partitions) {
    const Clock::time_point deadline = Clock::now() + timeout_;
    std::string last;
    while (Clock::now() < deadline) {
      RdKafka::Metadata* raw = nullptr;
      RdKafka::ErrorCode rc =
          handle_->metadata(true, nullptr, &raw, kafka_internal::TimeoutMs(timeout_));
      std::unique_ptr<RdKafka::Metadata> metadata(raw);
      if (rc == RdKafka::ERR_NO_ERROR) {
        for (const RdKafka::TopicMetadata* t : *metadata->topics()) {
          if (t->topic() != topic || t->err() != RdKafka::ERR_NO_ERROR) continue;
          int32_t ready = 0;
          for (const RdKafka::PartitionMetadata* p : *t->partitions()) {
            if (p->err() == RdKafka::ERR_NO_ERROR && p->leader() >= 0) ++ready;
          }
          if (ready == partitions && OffsetsAnswer(topic, partitions)) return Status::Ok();
          last = fmt::format("{} of {} partitions have a leader", ready, partitions);
        }
      } else {
        last = RdKafka::err2str(rc);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return Status::TryAgain(
        fmt::format("kafka admin: topic {} created but not ready within {} ms ({})", topic,
                    timeout_.count(), last));
  }

  KafkaOptions options_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<EventBridge> bridge_;  // outlives handle_
  std::unique_ptr<RdKafka::Producer> handle_;
};

}  // namespace

Result<std::unique_ptr<KafkaAdmin>> KafkaAdmin::Open(const KafkaOptions& options,
                                                     std::chrono::milliseconds timeout) {
  ZICHT_RETURN_IF_ERROR(options.Validate());
  auto admin = std::make_unique<KafkaAdminImpl>(options, timeout);
  ZICHT_RETURN_IF_ERROR(admin->Start());
  return std::unique_ptr<KafkaAdmin>(std::move(admin));
}

}  // namespace zicht::connectors
