// Two KafkaSources in one group on a 6-partition topic, driven like two
// engine instances sharing their positions (as a changelog would): the
// cooperative rebalance callbacks name the partitions that move, and across
// a member joining, leaving and rejoining no record is lost or read twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "kafka_test_util.h"
#include "zicht/connectors/kafka_source.h"

namespace zicht::connectors {
namespace {

using namespace testing;  // NOLINT: test helpers

// What the instances share: the committed position per partition (the
// engine keeps it with the state) and every record processed, by whom.
struct SharedState {
  std::map<int32_t, int64_t> next_offset;
  std::map<std::pair<int32_t, int64_t>, std::string> processed;
  int duplicates = 0;
};

class EngineLikeMember : public RebalanceListener {
 public:
  EngineLikeMember(std::string name, SharedState* shared)
      : name_(std::move(name)), shared_(shared) {}

  Result<std::map<int32_t, int64_t>> OnAssigned(const std::vector<int32_t>& partitions) override {
    assigned_calls.push_back(Sorted(partitions));
    std::map<int32_t, int64_t> starts;
    for (int32_t p : partitions) {
      EXPECT_TRUE(owned.insert(p).second) << name_ << " assigned " << p << " twice";
      auto it = shared_->next_offset.find(p);
      starts[p] = it != shared_->next_offset.end() ? it->second : kKafkaOffsetBeginning;
    }
    return starts;
  }
  void OnRevoked(const std::vector<int32_t>& partitions, bool lost) override {
    EXPECT_FALSE(lost) << name_;
    revoked_calls.push_back(Sorted(partitions));
    for (int32_t p : partitions) EXPECT_EQ(owned.erase(p), 1u) << name_ << " revoked " << p;
  }

  // One Poll; every record is "processed" and its position committed at once.
  void PollOnce(KafkaSource& source) {
    std::vector<SourceRecord> batch;
    Status s = source.Poll(&batch, milliseconds(50));
    ASSERT_TRUE(s.ok()) << name_ << ": " << s.ToString();
    for (const SourceRecord& r : batch) {
      EXPECT_EQ(owned.count(r.partition), 1u)
          << name_ << " got a record of unowned " << r.partition;
      auto [it, fresh] = shared_->processed.emplace(std::make_pair(r.partition, r.offset), name_);
      if (!fresh) {
        ++shared_->duplicates;
        ADD_FAILURE() << name_ << " read " << r.partition << "/" << r.offset << " again (first by "
                      << it->second << ")";
      }
      shared_->next_offset[r.partition] = r.next_offset;
    }
  }

  static std::vector<int32_t> Sorted(std::vector<int32_t> v) {
    std::sort(v.begin(), v.end());
    return v;
  }

  std::set<int32_t> owned;
  std::vector<std::vector<int32_t>> assigned_calls;
  std::vector<std::vector<int32_t>> revoked_calls;

 private:
  std::string name_;
  SharedState* shared_;
};

std::vector<int32_t> Flatten(const std::vector<std::vector<int32_t>>& calls, size_t from = 0) {
  std::vector<int32_t> out;
  for (size_t i = from; i < calls.size(); ++i)
    out.insert(out.end(), calls[i].begin(), calls[i].end());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(KafkaGroupTest, CooperativeRebalanceLosesAndRepeatsNothing) {
  ZICHT_KAFKA_BOOTSTRAP_OR_FAIL(bootstrap);
  const std::string topic = NewTopic(bootstrap, "zicht-group", 6);
  KafkaSourceOptions options;
  options.kafka = TestKafkaOptions(bootstrap);
  options.topic = topic;
  options.group_id = integration::UniqueTopicName("zicht-group-test");
  options.session_timeout = milliseconds(6000);
  options.kafka.properties = {
      {"heartbeat.interval.ms", "300"}};  // members notice rebalances sooner
  options.max_batch_records = 25;         // small batches: rebalances land between records
  SharedState shared;
  int produced = 0;
  auto produce = [&](int n) {
    ProduceAll(bootstrap, topic, NumberedRecords(produced, n));
    produced += n;
  };
  const auto all_processed = [&] {
    return shared.processed.size() == static_cast<size_t>(produced);
  };
  const auto deadline = [] { return Clock::now() + std::chrono::seconds(45); };

  // A alone: all six partitions.
  EngineLikeMember a("A", &shared);
  auto source_a = KafkaSource::Open(options, &a);
  ASSERT_TRUE(source_a.ok()) << source_a.status().ToString();
  produce(300);
  for (auto end = deadline(); !all_processed() && Clock::now() < end;) a.PollOnce(**source_a);
  ASSERT_TRUE(all_processed()) << shared.processed.size() << " of " << produced;
  ASSERT_EQ(a.owned.size(), 6u);
  EXPECT_TRUE(a.revoked_calls.empty());

  // B joins with records still coming: A gives up some partitions (only
  // those: cooperative), B gets exactly them.
  EngineLikeMember b("B", &shared);
  auto source_b = KafkaSource::Open(options, &b);
  ASSERT_TRUE(source_b.ok()) << source_b.status().ToString();
  produce(300);
  for (auto end = deadline();
       (b.owned.size() != 3 || a.owned.size() != 3 || !all_processed()) && Clock::now() < end;) {
    a.PollOnce(**source_a);
    b.PollOnce(**source_b);
  }
  ASSERT_EQ(a.owned.size(), 3u);
  ASSERT_EQ(b.owned.size(), 3u);
  ASSERT_EQ(a.assigned_calls.size(), 1u) << "cooperative: A keeps its other partitions";
  EXPECT_EQ(Flatten(a.revoked_calls), Flatten(b.assigned_calls));
  EXPECT_EQ((*source_a)->Assignment(), std::vector<int32_t>(a.owned.begin(), a.owned.end()));
  EXPECT_EQ((*source_b)->Assignment(), std::vector<int32_t>(b.owned.begin(), b.owned.end()));
  ASSERT_TRUE(all_processed()) << shared.processed.size() << " of " << produced;

  // A leaves: B takes over A's partitions from the positions A committed.
  const std::vector<int32_t> a_had(a.owned.begin(), a.owned.end());
  const size_t b_assign_calls = b.assigned_calls.size();
  produce(300);
  ASSERT_TRUE((*source_a)->Close().ok());
  EXPECT_TRUE(a.owned.empty());
  for (auto end = deadline(); (b.owned.size() != 6 || !all_processed()) && Clock::now() < end;) {
    b.PollOnce(**source_b);
  }
  ASSERT_EQ(b.owned.size(), 6u);
  EXPECT_EQ(Flatten(b.assigned_calls, b_assign_calls), a_had);
  ASSERT_TRUE(all_processed()) << shared.processed.size() << " of " << produced;

  // A comes back as a new member; B hands some partitions back.
  EngineLikeMember a2("A2", &shared);
  auto source_a2 = KafkaSource::Open(options, &a2);
  ASSERT_TRUE(source_a2.ok()) << source_a2.status().ToString();
  const size_t b_revoke_calls = b.revoked_calls.size();
  produce(300);
  for (auto end = deadline(); (a2.owned.size() != 3 || !all_processed()) && Clock::now() < end;) {
    a2.PollOnce(**source_a2);
    b.PollOnce(**source_b);
  }
  ASSERT_EQ(a2.owned.size(), 3u);
  EXPECT_EQ(Flatten(b.revoked_calls, b_revoke_calls), Flatten(a2.assigned_calls));
  ASSERT_TRUE(all_processed()) << shared.processed.size() << " of " << produced;

  // Every offset of every partition exactly once, up to the end.
  EXPECT_EQ(shared.duplicates, 0);
  auto admin = KafkaAdmin::Open(options.kafka);
  ASSERT_TRUE(admin.ok());
  auto ends = (*admin)->EndOffsets(topic);
  ASSERT_TRUE(ends.ok()) << ends.status().ToString();
  int64_t total = 0;
  for (const auto& [p, end] : *ends) {
    total += end;
    for (int64_t o = 0; o < end; ++o) {
      EXPECT_EQ(shared.processed.count({p, o}), 1u) << p << "/" << o;
    }
    EXPECT_EQ(shared.next_offset[p], end);
  }
  EXPECT_EQ(total, produced);
  // B saw partitions come and go.
  KafkaSourceStats sb = (*source_b)->Stats();
  EXPECT_GE(sb.assigned, 6);
  EXPECT_GE(sb.revoked, 3);
}

}  // namespace
}  // namespace zicht::connectors
