// KafkaSink against the real broker: every id acknowledged once and written
// once, back-pressure, a permanent failure named by its record, and zicht's
// murmur2 partitioning matching Java's.
#include "zicht/connectors/kafka_sink.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "kafka_test_util.h"
#include "zicht/base/hash.h"
#include "zicht/connectors/kafka_topic_reader.h"
#include "zicht/connectors/kafka_transactional_producer.h"

namespace zicht::connectors {
namespace {

using namespace testing;  // NOLINT: test helpers

struct Read {
  int32_t partition;
  int64_t offset;
  std::string key;
  std::string value;
};

std::vector<Read> ReadAll(const std::string& bootstrap, const std::string& topic) {
  KafkaTopicReaderOptions ro;
  ro.kafka = TestKafkaOptions(bootstrap);
  ro.topic = topic;
  auto reader = KafkaTopicReader::Open(ro);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<Read> out;
  if (!reader.ok()) return out;
  auto end = (*reader)->ReadToEnd(
      [&](const KafkaTopicRecord& r) {
        out.push_back(
            {r.partition, r.offset, std::string(r.key), std::string(r.value.value_or(""))});
        return Status::Ok();
      },
      milliseconds(30000));
  EXPECT_TRUE(end.ok()) << end.status().ToString();
  return out;
}

KafkaSinkOptions SinkOptions(const std::string& bootstrap, const std::string& topic) {
  KafkaSinkOptions o;
  o.kafka = TestKafkaOptions(bootstrap);
  o.topic = topic;
  return o;
}

TEST(KafkaSinkTest, EveryIdIsAcknowledgedOnceAndWrittenOnce) {
  ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(bootstrap);
  const std::string topic = NewTopic(bootstrap, "zicht-sink-acks", 3);
  auto sink = KafkaSink::Open(SinkOptions(bootstrap, topic));
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  std::vector<uint64_t> acked;
  const uint64_t base = 1000000;  // ids are opaque to the sink
  for (uint64_t i = 0; i < 500; ++i) {
    OutRecord r{"GM" + std::to_string(1000 + i % 40),
                "alert-" + std::to_string(i),
                {{"n", std::to_string(i)}}};
    ASSERT_TRUE((*sink)->Send(base + i, r).ok());
  }
  EXPECT_GT((*sink)->InFlight(), 0);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (acked.size() < 500 && Clock::now() < deadline) {
    ASSERT_TRUE((*sink)->Flush(&acked, milliseconds(1000)).ok());
  }
  std::set<uint64_t> unique(acked.begin(), acked.end());
  EXPECT_EQ(acked.size(), 500u);
  EXPECT_EQ(unique.size(), 500u);
  EXPECT_EQ(*unique.begin(), base);
  EXPECT_EQ(*unique.rbegin(), base + 499);
  EXPECT_EQ((*sink)->InFlight(), 0);
  std::vector<uint64_t> none;
  ASSERT_TRUE((*sink)->Flush(&none, milliseconds(10)).ok());
  EXPECT_TRUE(none.empty()) << "ids are reported once";
  KafkaSinkStats stats = (*sink)->Stats();
  EXPECT_EQ(stats.sent, 500);
  EXPECT_EQ(stats.acked, 500);
  EXPECT_EQ(stats.failed, 0);

  std::vector<Read> read = ReadAll(bootstrap, topic);
  ASSERT_EQ(read.size(), 500u);
  std::set<std::string> values;
  for (const Read& r : read) values.insert(r.value);
  EXPECT_EQ(values.size(), 500u);  // none twice
}

TEST(KafkaSinkTest, FullQueueAsksToTryAgain) {
  ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(bootstrap);
  const std::string topic = NewTopic(bootstrap, "zicht-sink-full", 1);
  KafkaSinkOptions options = SinkOptions(bootstrap, topic);
  options.max_queued_records = 10;
  options.linger = milliseconds(500);  // the ten stay queued while we send the eleventh
  auto sink = KafkaSink::Open(options);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE((*sink)->Send(i, {"k", "v", {}}).ok()) << i;
  Status full = (*sink)->Send(10, {"k", "v", {}});
  EXPECT_EQ(full.code(), StatusCode::kTryAgain) << full.ToString();
  std::vector<uint64_t> acked;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (acked.size() < 10 && Clock::now() < deadline) {
    ASSERT_TRUE((*sink)->Flush(&acked, milliseconds(1000)).ok());
  }
  EXPECT_EQ(acked.size(), 10u);
  EXPECT_TRUE((*sink)->Send(10, {"k", "v", {}}).ok());  // room again
  EXPECT_EQ((*sink)->Stats().queue_full, 1);
}

TEST(KafkaSinkTest, ARecordTheBrokerRejectsIsNamedAndNotAcknowledged) {
  ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(bootstrap);
  const std::string topic =
      NewTopic(bootstrap, "zicht-sink-reject", 1, {{"max.message.bytes", "2000"}});
  auto sink = KafkaSink::Open(SinkOptions(bootstrap, topic));
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  // Sent alone (its own batch) so only it is rejected.
  ASSERT_TRUE((*sink)->Send(7, {"k", "small", {}}).ok());
  std::vector<uint64_t> acked;
  ASSERT_TRUE((*sink)->Flush(&acked, milliseconds(10000)).ok());
  std::string big(50000, '\0');  // incompressible: lz4 must not shrink it below the limit
  uint64_t x = 88172645463325252ull;
  for (char& c : big) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  ASSERT_TRUE((*sink)->Send(42, {"k", big, {}}).ok());
  Status s = (*sink)->Flush(&acked, milliseconds(10000));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("record 42"), std::string::npos) << s.ToString();
  EXPECT_EQ(acked, std::vector<uint64_t>{7});
  EXPECT_EQ((*sink)->TakeFailedIds(), std::vector<uint64_t>{42});
  EXPECT_TRUE((*sink)->TakeFailedIds().empty());
  // The sink keeps working.
  ASSERT_TRUE((*sink)->Send(8, {"k", "after", {}}).ok());
  acked.clear();
  ASSERT_TRUE((*sink)->Flush(&acked, milliseconds(10000)).ok());
  EXPECT_EQ(acked, std::vector<uint64_t>{8});
}

TEST(KafkaSinkTest, IdempotenceAndAcksCannotBeTurnedOff) {
  KafkaSinkOptions options = SinkOptions("127.0.0.1:1", "t");
  options.kafka.properties = {{"enable.idempotence", "false"}};
  EXPECT_EQ(KafkaSink::Open(options).status().code(), StatusCode::kInvalidArgument);
  options.kafka.properties = {{"acks", "1"}};
  EXPECT_EQ(KafkaSink::Open(options).status().code(), StatusCode::kInvalidArgument);
  options.kafka.properties = {};
  options.topic = "";
  EXPECT_EQ(KafkaSink::Open(options).status().code(), StatusCode::kInvalidArgument);
}

// Producers keyed by municipality must agree with the engine's ownership
// (zicht::KafkaPartitionForKey) and with Java producers.
TEST(KafkaPartitionerTest, MunicipalityKeysLandWhereKafkaPartitionForKeySays) {
  ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(bootstrap);
  const int32_t partitions = 6;
  const std::string topic = NewTopic(bootstrap, "zicht-partitioner", partitions);
  // Java's Utils.toPositive(Utils.murmur2(key)) % 6 (see kafka_murmur2_test.cc).
  const std::map<std::string, int32_t> java = {{"GM0363", 5}, {"GM0599", 5}, {"GM0344", 0},
                                               {"GM0855", 5}, {"GM0014", 2}, {"GM1680", 0}};
  std::vector<OutRecord> records;
  for (const auto& [key, p] : java) records.push_back({key, "sink:" + key, {}});
  ProduceAll(bootstrap, topic, records);
  // The transactional producer (changelog, national totals) partitions by key too.
  KafkaTransactionalProducerOptions to;
  to.kafka = TestKafkaOptions(bootstrap);
  to.transactional_id = integration::UniqueTopicName("zicht-partitioner-txn");
  auto txn = KafkaTransactionalProducer::Open(to);
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  ASSERT_TRUE((*txn)->Begin().ok());
  for (const auto& [key, p] : java) {
    ASSERT_TRUE((*txn)->Produce(topic, -1, key, std::string_view("txn:" + key)).ok());
  }
  ASSERT_TRUE((*txn)->Commit().ok());

  // Commit() returns once the coordinator has decided; the commit markers
  // reach the partitions a moment later, and until then the last stable
  // offset (where a read_committed reader ends) stops before them.
  std::vector<Read> read = ReadAtLeast(2 * java.size(), [&] { return ReadAll(bootstrap, topic); });
  ASSERT_EQ(read.size(), 2 * java.size());
  for (const Read& r : read) {
    SCOPED_TRACE(r.value);
    EXPECT_EQ(r.partition, KafkaPartitionForKey(r.key, partitions));
    EXPECT_EQ(r.partition, java.at(r.key));
  }
}

}  // namespace
}  // namespace zicht::connectors
