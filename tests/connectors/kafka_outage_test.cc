// Broker crash mid-stream: a KafkaSource keeps consuming and a KafkaSink keeps
// sending while the broker is killed (SIGKILL) and restarted; nothing is lost,
// nothing is read or written twice, and the outage shows in the counters.
//
// The test runs its OWN broker (scripts/kafka with ZICHT_KAFKA_DIR set to a
// directory in the build tree), so killing it cannot disturb the tests that
// share the fixture broker.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "kafka_test_util.h"
#include "zicht/connectors/kafka_source.h"
#include "zicht/connectors/kafka_topic_reader.h"

namespace zicht::connectors {
namespace {

using namespace testing;  // NOLINT: test helpers

const std::string kBrokerDir = std::string(ZICHT_BINARY_DIR) + "/kafka-outage-test";

// Runs scripts/kafka against this test's broker dir; returns the exit code.
int BrokerScript(const std::string& args) {
  const std::string command = "ZICHT_KAFKA_DIR='" + kBrokerDir + "' '" +
                              std::string(ZICHT_SOURCE_DIR) + "/scripts/kafka' " + args + " >>'" +
                              kBrokerDir + "-script.log' 2>&1";
  return std::system(command.c_str());
}

// Starts the broker for this test and stops it at the end, also on failure.
class OwnBroker {
 public:
  OwnBroker() {
    if (BrokerScript("start") != 0) return;
    std::ifstream in(kBrokerDir + "/bootstrap");
    std::getline(in, bootstrap_);
  }
  ~OwnBroker() { (void)BrokerScript("stop"); }
  const std::string& bootstrap() const { return bootstrap_; }

 private:
  std::string bootstrap_;
};

// Positions survive in the listener (as the engine keeps them in RocksDB).
class PositionKeepingListener : public RebalanceListener {
 public:
  Result<std::map<int32_t, int64_t>> OnAssigned(const std::vector<int32_t>& partitions) override {
    std::map<int32_t, int64_t> starts;
    for (int32_t p : partitions) {
      auto it = next.find(p);
      starts[p] = it != next.end() ? it->second : kKafkaOffsetBeginning;
    }
    ++assignments;
    return starts;
  }
  void OnRevoked(const std::vector<int32_t>&, bool lost) override { lost_any = lost_any || lost; }
  std::map<int32_t, int64_t> next;
  int assignments = 0;
  bool lost_any = false;
};

TEST(KafkaOutageTest, SourceAndSinkSurviveABrokerCrash) {
  OwnBroker broker;
  ASSERT_FALSE(broker.bootstrap().empty())
      << "scripts/kafka start failed; see " << kBrokerDir << "-script.log";
  const std::string bootstrap = broker.bootstrap();
  const std::string topic = NewTopic(bootstrap, "zicht-outage", 2);
  ASSERT_FALSE(topic.empty());
  ProduceAll(bootstrap, topic, NumberedRecords(0, 2000));

  PositionKeepingListener listener;
  KafkaSourceOptions so;
  so.kafka = TestKafkaOptions(bootstrap);
  so.kafka.log = [](KafkaLogLevel, std::string_view, std::string_view) {};  // outage noise
  so.topic = topic;
  so.group_id = integration::UniqueTopicName("zicht-outage-group");
  so.session_timeout = milliseconds(10000);
  so.max_batch_records = 50;
  auto source = KafkaSource::Open(so, &listener);
  ASSERT_TRUE(source.ok()) << source.status().ToString();

  KafkaSinkOptions ko;
  ko.kafka = so.kafka;
  ko.topic = topic;
  auto sink = KafkaSink::Open(ko);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();

  std::map<std::pair<int32_t, int64_t>, std::string> seen;
  int duplicates = 0;
  std::vector<SourceRecord> batch;
  auto poll = [&] {
    Status s = (*source)->Poll(&batch, milliseconds(50));
    ASSERT_TRUE(s.ok()) << s.ToString();  // outages are not errors of Poll
    for (const SourceRecord& r : batch) {
      if (!seen.emplace(std::make_pair(r.partition, r.offset), std::string(r.payload)).second) {
        ++duplicates;
      }
      listener.next[r.partition] = r.next_offset;
    }
  };
  while (seen.size() < 500) poll();

  // Crash and restart the broker while consuming and sending.
  std::atomic<int> restart_rc{-1};
  std::thread restarter([&] { restart_rc = BrokerScript("restart --kill"); });
  std::vector<uint64_t> acked;
  uint64_t next_id = 2000;
  const auto deadline = Clock::now() + std::chrono::seconds(90);
  while ((restart_rc.load() < 0 || seen.size() < 3000 || acked.size() < 1000) &&
         Clock::now() < deadline) {
    if (next_id < 3000) {
      OutRecord r{"k" + std::to_string(next_id), "v" + std::to_string(next_id), {}};
      Status s = (*sink)->Send(next_id, r);
      if (s.ok()) ++next_id;
      ASSERT_TRUE(s.ok() || s.code() == StatusCode::kTryAgain) << s.ToString();
    }
    Status f = (*sink)->Flush(&acked, milliseconds(0));
    ASSERT_TRUE(f.ok()) << f.ToString();
    poll();
  }
  restarter.join();
  ASSERT_EQ(restart_rc.load(), 0) << "scripts/kafka restart --kill failed";
  EXPECT_EQ(acked.size(), 1000u);
  EXPECT_EQ(std::set<uint64_t>(acked.begin(), acked.end()).size(), 1000u);
  EXPECT_EQ(seen.size(), 3000u);
  EXPECT_EQ(duplicates, 0);
  // The idempotent producer wrote each record once despite retries.
  std::set<std::string> values;
  for (const auto& [where, value] : seen) values.insert(value);
  EXPECT_EQ(values.size(), 3000u);
  auto admin = KafkaAdmin::Open(so.kafka);
  ASSERT_TRUE(admin.ok());
  auto ends = (*admin)->EndOffsets(topic);
  ASSERT_TRUE(ends.ok()) << ends.status().ToString();
  EXPECT_EQ(ends->at(0) + ends->at(1), 3000);
  // The outage was noticed and survived.
  EXPECT_GT((*source)->Stats().errors, 0);
  EXPECT_GT((*sink)->Stats().errors, 0);
  std::fprintf(stderr, "outage: source errors %lld (last: %s), sink errors %lld, assignments %d\n",
               static_cast<long long>((*source)->Stats().errors),
               (*source)->Stats().last_error.c_str(),
               static_cast<long long>((*sink)->Stats().errors), listener.assignments);
  EXPECT_TRUE((*source)->Close().ok());
}

}  // namespace
}  // namespace zicht::connectors
