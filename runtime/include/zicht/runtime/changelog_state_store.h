// ChangelogStateStore: the StateStore the engine writes through when its
// state is mirrored to a changelog (Kafka: a compacted topic, one
// transaction per write). Every batch goes to the changelog first and then
// to the local store, so a partition that moves to an empty disk can be
// rebuilt from the changelog up to the last local write. A changelog error
// aborts the write: the engine retries the commit, nothing is half-applied.
// Reads go to the local store. Restores write to the local store directly.
//
// Thread safety: as the local store; the engine thread uses it.
#pragma once

#include "zicht/base/status.h"
#include "zicht/engine/state_store.h"

namespace zicht::runtime {

// Where the batches are mirrored (KafkaRuntime).
class ChangelogWriter {
 public:
  virtual ~ChangelogWriter() = default;
  virtual Status Mirror(const engine::StateBatch& batch) = 0;
};

class ChangelogStateStore : public engine::StateStore {
 public:
  // `local` is not owned and outlives this store.
  explicit ChangelogStateStore(engine::StateStore* local) : local_(local) {}

  // From now on every non-empty write is mirrored first (null: local only).
  void SetChangelog(ChangelogWriter* changelog) { changelog_ = changelog; }

  Status Write(const engine::StateBatch& batch) override {
    if (changelog_ != nullptr && !batch.empty()) ZICHT_RETURN_IF_ERROR(changelog_->Mirror(batch));
    return local_->Write(batch);
  }
  Status Get(engine::Family f, std::string_view key, std::string* value) override {
    return local_->Get(f, key, value);
  }
  Status Scan(engine::Family f, std::string_view begin, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    return local_->Scan(f, begin, end, fn);
  }
  engine::StateStoreStats Stats() override { return local_->Stats(); }

 private:
  engine::StateStore* local_;
  ChangelogWriter* changelog_ = nullptr;
};

}  // namespace zicht::runtime
