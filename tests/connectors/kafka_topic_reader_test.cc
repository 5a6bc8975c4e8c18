// KafkaTopicReader and KafkaAdmin against the real broker: restoring a
// compacted topic to its end, reading from given offsets and partitions,
// following new records, and idempotent topic creation.
#include "zicht/connectors/kafka_topic_reader.h"

#include <gtest/gtest.h>

#include <map>

#include "kafka_test_util.h"
#include "zicht/connectors/kafka_admin.h"

namespace zicht::connectors {
namespace {

using namespace testing;  // NOLINT: test helpers

KafkaTopicReaderOptions ReaderOptions(const std::string& bootstrap, const std::string& topic) {
  KafkaTopicReaderOptions o;
  o.kafka = TestKafkaOptions(bootstrap);
  o.topic = topic;
  return o;
}

TEST(KafkaTopicReaderTest, RestoresTheLatestValuePerKeyUpToTheEnd) {
  ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(bootstrap);
  const std::string topic =
      NewTopic(bootstrap, "zicht-restore", 3, {{"cleanup.policy", "compact"}});
  // Three versions of 100 keys: the restored state is the last of each.
  std::vector<OutRecord> records;
  for (int version = 0; version < 3; ++version) {
    for (int k = 0; k < 100; ++k) {
      records.push_back({"key" + std::to_string(k), "v" + std::to_string(version), {}});
    }
  }
  ProduceAll(bootstrap, topic, records);

  auto reader = KafkaTopicReader::Open(ReaderOptions(bootstrap, topic));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->partitions(), (std::vector<int32_t>{0, 1, 2}));
  int64_t total_end = 0;
  for (const auto& [p, end] : (*reader)->end_offsets()) total_end += end;
  EXPECT_EQ(total_end, 300);
  std::map<std::string, std::string> state;
  std::map<int32_t, int64_t> last_offset;
  auto positions = (*reader)->ReadToEnd(
      [&](const KafkaTopicRecord& r) {
        auto it = last_offset.find(r.partition);
        EXPECT_TRUE(it == last_offset.end() || r.offset > it->second) << "offset order";
        last_offset[r.partition] = r.offset;
        state[std::string(r.key)] = std::string(r.value.value_or(""));
        return Status::Ok();
      },
      milliseconds(30000));
  ASSERT_TRUE(positions.ok()) << positions.status().ToString();
  EXPECT_EQ(*positions, (*reader)->end_offsets());
  ASSERT_EQ(state.size(), 100u);
  for (const auto& [key, value] : state) EXPECT_EQ(value, "v2") << key;
  EXPECT_EQ((*reader)->Stats().records, 300);

  // Follow mode: what arrives later is delivered by Poll.
  ProduceAll(bootstrap, topic, {{"key7", "v3", {}}, {"key8", "v3", {}}});
  size_t followed = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (followed < 2 && Clock::now() < deadline) {
    auto n = (*reader)->Poll(
        [&](const KafkaTopicRecord& r) {
          state[std::string(r.key)] = std::string(r.value.value_or(""));
          return Status::Ok();
        },
        milliseconds(200));
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    followed += *n;
  }
  EXPECT_EQ(followed, 2u);
  EXPECT_EQ(state["key7"], "v3");
  EXPECT_EQ(state["key8"], "v3");
}

TEST(KafkaTopicReaderTest, ReadsGivenPartitionsFromGivenOffsets) {
  ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(bootstrap);
  const std::string topic = NewTopic(bootstrap, "zicht-reader-from", 2);
  ProduceAll(bootstrap, topic, NumberedRecords(0, 200));
  KafkaTopicReaderOptions options = ReaderOptions(bootstrap, topic);
  options.partitions = {1};
  options.start_offsets = {{1, 30}};
  auto reader = KafkaTopicReader::Open(options);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  const int64_t end = (*reader)->end_offsets().at(1);
  ASSERT_GT(end, 30);
  EXPECT_EQ((*reader)->end_offsets().count(0), 0u);
  std::vector<int64_t> offsets;
  auto positions = (*reader)->ReadToEnd(
      [&](const KafkaTopicRecord& r) {
        EXPECT_EQ(r.partition, 1);
        offsets.push_back(r.offset);
        return Status::Ok();
      },
      milliseconds(30000));
  ASSERT_TRUE(positions.ok()) << positions.status().ToString();
  ASSERT_EQ(offsets.size(), static_cast<size_t>(end - 30));
  EXPECT_EQ(offsets.front(), 30);
  EXPECT_EQ(offsets.back(), end - 1);
  EXPECT_EQ(positions->at(1), end);
}

TEST(KafkaTopicReaderTest, ACallbackErrorStopsAndTheRecordComesAgain) {
  ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(bootstrap);
  const std::string topic = NewTopic(bootstrap, "zicht-reader-error", 1);
  ProduceAll(bootstrap, topic, NumberedRecords(0, 10));
  auto reader = KafkaTopicReader::Open(ReaderOptions(bootstrap, topic));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<int64_t> offsets;
  bool fail_once = true;
  auto fn = [&](const KafkaTopicRecord& r) {
    if (r.offset == 4 && fail_once) {
      fail_once = false;
      return Status::Corruption("cannot decode state row");
    }
    offsets.push_back(r.offset);
    return Status::Ok();
  };
  auto first = (*reader)->ReadToEnd(fn, milliseconds(30000));
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), StatusCode::kCorruption);
  EXPECT_EQ((*reader)->positions().at(0), 4);
  auto second = (*reader)->ReadToEnd(fn, milliseconds(30000));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

// The national topic's settings (KafkaRuntime): a snapshot of neighbourhood
// indicators can pass Kafka's default 1 MB; with max.message.bytes on the
// topic and message.max.bytes on the producer a 3 MB record goes through, and
// a reader with default fetch sizes reads it whole.
TEST(KafkaTopicReaderTest, ARecordOfSeveralMegabytesRoundTrips) {
  ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(bootstrap);
  const std::string size = std::to_string(16 << 20);
  const std::string topic = NewTopic(bootstrap, "zicht-large", 1,
                                     {{"cleanup.policy", "compact"}, {"max.message.bytes", size}});
  std::string value(3 << 20, '\0');
  uint64_t x = 88172645463325252ull;  // xorshift: incompressible, as lz4 would shrink zeros
  for (char& c : value) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  ProduceAll(bootstrap, topic, {{"big", value, {}}}, {{"message.max.bytes", size}});
  auto reader = KafkaTopicReader::Open(ReaderOptions(bootstrap, topic));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::string got;
  auto read = (*reader)->ReadToEnd(
      [&](const KafkaTopicRecord& r) {
        if (r.value) got.assign(*r.value);
        return Status::Ok();
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(got.size(), value.size());
  EXPECT_TRUE(got == value);
}

TEST(KafkaTopicReaderTest, EmptyTopicsAndMissingOnes) {
  ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(bootstrap);
  const std::string topic = NewTopic(bootstrap, "zicht-reader-empty", 4);
  auto reader = KafkaTopicReader::Open(ReaderOptions(bootstrap, topic));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto positions = (*reader)->ReadToEnd(
      [](const KafkaTopicRecord&) { return Status::Internal("no record expected"); },
      milliseconds(5000));
  ASSERT_TRUE(positions.ok()) << positions.status().ToString();
  EXPECT_EQ(*positions, (std::map<int32_t, int64_t>{{0, 0}, {1, 0}, {2, 0}, {3, 0}}));

  auto missing =
      KafkaTopicReader::Open(ReaderOptions(bootstrap, integration::UniqueTopicName("zicht-nope")));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  KafkaTopicReaderOptions bad_partition = ReaderOptions(bootstrap, topic);
  bad_partition.partitions = {9};
  EXPECT_EQ(KafkaTopicReader::Open(bad_partition).status().code(), StatusCode::kNotFound);
}

TEST(KafkaAdminTest, CreatesIdempotentlyDescribesAndDeletes) {
  ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(bootstrap);
  auto admin = KafkaAdmin::Open(TestKafkaOptions(bootstrap));
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  KafkaTopicSpec spec;
  spec.name = integration::UniqueTopicName("zicht.test.national");
  spec.partitions = 6;
  spec.configs = {
      {"cleanup.policy", "compact"}, {"min.compaction.lag.ms", "60000"}, {"segment.ms", "3600000"}};
  ASSERT_TRUE((*admin)->CreateTopic(spec).ok());
  auto count = (*admin)->PartitionCount(spec.name);
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 6);
  EXPECT_TRUE((*admin)->CreateTopic(spec).ok()) << "exists with the same count: fine";

  KafkaTopicSpec other = spec;
  other.partitions = 3;
  Status mismatch = (*admin)->CreateTopic(other);
  EXPECT_EQ(mismatch.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.message().find("6 partitions"), std::string::npos) << mismatch.ToString();

  // Ready to use as soon as CreateTopic returns.
  ProduceAll(bootstrap, spec.name, NumberedRecords(0, 12));
  auto ends = (*admin)->EndOffsets(spec.name);
  ASSERT_TRUE(ends.ok()) << ends.status().ToString();
  ASSERT_EQ(ends->size(), 6u);
  int64_t total = 0;
  for (const auto& [p, end] : *ends) total += end;
  EXPECT_EQ(total, 12);

  ASSERT_TRUE((*admin)->DeleteTopic(spec.name).ok());
  Status gone;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  do {
    gone = (*admin)->PartitionCount(spec.name).status();
  } while (gone.ok() && Clock::now() < deadline);
  EXPECT_EQ(gone.code(), StatusCode::kNotFound) << gone.ToString();
  EXPECT_EQ((*admin)->DeleteTopic(spec.name).code(), StatusCode::kNotFound);
}

TEST(KafkaAdminTest, BadTopicSettingsAreInvalidArguments) {
  ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(bootstrap);
  auto admin = KafkaAdmin::Open(TestKafkaOptions(bootstrap));
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  KafkaTopicSpec spec;
  spec.name = integration::UniqueTopicName("zicht-bad-config");
  spec.configs = {{"cleanup.policy", "sometimes"}};
  Status s = (*admin)->CreateTopic(spec);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(spec.name), std::string::npos);
  spec.configs = {};
  spec.replication_factor = 3;  // one broker
  s = (*admin)->CreateTopic(spec);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  spec.replication_factor = -1;
  spec.partitions = 0;
  EXPECT_EQ((*admin)->CreateTopic(spec).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*admin)->PartitionCount(integration::UniqueTopicName("zicht-nope")).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace zicht::connectors
