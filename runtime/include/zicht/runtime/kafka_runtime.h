// KafkaRuntime: what `zicht run` needs around an Engine when the source is
// Kafka: topics, the consumer group member and its rebalances (restoring a
// partition from its changelog when the local state is behind), the
// changelog mirror of every commit, national snapshots shared with other
// instances, idle partitions, back-pressure and lag.
//
// Thread safety: driven by the engine thread only.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/connectors/kafka_admin.h"
#include "zicht/connectors/kafka_sink.h"
#include "zicht/connectors/kafka_source.h"
#include "zicht/connectors/kafka_topic_reader.h"
#include "zicht/connectors/kafka_transactional_producer.h"
#include "zicht/engine/engine.h"
#include "zicht/engine/probe.h"
#include "zicht/runtime/changelog_state_store.h"
#include "zicht/runtime/config.h"

namespace zicht::runtime {

struct RestoreStats {
  int64_t records = 0;
  double seconds = 0;
};

class KafkaRuntime : public connectors::RebalanceListener, public ChangelogWriter {
 public:
  // Checks the input topic (its partition count decides municipality
  // ownership) and creates missing output, changelog and national topics.
  static Result<std::unique_ptr<KafkaRuntime>> Create(const EngineConfig& config,
                                                      engine::StateStore* store);
  ~KafkaRuntime() override;

  int partitions() const { return partitions_; }
  // Alert and dead-letter sinks on Kafka (idempotent producers).
  Result<connectors::RecordSinkPtr> OpenSink(const SinkConfig& sink);

  // Joins the group. The engine is used from the rebalance callbacks, which
  // run inside Poll on this thread. With a changelog, `engine_store` (the
  // store the engine writes through) mirrors every write to it from now on.
  Status Start(engine::Engine* engine, engine::EngineProbe* probe,
               ChangelogStateStore* engine_store);
  // Next records (empty on timeout). TryAgain-free: errors are survived and
  // counted by the source.
  Status Poll(std::vector<connectors::SourceRecord>* batch, std::chrono::milliseconds timeout);
  std::string Describe(const connectors::SourceRecord& r) const;
  const std::string& source_name() const { return source_name_; }

  // Between batches: publish and read national snapshots, pause partitions
  // whose events wait for others and resume them, move idle partitions on,
  // report lag. Returns the summed consumer lag (-1 unknown).
  Status Maintain();
  // stop_at_end: every assigned partition has been processed up to the end
  // offsets seen at start.
  bool ReachedEnd() const;
  // Summed consumer lag of the assigned partitions at the last Maintain (-1 unknown).
  int64_t lag() const { return last_lag_; }
  Status Close();

  // ChangelogWriter: every engine write, as one Kafka transaction on the changelog.
  Status Mirror(const engine::StateBatch& batch) override;
  // RebalanceListener.
  Result<std::map<int32_t, int64_t>> OnAssigned(const std::vector<int32_t>& partitions) override;
  void OnRevoked(const std::vector<int32_t>& partitions, bool lost) override;

  const std::vector<RestoreStats>& restores() const { return restores_; }

 private:
  KafkaRuntime(const EngineConfig& config, engine::StateStore* store);
  Status RestoreIfBehind(int partition);
  // RestoreIfBehind, retried while the broker is away (up to 5 minutes).
  Status RestoreRidingOutOutages(int partition);
  Status PublishNational();
  Status ReadNational();
  Status ApplyNationalRecord(const connectors::KafkaTopicRecord& record);

  const EngineConfig& config_;
  const KafkaSourceConfig& kc_;
  engine::StateStore* store_;
  connectors::KafkaOptions kafka_;
  int partitions_ = 0;
  std::string topic_;
  std::string source_name_;
  std::string instance_id_;
  engine::Engine* engine_ = nullptr;
  engine::EngineProbe* probe_ = nullptr;
  connectors::KafkaSourcePtr source_;
  connectors::KafkaTransactionalProducerPtr changelog_;
  connectors::KafkaSinkPtr national_out_;
  connectors::KafkaTopicReaderPtr national_in_;
  uint64_t national_seq_ = 0;
  std::map<int32_t, int64_t> end_offsets_;      // stop_at_end
  std::map<int32_t, int64_t> last_event_wall_;  // partition -> steady ms of its last record
  std::vector<int32_t> paused_;
  std::vector<RestoreStats> restores_;
  Status listener_error_;
  int64_t last_lag_ = -1;
  int64_t last_lag_check_ = 0;  // steady ms
};

}  // namespace zicht::runtime
