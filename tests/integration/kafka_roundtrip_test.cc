// Round trip through the real test broker: keyed messages with headers out and back via a group.
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kafka_env.h"

namespace zicht::integration {
namespace {

using Clock = std::chrono::steady_clock;

struct Sent {
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t timestamp_ms;
};

struct Received {
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t timestamp_ms;
  RdKafka::MessageTimestamp::MessageTimestampType timestamp_type;
  int32_t partition;
  int64_t offset;
};

struct Delivery {
  RdKafka::ErrorCode err;
  std::string key;
  int32_t partition;
  int64_t offset;
};

class RecordingDeliveryReports : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    deliveries.push_back({message.err(), message.key() != nullptr ? *message.key() : std::string(),
                          message.partition(), message.offset()});
  }
  std::vector<Delivery> deliveries;
};

std::unique_ptr<RdKafka::Conf> GlobalConf() {
  return std::unique_ptr<RdKafka::Conf>(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
}

void Set(RdKafka::Conf& conf, const std::string& name, const std::string& value) {
  std::string err;
  ASSERT_EQ(conf.set(name, value, err), RdKafka::Conf::CONF_OK) << name << ": " << err;
}

class KafkaRoundtripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bootstrap = KafkaBootstrap();
    ASSERT_TRUE(bootstrap.ok()) << bootstrap.status().ToString();
    bootstrap_ = *bootstrap;
  }

  // Produces `messages` with idempotence on (so retries cannot reorder or
  // duplicate) and returns the delivery reports once all are acknowledged.
  std::vector<Delivery> Produce(
      const std::string& topic, const std::vector<Sent>& messages,
      const std::vector<std::pair<std::string, std::string>>& extra = {}) {
    RecordingDeliveryReports reports;
    auto conf = GlobalConf();
    std::string err;
    Set(*conf, "bootstrap.servers", bootstrap_);
    Set(*conf, "enable.idempotence", "true");
    Set(*conf, "message.timeout.ms", "20000");
    for (const auto& [name, value] : extra) Set(*conf, name, value);
    EXPECT_EQ(conf->set("dr_cb", &reports, err), RdKafka::Conf::CONF_OK) << err;
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
    EXPECT_NE(producer, nullptr) << err;
    if (producer == nullptr) return {};

    for (const Sent& m : messages) {
      RdKafka::Headers* headers = RdKafka::Headers::create();
      for (const auto& [name, value] : m.headers) headers->add(name, value);
      std::string value = m.value;  // produce() takes a non-const payload even when copying
      RdKafka::ErrorCode rc = producer->produce(
          topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, value.data(),
          value.size(), m.key.data(), m.key.size(), m.timestamp_ms, headers, nullptr);
      if (rc != RdKafka::ERR_NO_ERROR) {
        delete headers;  // ownership passes to librdkafka only on success
        ADD_FAILURE() << "produce " << m.key << ": " << RdKafka::err2str(rc);
      }
    }
    EXPECT_EQ(producer->flush(30000), RdKafka::ERR_NO_ERROR) << "messages still in flight";
    return reports.deliveries;
  }

  // Reads from `topic` in consumer group `group` until `count` messages have
  // arrived or `timeout` passes, then commits what it read.
  std::vector<Received> Consume(const std::string& topic, const std::string& group, size_t count,
                                std::chrono::seconds timeout = std::chrono::seconds(30)) {
    auto conf = GlobalConf();
    std::string err;
    Set(*conf, "bootstrap.servers", bootstrap_);
    Set(*conf, "group.id", group);
    Set(*conf, "auto.offset.reset", "earliest");
    Set(*conf, "enable.auto.commit", "false");
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(
        RdKafka::KafkaConsumer::create(conf.get(), err));
    EXPECT_NE(consumer, nullptr) << err;
    if (consumer == nullptr) return {};
    EXPECT_EQ(consumer->subscribe({topic}), RdKafka::ERR_NO_ERROR);

    std::vector<Received> received;
    const auto deadline = Clock::now() + timeout;
    while (received.size() < count && Clock::now() < deadline) {
      std::unique_ptr<RdKafka::Message> msg(consumer->consume(500));
      if (msg->err() == RdKafka::ERR__TIMED_OUT) continue;
      if (msg->err() != RdKafka::ERR_NO_ERROR) {
        ADD_FAILURE() << "consume: " << msg->errstr();
        continue;
      }
      Received r;
      r.key = msg->key() != nullptr ? *msg->key() : std::string();
      r.value.assign(static_cast<const char*>(msg->payload()), msg->len());
      if (RdKafka::Headers* headers = msg->headers(); headers != nullptr) {
        for (const RdKafka::Headers::Header& h : headers->get_all()) {
          r.headers.emplace_back(h.key(),
                                 std::string(static_cast<const char*>(h.value()), h.value_size()));
        }
      }
      r.timestamp_ms = msg->timestamp().timestamp;
      r.timestamp_type = msg->timestamp().type;
      r.partition = msg->partition();
      r.offset = msg->offset();
      received.push_back(std::move(r));
    }
    if (!received.empty()) {
      EXPECT_EQ(consumer->commitSync(), RdKafka::ERR_NO_ERROR);
    }
    // The group's committed offset is what a restarted engine resumes from.
    std::vector<RdKafka::TopicPartition*> partitions = {RdKafka::TopicPartition::create(topic, 0)};
    EXPECT_EQ(consumer->committed(partitions, 10000), RdKafka::ERR_NO_ERROR);
    last_committed_ = partitions[0]->offset();
    RdKafka::TopicPartition::destroy(partitions);
    EXPECT_EQ(consumer->close(), RdKafka::ERR_NO_ERROR);
    return received;
  }

  std::string bootstrap_;
  int64_t last_committed_ = RdKafka::Topic::OFFSET_INVALID;
};

std::vector<Sent> Batch(int first, int n) {
  const int64_t base_ms = 1767225600000;  // 2026-01-01T00:00:00Z: event time, not wall clock
  std::vector<Sent> out;
  for (int i = first; i < first + n; ++i) {
    out.push_back({"gm" + std::to_string(300 + i),
                   R"({"type":"transaction","amount":)" + std::to_string(1000 * i) + "}",
                   {{"trace-id", "trace-" + std::to_string(i)}, {"source", "roundtrip-test"}},
                   base_ms + i * 1000});
  }
  return out;
}

TEST_F(KafkaRoundtripTest, KeysValuesHeadersAndOrderSurviveARoundTrip) {
  const std::string topic = UniqueTopicName("zicht-roundtrip");
  Status created = CreateTopic(bootstrap_, {topic, 1, {}});
  ASSERT_TRUE(created.ok()) << created.ToString();

  const std::vector<Sent> sent = Batch(0, 5);
  std::vector<Delivery> deliveries = Produce(topic, sent);
  ASSERT_EQ(deliveries.size(), sent.size());
  for (size_t i = 0; i < deliveries.size(); ++i) {
    EXPECT_EQ(deliveries[i].err, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(deliveries[i].err);
    EXPECT_EQ(deliveries[i].key, sent[i].key);
    EXPECT_EQ(deliveries[i].partition, 0);
    EXPECT_EQ(deliveries[i].offset, static_cast<int64_t>(i));
  }

  const std::string group = UniqueTopicName("zicht-roundtrip-group");
  std::vector<Received> received = Consume(topic, group, sent.size());
  ASSERT_EQ(received.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    SCOPED_TRACE("message " + std::to_string(i));
    EXPECT_EQ(received[i].key, sent[i].key);
    EXPECT_EQ(received[i].value, sent[i].value);
    EXPECT_EQ(received[i].headers, sent[i].headers);
    EXPECT_EQ(received[i].timestamp_ms, sent[i].timestamp_ms);
    EXPECT_EQ(received[i].timestamp_type, RdKafka::MessageTimestamp::MSG_TIMESTAMP_CREATE_TIME);
    EXPECT_EQ(received[i].offset, static_cast<int64_t>(i));
  }
  EXPECT_EQ(last_committed_, static_cast<int64_t>(sent.size()));

  // A new member of the same group resumes after the committed offset: it
  // sees only what was produced since, not the first batch again.
  const std::vector<Sent> more = Batch(5, 2);
  ASSERT_EQ(Produce(topic, more).size(), more.size());
  std::vector<Received> resumed = Consume(topic, group, more.size());
  ASSERT_EQ(resumed.size(), more.size());
  EXPECT_EQ(resumed[0].key, more[0].key);
  EXPECT_EQ(resumed[0].offset, static_cast<int64_t>(sent.size()));
  EXPECT_EQ(resumed[1].value, more[1].value);
  EXPECT_EQ(last_committed_, static_cast<int64_t>(sent.size() + more.size()));
}

// The test broker runs with auto.create.topics.enable=false, so a misspelt
// topic is an error instead of a silently created empty topic.
TEST_F(KafkaRoundtripTest, ProducingToAMissingTopicFails) {
  const std::string topic = UniqueTopicName("zicht-never-created");
  std::vector<Delivery> deliveries =
      Produce(topic, Batch(0, 1), {{"topic.metadata.propagation.max.ms", "2000"}});
  ASSERT_EQ(deliveries.size(), 1u);
  // Unknown topic, not a timeout: a dead broker must not pass this test.
  EXPECT_TRUE(deliveries[0].err == RdKafka::ERR__UNKNOWN_TOPIC ||
              deliveries[0].err == RdKafka::ERR_UNKNOWN_TOPIC_OR_PART)
      << RdKafka::err2str(deliveries[0].err);
}

}  // namespace
}  // namespace zicht::integration
