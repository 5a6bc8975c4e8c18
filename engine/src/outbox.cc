#include "outbox.h"

#include <algorithm>

#include "state_codec.h"
#include "zicht/engine/state_keys.h"

namespace zicht::engine {

void Outbox::WriteNew(StateBatch* batch) const {
  for (const OutboxRecord& o : new_) {
    batch->Put(Family::kOutbox, StateKeys::Outbox(o.partition, o.seq),
               PartitionCodec::EncodeOutbox(o.alert, o.record), o.partition);
  }
}

void Outbox::Committed() {
  for (OutboxRecord& o : new_) unsent_.push_back(std::move(o));
  new_.clear();
}

Status Outbox::Deliver(StateStore* store, int64_t* retries) {
  if (unsent_.empty() && in_flight_.empty()) return Status::Ok();
  bool any_alert = !in_flight_.empty(), any_dead = !in_flight_.empty();
  for (OutboxRecord& o : unsent_) {
    connectors::RecordSink* sink = o.alert ? options_.alerts : options_.dead_letters;
    const uint64_t id = o.id();
    if (sink == nullptr) {
      acked_.push_back(id);  // no sink configured: counted and reported only
      in_flight_.emplace(id, std::move(o));
      continue;
    }
    Status s = sink->Send(id, o.record);
    if (s.code() == StatusCode::kTryAgain) break;  // full: the rest goes next time
    ZICHT_RETURN_IF_ERROR(s);
    (o.alert ? any_alert : any_dead) = true;
    in_flight_.emplace(id, std::move(o));
  }
  std::erase_if(unsent_, [&](const OutboxRecord& o) { return in_flight_.count(o.id()) != 0; });
  // A delivery that failed for good (e.g. a timeout during a broker outage)
  // goes back to the outbox and is sent again at the next commit: alerts are
  // delivered at least once, never dropped.
  for (connectors::RecordSink* sink : {options_.alerts, options_.dead_letters}) {
    if (sink == nullptr || (sink == options_.alerts ? !any_alert : !any_dead)) continue;
    Status flushed = sink->Flush(&acked_, options_.flush_timeout);
    for (uint64_t id : sink->TakeFailedIds()) {
      auto it = in_flight_.find(id);
      if (it == in_flight_.end()) continue;
      unsent_.push_back(std::move(it->second));
      in_flight_.erase(it);
    }
    if (!flushed.ok() && flushed.code() != StatusCode::kTryAgain) return flushed;
    if (!flushed.ok()) ++*retries;
  }
  if (acked_.empty()) return Status::Ok();
  // Delivered: remove from the outbox (also from the changelog, so that a
  // new owner does not deliver them again).
  StateBatch deletes;
  const TimeMs now = clock_.WallMs();
  for (uint64_t id : acked_) {
    auto it = in_flight_.find(id);
    if (it == in_flight_.end()) continue;
    if (it->second.alert && it->second.rule >= 0) {
      probe_->AlertEmitted(it->second.rule,
                           it->second.ingest_time > 0 ? now - it->second.ingest_time : 0);
    }
    deletes.Delete(Family::kOutbox, StateKeys::Outbox(it->second.partition, it->second.seq),
                   it->second.partition);
    in_flight_.erase(it);
  }
  acked_.clear();
  if (deletes.empty()) return Status::Ok();
  return store->Write(deletes);
}

Result<uint64_t> Outbox::Load(int partition, StateStore* store) {
  std::string prefix = StateKeys::Partition(partition);
  Status decode_status;
  uint64_t highest = 0;
  ZICHT_RETURN_IF_ERROR(
      store->Scan(Family::kOutbox, prefix, PrefixEnd(prefix),
                  [&](std::string_view key, std::string_view value) {
                    codec::Reader k(key.substr(prefix.size()));
                    OutboxRecord o;
                    o.partition = partition;
                    o.seq = k.U64();
                    if (!k.ok() || !PartitionCodec::DecodeOutbox(value, &o.alert, &o.record)) {
                      decode_status = Status::Corruption("undecodable outbox record");
                      return false;
                    }
                    highest = std::max(highest, o.seq);
                    if (in_flight_.count(o.id()) == 0) unsent_.push_back(std::move(o));
                    return true;
                  }));
  ZICHT_RETURN_IF_ERROR(decode_status);
  return highest;
}

void Outbox::Drop(int partition) {
  std::erase_if(new_, [partition](const OutboxRecord& o) { return o.partition == partition; });
  std::erase_if(unsent_, [partition](const OutboxRecord& o) { return o.partition == partition; });
}

}  // namespace zicht::engine
