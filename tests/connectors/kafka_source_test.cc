// KafkaSource against the real broker: records and their positions, start
// offsets from the listener, pause/resume, seek, lag, offsets kept out of Kafka.
#include "zicht/connectors/kafka_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "kafka_test_util.h"
#include "zicht/base/hash.h"
#include "zicht/connectors/kafka_topic_reader.h"

namespace zicht::connectors {
namespace {

using namespace testing;  // NOLINT: test helpers

TimeMs NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Records what the source reports and answers with preset start offsets.
class RecordingListener : public RebalanceListener {
 public:
  Result<std::map<int32_t, int64_t>> OnAssigned(const std::vector<int32_t>& partitions) override {
    assigned.insert(assigned.end(), partitions.begin(), partitions.end());
    if (!fail_with.ok()) return fail_with;
    return starts;
  }
  void OnRevoked(const std::vector<int32_t>& partitions, bool lost) override {
    revoked.insert(revoked.end(), partitions.begin(), partitions.end());
    any_lost = any_lost || lost;
  }
  std::map<int32_t, int64_t> starts;
  Status fail_with;
  std::vector<int32_t> assigned, revoked;
  bool any_lost = false;
};

KafkaSourceOptions SourceOptions(const std::string& bootstrap, const std::string& topic) {
  KafkaSourceOptions o;
  o.kafka = TestKafkaOptions(bootstrap);
  o.topic = topic;
  o.group_id = integration::UniqueTopicName("zicht-source-test-group");
  o.session_timeout = milliseconds(6000);
  return o;
}

class KafkaSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = integration::KafkaBootstrap();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    bootstrap_ = *b;
  }
  std::string bootstrap_;
};

TEST_F(KafkaSourceTest, DeliversKeysPayloadsPositionsAndBrokerTime) {
  const std::string topic = NewTopic(bootstrap_, "zicht-source-rt", 1);
  const TimeMs before = NowMs();
  std::vector<OutRecord> sent;
  for (int i = 0; i < 50; ++i) {
    sent.push_back({"GM0" + std::to_string(300 + i),
                    R"({"type":"drug_finding","id":"pol-)" + std::to_string(i) + R"("})",
                    {}});
  }
  ProduceAll(bootstrap_, topic, sent);
  const TimeMs after = NowMs();

  RecordingListener listener;
  auto source = KafkaSource::Open(SourceOptions(bootstrap_, topic), &listener);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  std::vector<SourceRecord> batch;
  std::vector<SourceRecord> all;  // views checked right after each Poll
  size_t n = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (n < sent.size() && Clock::now() < deadline) {
    ASSERT_TRUE((*source)->Poll(&batch, milliseconds(200)).ok());
    for (const SourceRecord& r : batch) {
      ASSERT_LT(n, sent.size());
      SCOPED_TRACE(n);
      EXPECT_EQ(r.key, sent[n].key);
      EXPECT_EQ(r.payload, sent[n].value);
      EXPECT_EQ(r.partition, 0);
      EXPECT_EQ(r.offset, static_cast<int64_t>(n));
      EXPECT_EQ(r.next_offset, r.offset + 1);
      EXPECT_EQ(r.line, 0);
      EXPECT_FALSE(r.padded);
      EXPECT_GE(r.ingest_time, before);  // the producer's create time, kept by the broker
      EXPECT_LE(r.ingest_time, after);
      EXPECT_EQ((*source)->Describe(r), topic + "/0/" + std::to_string(n));
      ++n;
    }
  }
  EXPECT_EQ(n, sent.size());
  EXPECT_EQ(listener.assigned, std::vector<int32_t>{0});
  EXPECT_EQ((*source)->Assignment(), std::vector<int32_t>{0});
  KafkaSourceStats stats = (*source)->Stats();
  EXPECT_EQ(stats.records, 50);
  EXPECT_EQ(stats.assigned, 1);

  ASSERT_TRUE((*source)->Close().ok());
  EXPECT_EQ(listener.revoked, std::vector<int32_t>{0});
  EXPECT_FALSE(listener.any_lost);
  EXPECT_EQ((*source)->Poll(&batch, milliseconds(10)).code(), StatusCode::kAborted);
}

TEST_F(KafkaSourceTest, HeadersOfDeadLettersReachKafkaAsHeaders) {
  const std::string topic = NewTopic(bootstrap_, "zicht-source-headers", 1);
  OutRecord dead;
  dead.value =
      std::string("{\"amount_eur\":\"x\"") + "\xff}";  // original bytes, invalid UTF-8 kept
  dead.headers = {{std::string(kReasonHeader), "bad_type"},
                  {std::string(kDetailHeader), "amount_eur: expected number"},
                  {std::string(kSourceHeader), "zicht.events/3/1234"}};
  ProduceAll(bootstrap_, topic, {dead});

  KafkaTopicReaderOptions ro;
  ro.kafka = TestKafkaOptions(bootstrap_);
  ro.topic = topic;
  ro.read_headers = true;
  auto reader = KafkaTopicReader::Open(ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<std::vector<Header>> got;
  auto end = (*reader)->ReadToEnd(
      [&](const KafkaTopicRecord& r) {
        got.push_back(r.headers);
        EXPECT_EQ(r.value.value_or(""), dead.value);
        EXPECT_TRUE(r.key.empty());
        return Status::Ok();
      },
      milliseconds(30000));
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], dead.headers);
}

TEST_F(KafkaSourceTest, StartsWhereTheListenerSays) {
  const std::string topic = NewTopic(bootstrap_, "zicht-source-start", 3);
  // Keys spread over the 3 partitions; count per partition from murmur2.
  std::vector<OutRecord> sent = NumberedRecords(0, 90);
  std::map<int32_t, int64_t> per_partition;
  for (const OutRecord& r : sent) ++per_partition[KafkaPartitionForKey(r.key, 3)];
  ProduceAll(bootstrap_, topic, sent);

  RecordingListener listener;
  listener.starts = {{0, 4}, {1, kKafkaOffsetEnd}};  // 2: absent = stored = earliest here
  auto source = KafkaSource::Open(SourceOptions(bootstrap_, topic), &listener);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  const size_t expected = static_cast<size_t>(per_partition[0] - 4 + per_partition[2]);
  std::vector<Got> got = Drain(**source, expected);
  // Nothing more arrives (partition 1 starts at its end).
  std::vector<Got> extra = Drain(**source, 1, milliseconds(1500));
  EXPECT_TRUE(extra.empty());
  ASSERT_EQ(got.size(), expected);
  std::map<int32_t, std::vector<int64_t>> offsets;
  for (const Got& g : got) offsets[g.partition].push_back(g.offset);
  ASSERT_EQ(offsets[0].size(), static_cast<size_t>(per_partition[0] - 4));
  EXPECT_EQ(offsets[0].front(), 4);
  EXPECT_EQ(offsets[1].size(), 0u);
  EXPECT_EQ(offsets[2].front(), 0);
  std::vector<int32_t> assigned = listener.assigned;
  std::sort(assigned.begin(), assigned.end());
  EXPECT_EQ(assigned, (std::vector<int32_t>{0, 1, 2}));
}

TEST_F(KafkaSourceTest, PausedPartitionsWaitAndResumeWhereTheyStopped) {
  const std::string topic = NewTopic(bootstrap_, "zicht-source-pause", 2);
  std::vector<OutRecord> sent = NumberedRecords(0, 40);
  std::map<int32_t, int64_t> per_partition;
  for (const OutRecord& r : sent) ++per_partition[KafkaPartitionForKey(r.key, 2)];
  ASSERT_GT(per_partition[0], 0);
  ASSERT_GT(per_partition[1], 0);
  ProduceAll(bootstrap_, topic, sent);

  RecordingListener listener;
  KafkaSourceOptions options = SourceOptions(bootstrap_, topic);
  options.max_batch_records = 3;
  auto source = KafkaSource::Open(options, &listener);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  // Read a little of partition 1, then hold it back.
  std::vector<Got> first;
  std::vector<SourceRecord> batch;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  int64_t next1 = 0;
  while (next1 == 0 && Clock::now() < deadline) {
    ASSERT_TRUE((*source)->Poll(&batch, milliseconds(200)).ok());
    for (const SourceRecord& r : batch) {
      first.push_back({r.partition, r.offset, std::string(r.key), std::string(r.payload)});
      if (r.partition == 1) next1 = r.next_offset;
    }
  }
  ASSERT_GT(next1, 0);
  ASSERT_TRUE((*source)->Pause({1}).ok());
  std::vector<Got> while_paused =
      Drain(**source, static_cast<size_t>(per_partition[0]), milliseconds(3000));
  for (const Got& g : while_paused) EXPECT_EQ(g.partition, 0) << "offset " << g.offset;
  std::vector<PartitionLag> lag = (*source)->Lag();
  ASSERT_EQ(lag.size(), 2u);
  EXPECT_FALSE(lag[0].paused);
  EXPECT_TRUE(lag[1].paused);

  ASSERT_TRUE((*source)->Resume({1}).ok());
  std::vector<Got> rest = Drain(**source, static_cast<size_t>(per_partition[1] - next1));
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.front().partition, 1);
  EXPECT_EQ(rest.front().offset, next1);  // nothing skipped, nothing repeated
  std::set<std::pair<int32_t, int64_t>> seen;
  for (const auto* part : {&first, &while_paused, &rest}) {
    for (const Got& g : *part) EXPECT_TRUE(seen.insert({g.partition, g.offset}).second);
  }
  EXPECT_EQ(seen.size(), sent.size());
}

TEST_F(KafkaSourceTest, SeekRereadsAndLagCountsWhatIsLeft) {
  const std::string topic = NewTopic(bootstrap_, "zicht-source-seek", 1);
  ProduceAll(bootstrap_, topic, NumberedRecords(0, 100));
  RecordingListener listener;
  KafkaSourceOptions options = SourceOptions(bootstrap_, topic);
  options.max_batch_records = 1;
  auto source = KafkaSource::Open(options, &listener);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  std::vector<Got> got = Drain(**source, 40);
  ASSERT_EQ(got.size(), 40u);
  EXPECT_EQ(got.back().offset, 39);
  std::vector<PartitionLag> lag = (*source)->Lag();
  ASSERT_EQ(lag.size(), 1u);
  EXPECT_EQ(lag[0].partition, 0);
  EXPECT_EQ(lag[0].position, 40);
  EXPECT_EQ(lag[0].high_watermark, 100);
  EXPECT_EQ(lag[0].lag, 60);

  ASSERT_TRUE((*source)->Seek(0, 10).ok());
  std::vector<Got> again = Drain(**source, 5);
  ASSERT_EQ(again.size(), 5u);
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].offset, static_cast<int64_t>(10 + i));
    EXPECT_EQ(again[i].value, "v" + std::to_string(10 + i));
  }
  EXPECT_EQ((*source)->Seek(7, 0).code(), StatusCode::kInvalidArgument);  // not assigned
}

TEST_F(KafkaSourceTest, OffsetsAreNotCommittedToKafkaUnlessAsked) {
  const std::string topic = NewTopic(bootstrap_, "zicht-source-commit", 1);
  ProduceAll(bootstrap_, topic, NumberedRecords(0, 20));
  KafkaSourceOptions options = SourceOptions(bootstrap_, topic);

  {  // Reads everything; commits nothing (the default).
    RecordingListener listener;
    auto source = KafkaSource::Open(options, &listener);
    ASSERT_TRUE(source.ok());
    ASSERT_EQ(Drain(**source, 20).size(), 20u);
    ASSERT_TRUE((*source)->CommitOffsets({{0, 20}}).ok());  // a no-op without the option
    ASSERT_TRUE((*source)->Close().ok());
  }
  {  // Stored offset: none in Kafka, so earliest. This one commits 15.
    RecordingListener listener;
    options.commit_offsets_to_kafka = true;
    auto source = KafkaSource::Open(options, &listener);
    ASSERT_TRUE(source.ok());
    std::vector<Got> got = Drain(**source, 20);
    ASSERT_EQ(got.size(), 20u);
    EXPECT_EQ(got.front().offset, 0);
    ASSERT_TRUE((*source)->CommitOffsets({{0, 15}}).ok());
    ASSERT_TRUE((*source)->Close().ok());  // close waits for the asynchronous commit
  }
  {  // Now the group has offset 15 in Kafka.
    RecordingListener listener;
    auto source = KafkaSource::Open(options, &listener);
    ASSERT_TRUE(source.ok());
    std::vector<Got> got = Drain(**source, 5);
    ASSERT_EQ(got.size(), 5u);
    EXPECT_EQ(got.front().offset, 15);
  }
}

TEST_F(KafkaSourceTest, ListenerFailureIsReportedAndNothingIsDelivered) {
  const std::string topic = NewTopic(bootstrap_, "zicht-source-listener-fail", 1);
  ProduceAll(bootstrap_, topic, NumberedRecords(0, 5));
  RecordingListener listener;
  listener.fail_with = Status::Corruption("state of partition 0 cannot be restored");
  auto source = KafkaSource::Open(SourceOptions(bootstrap_, topic), &listener);
  ASSERT_TRUE(source.ok());
  std::vector<SourceRecord> batch;
  Status s;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  size_t delivered = 0;
  while (s.ok() && Clock::now() < deadline) {
    s = (*source)->Poll(&batch, milliseconds(200));
    delivered += batch.size();
  }
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_EQ(delivered, 0u);
  EXPECT_EQ((*source)->Poll(&batch, milliseconds(10)).code(), StatusCode::kCorruption);
  EXPECT_TRUE((*source)->Close().ok());
}

TEST_F(KafkaSourceTest, ManagedPropertiesAreRejected) {
  KafkaSourceOptions options = SourceOptions(bootstrap_, "unused");
  options.kafka.properties = {{"enable.auto.commit", "true"}};
  auto source = KafkaSource::Open(options, nullptr);
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(source.status().message().find("enable.auto.commit"), std::string::npos);

  options.kafka.properties = {{"partition.assignment.strategy", "range"}};
  EXPECT_EQ(KafkaSource::Open(options, nullptr).status().code(), StatusCode::kInvalidArgument);
  options.kafka.properties = {};
  options.topic = "";
  EXPECT_EQ(KafkaSource::Open(options, nullptr).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace zicht::connectors
