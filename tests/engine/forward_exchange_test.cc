// ForwardExchange (engine/src/forward_exchange.h): which batches cover a
// partition's move of its final bucket, which events it takes in, and the
// wire and state forms.
#include "forward_exchange.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace zicht::engine {
namespace {

ForwardBatch Batch(int partition, int64_t after, int64_t through,
                   std::vector<ForwardedEvent> events = {}) {
  ForwardBatch b;
  b.partition = partition;
  b.after = after;
  b.through = through;
  b.events = std::move(events);
  return b;
}

std::vector<std::string> Taken(const ForwardExchange& x, int source, int target, int64_t from,
                               int64_t to) {
  std::vector<std::string> out;
  x.ForEach(source, target, from, to, [&](const ForwardedEvent& e) { out.push_back(e.payload); });
  return out;
}

TEST(ForwardExchangeTest, AMoveIsCoveredOnlyByAnUnbrokenChainOfBatches) {
  ForwardExchange x(64);
  EXPECT_FALSE(x.Covers(3, INT64_MIN, 10)) << "nothing published";
  x.Publish(Batch(3, INT64_MIN, 10));
  EXPECT_TRUE(x.Covers(3, INT64_MIN, 10));
  EXPECT_TRUE(x.Covers(3, 5, 10));
  EXPECT_FALSE(x.Covers(3, 5, 11)) << "the source promised only through 10";
  x.Publish(Batch(3, 12, 15));  // the batch 10 -> 12 has not arrived
  EXPECT_FALSE(x.Covers(3, 9, 13));
  EXPECT_TRUE(x.Covers(3, 12, 15)) << "a move from 12 needs only the batch from 12";
  x.Publish(Batch(3, 10, 12));
  EXPECT_TRUE(x.Covers(3, 9, 15));
  EXPECT_FALSE(x.Covers(4, 9, 15)) << "another source";
  EXPECT_EQ(x.NewestThrough(), 15);
}

TEST(ForwardExchangeTest, AMoveTakesTheEventsAcceptedAtTheBucketsItCloses) {
  ForwardExchange x(64);
  x.Publish(Batch(2, INT64_MIN, 10));
  x.Publish(Batch(2, 10, 12, {{1, "a"}, {4, "other target"}, {1, "b"}}));
  x.Publish(Batch(2, 12, 13, {{1, "c"}}));
  // Accepted while the source was at 10: they close with bucket 11.
  EXPECT_EQ(Taken(x, 2, 1, 9, 10), std::vector<std::string>{});
  EXPECT_EQ(Taken(x, 2, 1, 10, 11), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Taken(x, 2, 1, 11, 13), std::vector<std::string>{"c"});
  EXPECT_EQ(Taken(x, 2, 1, INT64_MIN, 20), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Taken(x, 2, 4, 10, 11), std::vector<std::string>{"other target"});
}

TEST(ForwardExchangeTest, ABatchPublishedAgainReplacesTheOneItRepeats) {
  ForwardExchange x(64);
  x.Publish(Batch(0, 5, 6, {{1, "first"}}));
  x.Publish(Batch(0, 5, 6, {{1, "first"}}));
  EXPECT_EQ(Taken(x, 0, 1, 5, 6), std::vector<std::string>{"first"});
}

TEST(ForwardExchangeTest, OnlyTheLastHistoryBucketsAreKept) {
  ForwardExchange x(10);
  for (int64_t b = 0; b < 40; ++b) x.Publish(Batch(0, b, b + 1, {{1, std::to_string(b)}}));
  EXPECT_FALSE(x.Covers(0, 5, 40));
  EXPECT_TRUE(x.Covers(0, 30, 40));
  EXPECT_EQ(Taken(x, 0, 1, 0, 40).size(), 11u);
}

TEST(ForwardExchangeTest, TheWireFormRoundTripsAndNamesItsRuleSet) {
  const ForwardBatch b = Batch(5, INT64_MIN, -3, {{0, R"({"type":"x"})"}, {2, ""}});
  auto [key, value] = ForwardExchange::Encode("v1", b);
  EXPECT_TRUE(ForwardExchange::IsBatch(value));
  auto back = ForwardExchange::Decode("v1", value);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ(**back, b);
  auto other = ForwardExchange::Decode("v2", value);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value()) << "a batch of another rule set is not applied";
  EXPECT_FALSE(ForwardExchange::Decode("v1", value.substr(0, value.size() - 3)).ok());
  EXPECT_FALSE(ForwardExchange::IsBatch(std::string(1, '\x02'))) << "a national snapshot";
  // Batches with the same `after` share a key (compaction keeps the newest).
  EXPECT_EQ(ForwardExchange::Encode("v1", Batch(5, INT64_MIN, 7)).first, key);
  EXPECT_NE(ForwardExchange::Encode("v1", Batch(5, 1, 7)).first, key);
}

TEST(ForwardExchangeTest, TheStateFormRoundTripsAndRefusesCorruption) {
  const std::vector<ForwardedEvent> pending = {{3, "p1"}, {1, "p2"}};
  const std::vector<ForwardBatch> sent = {Batch(0, 1, 2, {{3, "s"}}), Batch(0, 2, 4)};
  const std::string state = ForwardExchange::EncodeState(4, pending, sent);
  int64_t through = 0;
  std::vector<ForwardedEvent> p;
  std::vector<ForwardBatch> s;
  ASSERT_TRUE(ForwardExchange::DecodeState(state, &through, &p, &s).ok());
  EXPECT_EQ(through, 4);
  EXPECT_EQ(p, pending);
  EXPECT_EQ(s, sent);
  p.clear();
  s.clear();
  EXPECT_FALSE(
      ForwardExchange::DecodeState(state.substr(0, state.size() - 1), &through, &p, &s).ok());
}

}  // namespace
}  // namespace zicht::engine
