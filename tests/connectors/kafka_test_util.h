// Helpers for the Kafka connector tests: broker address, topics made with
// KafkaAdmin, bulk producing and draining a source.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kafka_env.h"  // tests/integration: KafkaBootstrap, UniqueTopicName
#include "zicht/connectors/kafka_admin.h"
#include "zicht/connectors/kafka_sink.h"
#include "zicht/connectors/kafka_source.h"

namespace zicht::connectors::testing {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

inline KafkaOptions TestKafkaOptions(const std::string& bootstrap) {
  KafkaOptions o;
  o.bootstrap_servers = bootstrap;
  o.client_id = "zicht-connector-test";
  return o;
}

// The broker address, failing the test (never skipping) when there is none.
#define ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(var)                            \
  auto var##_result = ::zicht::integration::KafkaBootstrap();         \
  ASSERT_TRUE(var##_result.ok()) << var##_result.status().ToString(); \
  const std::string var = *var##_result

// Creates a topic with a unique name and returns it.
inline std::string NewTopic(const std::string& bootstrap, const std::string& prefix,
                            int32_t partitions, std::map<std::string, std::string> configs = {}) {
  auto admin = KafkaAdmin::Open(TestKafkaOptions(bootstrap));
  EXPECT_TRUE(admin.ok()) << admin.status().ToString();
  if (!admin.ok()) return {};
  KafkaTopicSpec spec;
  spec.name = integration::UniqueTopicName(prefix);
  spec.partitions = partitions;
  spec.configs = std::move(configs);
  Status s = (*admin)->CreateTopic(spec);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return spec.name;
}

// Calls `read` until it returns at least `n` records (or 10 s passed) and
// returns the last result. After a transaction's Commit() the markers reach
// the partitions a moment later; until then a read_committed reader ends at
// the last stable offset, before the transaction.
template <typename Read>
auto ReadAtLeast(size_t n, Read read) {
  auto out = read();
  for (int attempt = 1; attempt < 50 && out.size() < n; ++attempt) {
    std::this_thread::sleep_for(milliseconds(200));
    out = read();
  }
  return out;
}

// Sends records through a KafkaSink and waits until all are acknowledged.
inline void ProduceAll(const std::string& bootstrap, const std::string& topic,
                       const std::vector<OutRecord>& records,
                       const std::map<std::string, std::string>& properties = {}) {
  KafkaSinkOptions options;
  options.kafka = TestKafkaOptions(bootstrap);
  for (const auto& [k, v] : properties) options.kafka.properties[k] = v;
  options.topic = topic;
  auto sink = KafkaSink::Open(options);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  std::vector<uint64_t> acked;
  for (size_t i = 0; i < records.size(); ++i) {
    Status s = (*sink)->Send(i, records[i]);
    while (s.code() == StatusCode::kTryAgain) {
      ASSERT_TRUE((*sink)->Flush(&acked, milliseconds(100)).ok());
      s = (*sink)->Send(i, records[i]);
    }
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (acked.size() < records.size() && Clock::now() < deadline) {
    Status s = (*sink)->Flush(&acked, milliseconds(1000));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ASSERT_EQ(acked.size(), records.size());
}

// Keyed records "k<i>" -> "v<i>".
inline std::vector<OutRecord> NumberedRecords(int first, int count, const std::string& tag = "v") {
  std::vector<OutRecord> out;
  for (int i = first; i < first + count; ++i) {
    out.push_back({"k" + std::to_string(i), tag + std::to_string(i), {}});
  }
  return out;
}

// A record as received: owned copies of the views.
struct Got {
  int32_t partition;
  int64_t offset;
  std::string key;
  std::string value;
};

// Polls until `count` records arrived or `timeout` passed.
inline std::vector<Got> Drain(KafkaSource& source, size_t count,
                              milliseconds timeout = milliseconds(30000)) {
  std::vector<Got> got;
  std::vector<SourceRecord> batch;
  const auto deadline = Clock::now() + timeout;
  while (got.size() < count && Clock::now() < deadline) {
    Status s = source.Poll(&batch, milliseconds(200));
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) break;
    for (const SourceRecord& r : batch) {
      got.push_back({r.partition, r.offset, std::string(r.key), std::string(r.payload)});
    }
  }
  return got;
}

}  // namespace zicht::connectors::testing
