// KafkaTransactionalProducer against the real broker: committed batches are
// visible to read_committed readers, aborted and open ones are not, and a
// newer producer with the same transactional id fences the older one.
#include <gtest/gtest.h>

#include "kafka_test_util.h"
#include "zicht/connectors/kafka_topic_reader.h"
#include "zicht/connectors/kafka_transactional_producer.h"

namespace zicht::connectors {
namespace {

using namespace testing;  // NOLINT: test helpers

struct Entry {
  int32_t partition;
  std::string key;
  std::optional<std::string> value;
  std::vector<Header> headers;
};

std::vector<Entry> ReadTopic(const std::string& bootstrap, const std::string& topic,
                             bool read_committed) {
  KafkaTopicReaderOptions ro;
  ro.kafka = TestKafkaOptions(bootstrap);
  ro.topic = topic;
  ro.read_committed = read_committed;
  ro.read_headers = true;
  auto reader = KafkaTopicReader::Open(ro);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<Entry> out;
  if (!reader.ok()) return out;
  auto end = (*reader)->ReadToEnd(
      [&](const KafkaTopicRecord& r) {
        out.push_back({r.partition, std::string(r.key),
                       r.value ? std::optional<std::string>(std::string(*r.value)) : std::nullopt,
                       r.headers});
        return Status::Ok();
      },
      milliseconds(20000));
  EXPECT_TRUE(end.ok()) << end.status().ToString();
  return out;
}

KafkaTransactionalProducerOptions TxnOptions(const std::string& bootstrap, const std::string& id) {
  KafkaTransactionalProducerOptions o;
  o.kafka = TestKafkaOptions(bootstrap);
  o.transactional_id = id;
  o.operation_timeout = milliseconds(20000);
  return o;
}

TEST(KafkaTransactionalProducerTest, CommittedIsVisibleAbortedAndOpenAreNot) {
  ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(bootstrap);
  const std::string topic =
      NewTopic(bootstrap, "zicht-changelog", 2, {{"cleanup.policy", "compact"}});
  auto txn = KafkaTransactionalProducer::Open(
      TxnOptions(bootstrap, integration::UniqueTopicName("zicht-txn")));
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();

  // Commit: a state batch for partition 1 (with a tombstone and a header).
  ASSERT_TRUE((*txn)->Begin().ok());
  EXPECT_TRUE((*txn)->in_transaction());
  ASSERT_TRUE((*txn)->Produce(topic, 1, "w/GM0363/2026-03", std::string_view("12")).ok());
  ASSERT_TRUE((*txn)->Produce(topic, 1, "w/GM0363/2026-02", std::nullopt).ok());
  ASSERT_TRUE((*txn)
                  ->Produce(topic, 1, "pos", std::string_view("1200"), {{"zicht.family", "source"}})
                  .ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_FALSE((*txn)->in_transaction());

  // Abort: never visible to read_committed.
  ASSERT_TRUE((*txn)->Begin().ok());
  ASSERT_TRUE((*txn)->Produce(topic, 1, "w/GM0363/2026-03", std::string_view("999")).ok());
  ASSERT_TRUE((*txn)->Produce(topic, 0, "aborted", std::string_view("x")).ok());
  ASSERT_TRUE((*txn)->Flush().ok());  // on the broker, so the abort marker has work to do
  ASSERT_TRUE((*txn)->Abort().ok());

  // Another commit after the abort.
  ASSERT_TRUE((*txn)->Begin().ok());
  ASSERT_TRUE((*txn)->Produce(topic, 0, "w/GM0014/2026-03", std::string_view("3")).ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_EQ((*txn)->committed(), 2);
  EXPECT_EQ((*txn)->aborted(), 1);

  // Open: a fourth transaction still running while readers read.
  ASSERT_TRUE((*txn)->Begin().ok());
  ASSERT_TRUE((*txn)->Produce(topic, 0, "open", std::string_view("not yet")).ok());
  ASSERT_TRUE((*txn)->Produce(topic, 1, "open", std::string_view("not yet")).ok());
  ASSERT_TRUE((*txn)->Flush().ok());
  std::vector<Entry> uncommitted = ReadTopic(bootstrap, topic, /*read_committed=*/false);
  EXPECT_EQ(uncommitted.size(), 8u);  // 3 + 2 aborted + 1 + 2 open, all in the log

  // read_committed ends at the last stable offset: it neither waits for the
  // open transaction nor shows it.
  std::vector<Entry> committed = ReadTopic(bootstrap, topic, /*read_committed=*/true);
  ASSERT_EQ(committed.size(), 4u);
  std::map<std::string, Entry> by_key;
  for (const Entry& e : committed) by_key[e.key] = e;
  ASSERT_EQ(by_key.size(), 4u);
  EXPECT_EQ(by_key["w/GM0363/2026-03"].value, std::optional<std::string>("12"));
  EXPECT_EQ(by_key["w/GM0363/2026-03"].partition, 1);
  EXPECT_FALSE(by_key["w/GM0363/2026-02"].value.has_value());  // tombstone
  EXPECT_EQ(by_key["pos"].headers, (std::vector<Header>{{"zicht.family", "source"}}));
  EXPECT_EQ(by_key["w/GM0014/2026-03"].value, std::optional<std::string>("3"));
  EXPECT_EQ(by_key.count("aborted"), 0u);
  EXPECT_EQ(by_key.count("open"), 0u);

  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_EQ(ReadAtLeast(6, [&] { return ReadTopic(bootstrap, topic, true); }).size(), 6u);
}

TEST(KafkaTransactionalProducerTest, ANewerProducerFencesTheOlder) {
  ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(bootstrap);
  const std::string topic = NewTopic(bootstrap, "zicht-fence", 1);
  const std::string id = integration::UniqueTopicName("zicht-fence-txn");
  auto old_owner = KafkaTransactionalProducer::Open(TxnOptions(bootstrap, id));
  ASSERT_TRUE(old_owner.ok()) << old_owner.status().ToString();
  ASSERT_TRUE((*old_owner)->Begin().ok());
  ASSERT_TRUE((*old_owner)->Produce(topic, 0, "k", std::string_view("from the old owner")).ok());

  // The partition moved to another instance, which opens the same id: the
  // old owner's open transaction is aborted and the old owner is fenced.
  auto new_owner = KafkaTransactionalProducer::Open(TxnOptions(bootstrap, id));
  ASSERT_TRUE(new_owner.ok()) << new_owner.status().ToString();
  Status s = (*old_owner)->Commit();
  EXPECT_EQ(s.code(), StatusCode::kIoError) << s.ToString();
  EXPECT_TRUE((*old_owner)->fenced()) << s.ToString();
  EXPECT_EQ((*old_owner)->Begin().code(), StatusCode::kIoError);  // unusable from now on

  ASSERT_TRUE((*new_owner)->Begin().ok());
  ASSERT_TRUE((*new_owner)->Produce(topic, 0, "k", std::string_view("from the new owner")).ok());
  ASSERT_TRUE((*new_owner)->Commit().ok());
  std::vector<Entry> read = ReadAtLeast(1, [&] { return ReadTopic(bootstrap, topic, true); });
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].value, std::optional<std::string>("from the new owner"));
}

TEST(KafkaTransactionalProducerTest, CallsOutOfOrderAreReported) {
  ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(bootstrap);
  const std::string topic = NewTopic(bootstrap, "zicht-txn-order", 1);
  auto txn = KafkaTransactionalProducer::Open(
      TxnOptions(bootstrap, integration::UniqueTopicName("zicht-txn-order")));
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  EXPECT_EQ((*txn)->Produce(topic, 0, "k", std::string_view("v")).code(), StatusCode::kInternal);
  Status commit = (*txn)->Commit();
  EXPECT_FALSE(commit.ok());
  EXPECT_NE(commit.code(), StatusCode::kIoError) << "not fatal: " << commit.ToString();
  // Still usable.
  ASSERT_TRUE((*txn)->Begin().ok());
  ASSERT_TRUE((*txn)->Produce(topic, 0, "k", std::string_view("v")).ok());
  ASSERT_TRUE((*txn)->Commit().ok());

  KafkaTransactionalProducerOptions bad = TxnOptions(bootstrap, "");
  EXPECT_EQ(KafkaTransactionalProducer::Open(bad).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace zicht::connectors
