// Engine, durability: the commit of every part's changes in one batch, the
// load of a partition's state, positions and outbox, and the national
// snapshots exchanged with other instances.
#include <algorithm>

#include "forward_exchange.h"
#include "national_barrier.h"
#include "national_exchange.h"
#include "outbox.h"
#include "partition_state.h"
#include "partition_store.h"
#include "zicht/engine/engine.h"
#include "zicht/engine/probe.h"

namespace zicht::engine {

Status Engine::Commit() {
  const int64_t started = clock_.SteadyMs();
  StateBatch batch;
  for (auto& part : partitions_) {
    if (part->owned) partition_store_->Write(*part, &batch);
  }
  for (auto& [sp, pos] : positions_) {
    // Resume at the first record not yet applied: the earliest held-back one.
    // A partition's held-back records are in source order: its first one
    // is the lowest.
    SourcePosition resume = pos;
    for (auto& part : partitions_) {
      for (const PendingEvent& pe : part->pending) {
        if (pe.tick) continue;
        if (pe.record.partition == sp && pe.record.offset < resume.next_offset) {
          resume.next_offset = pe.record.offset;
          resume.line = pe.record.line;
        }
        break;
      }
    }
    batch.Put(Family::kMeta, StateKeys::SourceMeta(sp), PartitionCodec::EncodePosition(resume), sp);
  }
  outbox_->WriteNew(&batch);
  ZICHT_RETURN_IF_ERROR(store_->Write(batch));
  outbox_->Committed();
  ++stats_.commits;
  probe_->Committed(since_commit_, static_cast<double>(clock_.SteadyMs() - started) / 1000.0);
  since_commit_ = 0;
  Status delivered = DeliverOutbox();
  probe_->OutboxPending(static_cast<int64_t>(outbox_pending()));
  return delivered;
}

Status Engine::DeliverOutbox() {
  return outbox_->Deliver(store_, &stats_.delivery_retries);
}

size_t Engine::outbox_pending() const {
  return outbox_->pending();
}

Status Engine::Open() {
  for (auto& part : partitions_) {
    if (!part->owned) continue;
    ZICHT_RETURN_IF_ERROR(ResetPartition(part->id, /*load_position_and_outbox=*/true));
  }
  return DeliverOutbox();
}

Status Engine::LoadSourcePosition(int partition) {
  std::string value;
  Status s = store_->Get(Family::kMeta, StateKeys::SourceMeta(partition), &value);
  if (s.code() == StatusCode::kNotFound) return Status::Ok();
  ZICHT_RETURN_IF_ERROR(s);
  auto pos = PartitionCodec::DecodePosition(value);
  if (!pos) return Status::Corruption("undecodable source position");
  positions_[partition] = std::move(*pos);
  return Status::Ok();
}

Status Engine::LoadOutbox(int partition) {
  // Records not yet delivered before a restart or a move: deliver them again
  // (at least once; alert ids are stable).
  auto highest = outbox_->Load(partition, store_);
  if (!highest.ok()) return highest.status();
  PartitionState& part = Partition(partition);
  part.next_seq = std::max(part.next_seq, *highest + 1);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// National snapshots between instances

void Engine::PublishNational(PartitionState& part) {
  const WindowStore& ws = *part.store;
  if (!ws.has_clock()) return;
  for (int hours = 0; hours < (plan_->uses_hours() ? 2 : 1); ++hours) {
    const int64_t final_bucket = ws.final_bucket(hours != 0);
    national_->Publish(part.id, hours != 0, final_bucket, ws);
    if (options_.export_national) {
      national_out_.push_back(NationalExchange::Encode(*plan_, part.id, hours != 0, final_bucket,
                                                       ws, options_.national_lag_days));
    }
  }
}

std::vector<std::pair<std::string, std::string>> Engine::TakeNationalSnapshots() {
  std::vector<std::pair<std::string, std::string>> out;
  out.swap(national_out_);
  return out;
}

Status Engine::ApplyNationalSnapshot(std::string_view data) {
  if (ForwardExchange::IsBatch(data)) {
    auto batch = ForwardExchange::Decode(plan_->rule_set().version(), data);
    if (!batch.ok()) return batch.status();
    if (!batch->has_value()) {
      ++stats_.national_version_mismatch;
      return Status::Ok();
    }
    const int partition = (*batch)->partition;
    if (partition < 0 || partition >= options_.partitions) {
      return Status::InvalidArgument("forward batch of an unknown partition");
    }
    for (const ForwardedEvent& e : (*batch)->events) {
      if (e.target < 0 || e.target >= options_.partitions) {
        return Status::InvalidArgument("forward batch for an unknown partition");
      }
    }
    if (Owns(partition)) return Status::Ok();  // ours are published locally
    forwards_->Publish(std::move(**batch));
    if (barrier_->held() > 0) return TryDrainBlocked();
    return Status::Ok();
  }
  auto decoded = NationalExchange::Decode(*plan_, data);
  if (!decoded.ok()) return decoded.status();
  if (!decoded->same_rule_set) {
    ++stats_.national_version_mismatch;
    return Status::Ok();  // another rule set (a rolling reload): not comparable
  }
  const int partition = decoded->partition;
  if (partition < 0 || partition >= options_.partitions) {
    return Status::InvalidArgument("national snapshot of an unknown partition");
  }
  if (Owns(partition)) return Status::Ok();  // ours are published locally
  national_->PublishSnapshot(partition, decoded->hours, std::move(decoded->snapshot));
  if (barrier_->held() > 0) return TryDrainBlocked();
  return Status::Ok();
}

std::optional<MeasureInput> Engine::LiveInput(int indicator, int municipality) {
  const int p = partition_of_[static_cast<size_t>(municipality)];
  if (!Owns(p)) return std::nullopt;
  PartitionState& part = Partition(p);
  return Input(part, indicator, part.store->Local(municipality));
}

std::optional<MeasureInput> Engine::LiveNeighbourhoodInput(int indicator, int neighbourhood) {
  const NeighbourhoodTable* buurten = plan_->neighbourhoods();
  if (buurten == nullptr || !plan_->uses_neighbourhoods()) return std::nullopt;
  const int m = buurten->at(static_cast<size_t>(neighbourhood)).municipality;
  const int p = partition_of_[static_cast<size_t>(m)];
  if (!Owns(p)) return std::nullopt;
  PartitionState& part = Partition(p);
  const int local = part.store->LocalOfNeighbourhood(neighbourhood);
  if (local < 0) return std::nullopt;
  return Input(part, indicator, local);
}

const WindowStore* Engine::WindowsOf(int municipality) const {
  const int p = partition_of_[static_cast<size_t>(municipality)];
  return Owns(p) ? partitions_[static_cast<size_t>(p)]->store.get() : nullptr;
}

std::optional<int64_t> Engine::NewestFinalDay() const {
  return national_->NewestPublished(false);
}
std::optional<int64_t> Engine::FinalDayOf(int partition) const {
  return national_->LatestOf(partition, false);
}
std::optional<int64_t> Engine::SlowestFinalDay() const {
  return national_->CompleteUpTo(false);
}

}  // namespace zicht::engine
