// Kafka connector throughput against a real broker: KafkaSink produce,
// KafkaSource consume (raw, no decoding), KafkaTopicReader restore and
// transactional batches. Needs a broker: ZICHT_KAFKA_BOOTSTRAP, or
// ZICHT_KAFKA_DIR/bootstrap, or <repo>/.kafka/bootstrap (scripts/kafka start).
// Figures depend on the machine; broker and client share its cores.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "kafka_env.h"  // tests/integration
#include "zicht/connectors/kafka_admin.h"
#include "zicht/connectors/kafka_sink.h"
#include "zicht/connectors/kafka_source.h"
#include "zicht/connectors/kafka_topic_reader.h"
#include "zicht/connectors/kafka_transactional_producer.h"

namespace zicht::connectors {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kRecords = 2'000'000;
constexpr int32_t kPartitions = 6;

// ~140-byte events keyed by municipality, like zicht.events.
std::vector<OutRecord> Events(int64_t n) {
  std::vector<OutRecord> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const std::string muni = "GM" + std::to_string(1000 + i % 342);
    out.push_back({muni,
                   R"({"type":"drug_finding","id":"pol-)" + std::to_string(i) +
                       R"(","time":"2026-03-04T22:10:00Z","municipality":")" + muni +
                       R"(","kind":"hemp_plantation","property":"residential"})",
                   {}});
  }
  return out;
}

struct Broker {
  std::string bootstrap;
  std::string topic;  // kRecords events, filled by BM_SinkProduce
  bool filled = false;
};

Broker& TheBroker() {
  static Broker broker = [] {
    Broker b;
    auto bootstrap = integration::KafkaBootstrap();
    if (!bootstrap.ok()) {
      std::fprintf(stderr, "kafka_bench: %s\n", bootstrap.status().ToString().c_str());
      std::exit(1);
    }
    b.bootstrap = *bootstrap;
    return b;
  }();
  return broker;
}

KafkaOptions Options() {
  KafkaOptions o;
  o.bootstrap_servers = TheBroker().bootstrap;
  o.client_id = "zicht-kafka-bench";
  return o;
}

std::string NewTopic(const std::string& prefix, int32_t partitions) {
  auto admin = KafkaAdmin::Open(Options());
  KafkaTopicSpec spec;
  spec.name = integration::UniqueTopicName(prefix);
  spec.partitions = partitions;
  if (!admin.ok() || !(*admin)->CreateTopic(spec).ok()) {
    std::fprintf(stderr, "kafka_bench: cannot create topic %s\n", spec.name.c_str());
    std::exit(1);
  }
  return spec.name;
}

void BM_SinkProduce(benchmark::State& state) {
  const std::vector<OutRecord> events = Events(kRecords);
  int64_t bytes = 0;
  for (const OutRecord& e : events) bytes += static_cast<int64_t>(e.key.size() + e.value.size());
  for (auto _ : state) {
    const std::string topic = NewTopic("zicht-bench-events", kPartitions);
    KafkaSinkOptions options;
    options.kafka = Options();
    options.topic = topic;
    options.max_queued_records = 1'000'000;
    auto sink = KafkaSink::Open(options);
    std::vector<uint64_t> acked;
    acked.reserve(events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      while ((*sink)->Send(i, events[i]).code() == StatusCode::kTryAgain) {
        (void)(*sink)->Flush(&acked, milliseconds(1));
      }
    }
    while (acked.size() < events.size()) {
      if (!(*sink)->Flush(&acked, milliseconds(1000)).ok()) state.SkipWithError("delivery failed");
    }
    TheBroker().topic = topic;
    TheBroker().filled = true;
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
  state.SetBytesProcessed(state.iterations() * bytes);
}

// range(0) = 1: much larger fetch and prefetch buffers than KafkaSource's
// defaults (librdkafka's), to show whether they buy anything.
void BM_SourceConsume(benchmark::State& state) {
  if (!TheBroker().filled) {
    state.SkipWithError("BM_SinkProduce must run first (it fills the topic)");
    return;
  }
  int64_t bytes = 0;
  for (auto _ : state) {
    KafkaSourceOptions options;
    options.kafka = Options();
    options.topic = TheBroker().topic;
    options.group_id = integration::UniqueTopicName("zicht-bench-group");
    if (state.range(0) == 1) {
      options.max_partition_fetch_bytes = 8 << 20;
      options.queued_max_kbytes = 256 << 10;
      options.queued_min_messages = 1000000;
    }
    auto source = KafkaSource::Open(options, nullptr);
    std::vector<SourceRecord> batch;
    int64_t n = 0;
    bytes = 0;
    while (n < kRecords) {
      if (!(*source)->Poll(&batch, milliseconds(1000)).ok()) state.SkipWithError("poll failed");
      n += static_cast<int64_t>(batch.size());
      for (const SourceRecord& r : batch)
        bytes += static_cast<int64_t>(r.payload.size() + r.key.size());
    }
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
  state.SetBytesProcessed(state.iterations() * bytes);
}

void BM_TopicReaderRestore(benchmark::State& state) {
  if (!TheBroker().filled) {
    state.SkipWithError("BM_SinkProduce must run first (it fills the topic)");
    return;
  }
  int64_t records = 0;
  for (auto _ : state) {
    KafkaTopicReaderOptions options;
    options.kafka = Options();
    options.topic = TheBroker().topic;
    auto reader = KafkaTopicReader::Open(options);
    int64_t n = 0, sum = 0;
    auto end = (*reader)->ReadToEnd(
        [&](const KafkaTopicRecord& r) {
          ++n;
          sum += static_cast<int64_t>(r.key.size());  // touch the record like a restore would
          return Status::Ok();
        },
        milliseconds(120000));
    if (!end.ok()) state.SkipWithError(end.status().ToString().c_str());
    benchmark::DoNotOptimize(sum);
    records += n;
  }
  state.SetItemsProcessed(records);
}

// Changelog-style writes: one transaction per batch of `range(0)` records.
void BM_TransactionalBatches(benchmark::State& state) {
  const int64_t batch = state.range(0);
  const std::string topic = NewTopic("zicht-bench-changelog", 1);
  KafkaTransactionalProducerOptions options;
  options.kafka = Options();
  options.transactional_id = integration::UniqueTopicName("zicht-bench-txn");
  auto txn = KafkaTransactionalProducer::Open(options);
  const std::string value(100, 'x');
  // The first commit of a new producer waits ~1 s for librdkafka's
  // coordinator timer (a one-off per producer); measure the steady state.
  if (!(*txn)->Begin().ok() ||
      !(*txn)->Produce(topic, 0, "warm-up", std::string_view(value)).ok() ||
      !(*txn)->Commit().ok()) {
    state.SkipWithError("warm-up transaction failed");
    return;
  }
  int64_t records = 0;
  for (auto _ : state) {
    if (!(*txn)->Begin().ok()) state.SkipWithError("begin failed");
    for (int64_t i = 0; i < batch; ++i) {
      (void)(*txn)->Produce(topic, 0, "w/GM" + std::to_string(1000 + i % 342),
                            std::string_view(value));
    }
    if (!(*txn)->Commit().ok()) state.SkipWithError("commit failed");
    records += batch;
  }
  state.SetItemsProcessed(records);
}

BENCHMARK(BM_SinkProduce)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_SourceConsume)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK(BM_TopicReaderRestore)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_TransactionalBatches)
    ->Arg(1000)
    ->Arg(20000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(20);

}  // namespace
}  // namespace zicht::connectors

BENCHMARK_MAIN();
