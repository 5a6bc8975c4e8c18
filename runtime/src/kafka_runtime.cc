#include "zicht/runtime/kafka_runtime.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "zicht/base/hash.h"

namespace zicht::runtime {

using engine::CommitSeqOfMeta;
using engine::Engine;
using engine::EngineProbe;
using engine::Family;
using engine::kFamilyCount;
using engine::PlanPtr;
using engine::SourcePosition;
using engine::StateBatch;
using engine::StateKeys;
using engine::StateStore;
using engine::WipePartitionState;
namespace {

using SteadyClock = std::chrono::steady_clock;

// A partition with this many events waiting for other partitions' national
// figures stops fetching, and fetches again below the second figure (bounds
// the memory of held-back events; ~150 bytes each).
constexpr size_t kPauseHeldBack = 100000;
constexpr size_t kResumeHeldBack = 50000;
// Largest national snapshot record (topic max.message.bytes, producer
// message.max.bytes): 16 MiB.
constexpr int kNationalMessageBytes = 16 << 20;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}

// A stable name for this instance: fences zombie changelog writers after a
// restart (same pod, same name) and tells instances apart in logs.
std::string InstanceId(const EngineConfig& config) {
  if (const char* id = std::getenv("ZICHT_INSTANCE_ID"); id != nullptr && *id != '\0') return id;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "zicht");
  // Several instances on one host (tests, benchmarks) differ by state dir.
  return fmt::format("{}-{:08x}", host, static_cast<uint32_t>(Murmur3_128(config.state_dir).lo));
}

void LogKafka(connectors::KafkaLogLevel level, std::string_view client, std::string_view message) {
  // source.kafka.properties go to every client (TLS and SASL must); librdkafka
  // warns when a consumer property reaches a producer: not worth a warning.
  if (message.find("CONFWARN") != std::string_view::npos) level = connectors::KafkaLogLevel::kDebug;
  switch (level) {
    case connectors::KafkaLogLevel::kDebug:
      spdlog::debug("kafka {}: {}", client, message);
      break;
    case connectors::KafkaLogLevel::kInfo:
      spdlog::info("kafka {}: {}", client, message);
      break;
    case connectors::KafkaLogLevel::kWarning:
      spdlog::warn("kafka {}: {}", client, message);
      break;
    case connectors::KafkaLogLevel::kError:
      spdlog::error("kafka {}: {}", client, message);
      break;
  }
}

// Changelog records: key = family byte + the store key; a null value deletes.
std::string ChangelogKey(Family f, std::string_view key) {
  std::string k;
  k.reserve(key.size() + 1);
  k.push_back(static_cast<char>(f));
  k.append(key);
  return k;
}

}  // namespace

KafkaRuntime::KafkaRuntime(const EngineConfig& config, StateStore* store)
    : config_(config), kc_(*config.kafka), store_(store) {}

KafkaRuntime::~KafkaRuntime() {
  if (source_) (void)source_->Close();
}

Result<std::unique_ptr<KafkaRuntime>> KafkaRuntime::Create(const EngineConfig& config,
                                                           StateStore* store) {
  std::unique_ptr<KafkaRuntime> rt(new KafkaRuntime(config, store));
  const KafkaSourceConfig& kc = *config.kafka;
  if (kc.topics.size() != 1) {
    return Status::InvalidArgument(
        "source.kafka: exactly one input topic is supported (its partitions are the engine's)");
  }
  rt->topic_ = kc.topics[0];
  rt->source_name_ = rt->topic_;
  rt->instance_id_ = InstanceId(config);
  rt->kafka_.bootstrap_servers = kc.bootstrap_servers;
  rt->kafka_.client_id = "zicht-" + rt->instance_id_;
  rt->kafka_.properties = kc.properties;
  rt->kafka_.log = LogKafka;
  auto admin = connectors::KafkaAdmin::Open(rt->kafka_);
  if (!admin.ok()) return admin.status();
  auto partitions = (*admin)->PartitionCount(rt->topic_);
  if (!partitions.ok()) {
    return Status::InvalidArgument(
        fmt::format("input topic {}: {} (create it first; its partition count decides how "
                    "instances share municipalities)",
                    rt->topic_, partitions.status().message()));
  }
  rt->partitions_ = *partitions;
  // Topics zicht writes: created when missing, with the input's partition count.
  std::vector<connectors::KafkaTopicSpec> topics;
  if (kc.changelog) {
    topics.push_back({kc.changelog_topic,
                      rt->partitions_,
                      -1,
                      {{"cleanup.policy", "compact"},
                       {"min.compaction.lag.ms", "0"},
                       {"segment.ms", "3600000"}}});
  }
  // A partition's snapshot with neighbourhood indicators holds every buurt
  // with events (36 bytes each): 14,500 buurten x 10 indicators on few
  // partitions passes Kafka's default 1 MB message limit.
  topics.push_back({kc.national_topic,
                    1,
                    -1,
                    {{"cleanup.policy", "compact"},
                     {"segment.ms", "3600000"},
                     {"max.message.bytes", std::to_string(kNationalMessageBytes)}}});
  for (const SinkConfig* sink : {&config.alerts, &config.dead_letter}) {
    if (sink->kind == SinkConfig::Kind::kKafka)
      topics.push_back({sink->topic, rt->partitions_, -1, {}});
  }
  for (const auto& spec : topics) {
    Status s = (*admin)->CreateTopic(spec);
    if (!s.ok()) return Status(s.code(), fmt::format("topic {}: {}", spec.name, s.message()));
  }
  if (kc.stop_at_end) {
    auto ends = (*admin)->EndOffsets(rt->topic_);
    if (!ends.ok()) return ends.status();
    rt->end_offsets_ = *ends;
  }
  return rt;
}

Result<connectors::RecordSinkPtr> KafkaRuntime::OpenSink(const SinkConfig& sink) {
  connectors::KafkaSinkOptions options;
  options.kafka = kafka_;
  for (const auto& [k, v] : sink.properties) options.kafka.properties[k] = v;
  options.topic = sink.topic;
  auto opened = connectors::KafkaSink::Open(options);
  if (!opened.ok()) return opened.status();
  return connectors::RecordSinkPtr(std::move(opened).value());
}

Status KafkaRuntime::Start(Engine* engine, EngineProbe* probe, ChangelogStateStore* engine_store) {
  engine_ = engine;
  probe_ = probe;
  if (kc_.changelog) {
    connectors::KafkaTransactionalProducerOptions options;
    options.kafka = kafka_;
    options.transactional_id = fmt::format("zicht-{}-{}", kc_.group_id, instance_id_);
    auto producer = connectors::KafkaTransactionalProducer::Open(options);
    if (!producer.ok()) return producer.status();
    changelog_ = std::move(producer).value();
    engine_store->SetChangelog(this);
  }
  connectors::KafkaSinkOptions national;
  national.kafka = kafka_;
  national.kafka.properties["message.max.bytes"] = std::to_string(kNationalMessageBytes);
  national.topic = kc_.national_topic;
  auto out = connectors::KafkaSink::Open(national);
  if (!out.ok()) return out.status();
  national_out_ = std::move(out).value();
  connectors::KafkaTopicReaderOptions reader;
  reader.kafka = kafka_;
  reader.topic = kc_.national_topic;
  reader.read_committed = false;
  auto in = connectors::KafkaTopicReader::Open(reader);
  if (!in.ok()) return in.status();
  national_in_ = std::move(in).value();
  // Everyone's last snapshots first, so partitions do not wait needlessly.
  auto read = national_in_->ReadToEnd(
      [this](const connectors::KafkaTopicRecord& r) { return ApplyNationalRecord(r); },
      std::chrono::seconds(60));
  if (!read.ok()) return read.status();

  connectors::KafkaSourceOptions options;
  options.kafka = kafka_;
  options.topic = topic_;
  options.group_id = kc_.group_id;
  // librdkafka 2.0 stops fetching a partition once its queue passes
  // queued.min.messages / queued.max.messages.kbytes and looks again only
  // after a pause of about half a second; the queue must hold that long of
  // the engine's work (~1 M events/s), or the engine starves (measured: 370k/s
  // with 200k messages, 1.36M/s with 1M). Small per-partition fetches keep
  // partitions close in event time, so few events wait for the national
  // barrier. All three can be overridden in source.kafka.properties.
  options.max_partition_fetch_bytes = 256 << 10;
  options.queued_min_messages = 1000000;
  options.queued_max_kbytes = 128 << 10;
  options.max_batch_records = 20000;
  auto source = connectors::KafkaSource::Open(options, this);
  if (!source.ok()) return source.status();
  source_ = std::move(source).value();
  spdlog::info("kafka: instance {} joining group {} on {} ({} partitions)", instance_id_,
               kc_.group_id, topic_, partitions_);
  return Status::Ok();
}

Status KafkaRuntime::Poll(std::vector<connectors::SourceRecord>* batch,
                          std::chrono::milliseconds timeout) {
  Status s = source_->Poll(batch, timeout);
  if (!listener_error_.ok()) return listener_error_;
  if (!s.ok()) return s;
  const int64_t now = SteadyMs();
  for (const connectors::SourceRecord& r : *batch) last_event_wall_[r.partition] = now;
  return Status::Ok();
}

std::string KafkaRuntime::Describe(const connectors::SourceRecord& r) const {
  return source_->Describe(r);
}

Result<std::map<int32_t, int64_t>> KafkaRuntime::OnAssigned(
    const std::vector<int32_t>& partitions) {
  std::map<int32_t, int64_t> start;
  std::vector<int> parts(partitions.begin(), partitions.end());
  for (int p : parts) {
    Status s = RestoreRidingOutOutages(p);
    if (!s.ok()) {
      listener_error_ = s;
      return s;
    }
  }
  Status s = engine_->Assign(parts);
  if (!s.ok()) {
    listener_error_ = s;
    return s;
  }
  const int64_t now = SteadyMs();
  for (int p : parts) {
    engine_->SetSourceId(p, topic_);
    SourcePosition pos = engine_->Position(p);
    start[p] = pos.next_offset > 0 ? pos.next_offset : connectors::kKafkaOffsetBeginning;
    last_event_wall_[p] = now;
  }
  spdlog::info("kafka: assigned partitions {}", fmt::join(parts, ","));
  return start;
}

void KafkaRuntime::OnRevoked(const std::vector<int32_t>& partitions, bool lost) {
  std::vector<int> parts(partitions.begin(), partitions.end());
  // A lost partition may already be another member's: its state is dropped
  // without a commit, so nothing stale reaches the changelog.
  Status s = engine_->Revoke(parts, /*commit=*/!lost);
  if (!s.ok()) {
    spdlog::error("kafka: revoking partitions {}: {}", fmt::join(parts, ","), s.ToString());
    listener_error_ = s;
  }
  for (int p : parts) {
    last_event_wall_.erase(p);
    std::erase(paused_, p);
  }
  spdlog::info("kafka: {} partitions {}", lost ? "lost" : "revoked", fmt::join(parts, ","));
}

Status KafkaRuntime::RestoreRidingOutOutages(int p) {
  // A broker restart during an assignment (the changelog's leader unknown for
  // a while, connections refused) is waited out as the changelog mirror waits
  // out an outage; only what a retry cannot fix ends the instance.
  const SteadyClock::time_point deadline = SteadyClock::now() + std::chrono::minutes(5);
  for (int attempt = 1;; ++attempt) {
    Status s = RestoreIfBehind(p);
    const bool lasting = s.code() == StatusCode::kCorruption ||
                         s.code() == StatusCode::kInvalidArgument ||
                         s.code() == StatusCode::kAborted;
    if (s.ok() || lasting || SteadyClock::now() >= deadline) return s;
    const int backoff_ms = std::min(5000, 100 << std::min(attempt, 6));
    spdlog::warn("kafka: restoring partition {} failed (attempt {}), retrying in {} ms: {}", p,
                 attempt, backoff_ms, s.message());
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
  }
}

Status KafkaRuntime::RestoreIfBehind(int p) {
  if (!kc_.changelog) return Status::Ok();
  // Where the changelog ends, and the commit sequence of its last commit for p.
  connectors::KafkaTopicReaderOptions options;
  options.kafka = kafka_;
  options.topic = kc_.changelog_topic;
  options.partitions = {p};
  options.read_committed = true;
  auto probe = connectors::KafkaTopicReader::Open(options);
  if (!probe.ok()) return probe.status();
  const int64_t end = (*probe)->end_offsets().count(p) ? (*probe)->end_offsets().at(p) : 0;
  if (end <= 0) return Status::Ok();  // nothing mirrored yet: the local state is all there is
  const std::string meta_key = ChangelogKey(Family::kMeta, StateKeys::PartitionMeta(p));
  uint64_t remote_seq = 0;
  // Each commit ends with the partition's meta record; a window of records
  // before the end holds the last one unless commits are huge, in which case
  // the whole partition is read.
  for (int64_t window : {int64_t{4096}, end}) {
    options.start_offsets = {{p, std::max<int64_t>(0, end - window)}};
    auto tail = connectors::KafkaTopicReader::Open(options);
    if (!tail.ok()) return tail.status();
    auto read = (*tail)->ReadToEnd(
        [&](const connectors::KafkaTopicRecord& r) {
          if (r.key == meta_key && r.value) {
            if (auto seq = CommitSeqOfMeta(*r.value)) remote_seq = std::max(remote_seq, *seq);
          }
          return Status::Ok();
        },
        std::chrono::seconds(120));
    if (!read.ok()) return read.status();
    if (remote_seq > 0 || window == end) break;
  }
  uint64_t local_seq = 0;
  std::string meta;
  Status g = store_->Get(Family::kMeta, StateKeys::PartitionMeta(p), &meta);
  if (g.ok()) {
    if (auto seq = CommitSeqOfMeta(meta)) local_seq = *seq;
  } else if (g.code() != StatusCode::kNotFound) {
    return g;
  }
  if (local_seq >= remote_seq) return Status::Ok();

  // The local state is behind (empty disk, or the partition was elsewhere):
  // rebuild it from the changelog, as Kafka Streams restores a store.
  auto started = SteadyClock::now();
  spdlog::info("kafka: restoring partition {} from {} (local commit {} < changelog commit {})", p,
               kc_.changelog_topic, local_seq, remote_seq);
  ZICHT_RETURN_IF_ERROR(WipePartitionState(store_, p));
  options.start_offsets = {{p, 0}};
  auto reader = connectors::KafkaTopicReader::Open(options);
  if (!reader.ok()) return reader.status();
  StateBatch batch;
  RestoreStats stats;
  Status apply_error;
  auto read = (*reader)->ReadToEnd(
      [&](const connectors::KafkaTopicRecord& r) {
        ++stats.records;
        if (r.key.empty() || static_cast<uint8_t>(r.key[0]) >= kFamilyCount) {
          return Status::Corruption(
              fmt::format("changelog record {}/{} has an unknown family", r.partition, r.offset));
        }
        const Family f = static_cast<Family>(r.key[0]);
        std::string key(r.key.substr(1));
        if (r.value) {
          batch.Put(f, std::move(key), std::string(*r.value), p);
        } else {
          batch.Delete(f, std::move(key), p);
        }
        if (batch.size() >= 10000) {
          Status s = store_->Write(batch);
          batch.Clear();
          return s;
        }
        return Status::Ok();
      },
      std::chrono::minutes(30));
  if (!read.ok()) return read.status();
  if (!batch.empty()) ZICHT_RETURN_IF_ERROR(store_->Write(batch));
  stats.seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  restores_.push_back(stats);
  spdlog::info("kafka: restored partition {}: {} changelog records in {:.2f} s", p, stats.records,
               stats.seconds);
  return Status::Ok();
}

Status KafkaRuntime::Mirror(const StateBatch& batch) {
  if (!changelog_) return Status::Ok();
  // One transaction per commit: a restore sees whole commits only
  // (read_committed). A broker outage is waited out here, which stalls
  // processing (back-pressure) instead of losing the mirror.
  int attempt = 0;
  while (true) {
    Status s = changelog_->Begin();
    for (const StateBatch::Entry& e : batch.entries()) {
      if (!s.ok()) break;
      if (e.partition < 0 || e.op == StateBatch::Op::kDeleteRange) continue;
      std::string key = ChangelogKey(e.family, e.key);
      if (e.op == StateBatch::Op::kPut) {
        s = changelog_->Produce(kc_.changelog_topic, e.partition, key, e.value);
      } else {
        s = changelog_->Produce(kc_.changelog_topic, e.partition, key, std::nullopt);
      }
    }
    if (s.ok()) s = changelog_->Commit();
    if (s.ok()) return Status::Ok();
    if (changelog_->fenced()) {
      return Status::Aborted(
          fmt::format("changelog producer fenced (another instance uses id {}): {}", instance_id_,
                      s.message()));
    }
    if (changelog_->in_transaction()) (void)changelog_->Abort();
    ++attempt;
    const int backoff_ms = std::min(5000, 100 << std::min(attempt, 6));
    spdlog::warn("changelog commit failed (attempt {}), retrying in {} ms: {}", attempt, backoff_ms,
                 s.message());
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    if (attempt >= 600)
      return Status::TryAgain("changelog unavailable for too long: " + s.message());
  }
}

Status KafkaRuntime::PublishNational() {
  for (auto& [key, value] : engine_->TakeNationalSnapshots()) {
    connectors::OutRecord record;
    record.key = std::move(key);
    record.value = std::move(value);
    Status s = national_out_->Send(++national_seq_, record);
    if (!s.ok()) spdlog::warn("national snapshot not sent: {}", s.message());
  }
  std::vector<uint64_t> acked;
  return national_out_->Flush(&acked, std::chrono::milliseconds(0));
}

// A snapshot that does not apply (another format, a partition this plan
// lacks) is logged and skipped: one bad record must not stop the instance.
Status KafkaRuntime::ApplyNationalRecord(const connectors::KafkaTopicRecord& r) {
  if (!r.value) return Status::Ok();
  Status s = engine_->ApplyNationalSnapshot(*r.value);
  if (!s.ok()) spdlog::warn("national snapshot at {}/{}: {}", r.partition, r.offset, s.message());
  return Status::Ok();
}

Status KafkaRuntime::ReadNational() {
  auto n = national_in_->Poll(
      [this](const connectors::KafkaTopicRecord& r) { return ApplyNationalRecord(r); },
      std::chrono::milliseconds(0));
  return n.status();
}

Status KafkaRuntime::Maintain() {
  ZICHT_RETURN_IF_ERROR(PublishNational());
  ZICHT_RETURN_IF_ERROR(ReadNational());

  // Flow control in event time. Fetches give every partition the same bytes,
  // so partitions with sparse data race ahead in event time and then wait at
  // the national barrier for the dense ones. A partition more than a day
  // ahead of the slowest stops fetching (the fetcher's bandwidth goes to the
  // laggards) and resumes when it is back within a day; one with many events
  // already held back stops too (bounded memory).
  std::vector<int32_t> pause, resume;
  std::map<int, size_t> held;
  for (auto [p, n] : engine_->HeldBack()) held[p] = n;
  const auto slowest = engine_->SlowestFinalDay();
  for (int32_t p : source_->Assignment()) {
    const bool paused = std::find(paused_.begin(), paused_.end(), p) != paused_.end();
    const auto own = engine_->FinalDayOf(p);
    const bool ahead = slowest && own && *own > *slowest + 1;
    const bool close = !slowest || !own || *own <= *slowest + 1;
    if (!paused && (ahead || held[p] >= kPauseHeldBack)) pause.push_back(p);
    if (paused && close && held[p] < kResumeHeldBack) resume.push_back(p);
  }
  if (!pause.empty() || !resume.empty()) {
    spdlog::debug("kafka: pausing partitions [{}], resuming [{}] (event-time flow control)",
                  fmt::join(pause, ","), fmt::join(resume, ","));
  }
  if (!pause.empty()) {
    ZICHT_RETURN_IF_ERROR(source_->Pause(pause));
    paused_.insert(paused_.end(), pause.begin(), pause.end());
  }
  if (!resume.empty()) {
    ZICHT_RETURN_IF_ERROR(source_->Resume(resume));
    for (int32_t p : resume) std::erase(paused_, p);
  }

  // Lag, and idle partitions: caught up, no events for idle_timeout while
  // others are ahead in event time -> move them to the newest closed day so
  // they do not hold the others back. Lag asks the broker: twice a second.
  const int64_t now = SteadyMs();
  if (now - last_lag_check_ < 500) return Status::Ok();
  last_lag_check_ = now;
  int64_t total_lag = 0;
  bool lag_known = true;
  for (const connectors::PartitionLag& l : source_->Lag()) {
    probe_->ConsumerLag(l.partition, l.lag);
    if (l.lag < 0) {
      lag_known = false;
    } else {
      total_lag += l.lag;
    }
    // IdleTarget: the newest closed day published, or a forwarded-events
    // promise a waiting partition made (kMinTime: neither yet).
    if (l.lag != 0 || !engine_->Owns(l.partition)) continue;
    auto it = last_event_wall_.find(l.partition);
    if (it == last_event_wall_.end() || now - it->second < kc_.idle_timeout_ms) continue;
    const TimeMs target = engine_->IdleTarget();
    if (target != kMinTime && engine_->Clock(l.partition) < target) {
      ZICHT_RETURN_IF_ERROR(engine_->TickPartition(l.partition, target));
    }
  }
  last_lag_ = lag_known ? total_lag : -1;
  return Status::Ok();
}

bool KafkaRuntime::ReachedEnd() const {
  if (end_offsets_.empty()) return false;
  bool any = false;
  for (const auto& [p, end] : end_offsets_) {
    if (!engine_->Owns(p)) continue;
    any = true;
    if (engine_->Position(p).next_offset < end) return false;
  }
  return any && engine_->HeldBack().empty();
}

Status KafkaRuntime::Close() {
  if (source_) ZICHT_RETURN_IF_ERROR(source_->Close());
  if (national_out_) {
    std::vector<uint64_t> acked;
    (void)national_out_->Flush(&acked, std::chrono::seconds(5));
  }
  return Status::Ok();
}

}  // namespace zicht::runtime
