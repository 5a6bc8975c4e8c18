// Engine, event time: clocks that move, idle partitions moved on, and the
// events the national barrier holds back released as figures complete.
#include <fmt/format.h>

#include <algorithm>
#include <cstddef>

#include "forward_exchange.h"
#include "national_barrier.h"
#include "partition_state.h"
#include "rule_scheduler.h"
#include "zicht/engine/engine.h"
#include "zicht/engine/probe.h"

namespace zicht::engine {

std::vector<std::pair<int, size_t>> Engine::HeldBack() const {
  std::vector<std::pair<int, size_t>> out;
  for (const auto& p : partitions_) {
    if (!p->pending.empty()) out.emplace_back(p->id, p->pending.size());
  }
  return out;
}

Status Engine::TickPartition(int partition, TimeMs now) {
  if (!Owns(partition)) return Status::InvalidArgument("tick of a partition not owned here");
  PartitionState& part = Partition(partition);
  if (!part.pending.empty() || (part.has_clock && part.clock >= now)) return Status::Ok();
  Tick(part, now);
  return TryDrainBlocked();
}

bool Engine::AdvanceClock(PartitionState& part, TimeMs now) {
  WindowStore& ws = *part.store;
  if (ws.has_clock()) {
    // Step through every final bucket passed, publishing each, so national
    // figures exist for whatever bucket a slower partition is at.
    const bool hours = plan_->uses_hours();
    const TimeMs step = hours ? kMsPerHour : kMsPerDay;
    const int64_t target_final = FinestFinalAt(now);
    // A jump far ahead (a clock error upstream) steps only through the last
    // buckets that anyone can still ask for, not through years of them.
    const int64_t keep =
        int64_t{hours ? 24 : 1} * (kReloadHistoryDays + options_.national_lag_days + 64);
    for (int64_t f = std::max(ws.final_bucket(hours) + 1, target_final - keep); f < target_final;
         ++f) {
      AdvanceStore(part, (f + 1) * step + options_.allowed_lateness_ms);
      PublishNational(part);
    }
  }
  const int64_t day_before = ws.current_bucket(false), final_before = ws.final_bucket(false);
  const int64_t hour_before = ws.current_bucket(true), final_hour_before = ws.final_bucket(true);
  AdvanceStore(part, now);
  // Cached condition outcomes hold while windows and national figures stand
  // still: only a bucket change of a unit the plan uses moves them.
  if (ws.current_bucket(false) != day_before || ws.final_bucket(false) != final_before ||
      (plan_->uses_hours() &&
       (ws.current_bucket(true) != hour_before || ws.final_bucket(true) != final_hour_before))) {
    ++part.epoch;
  }
  PublishNational(part);
  // De-duplication days that left the horizon are deleted at the next commit
  // (in memory they count as absent already).
  const int64_t keep_from = FloorDiv(now - options_.dedup_horizon_ms, kMsPerDay);
  part.evicted_before_day = std::max(part.evicted_before_day, keep_from);
  probe_->Watermark(part.id, now, now - options_.allowed_lateness_ms);
  return barrier_->Ready(part);
}

void Engine::AdvanceStore(PartitionState& part, TimeMs t) {
  if (!part.store->merger_steps().empty()) FoldMergersDue(part, t);
  const bool hours = plan_->uses_hours();
  const int64_t before = part.store->has_clock() ? part.store->final_bucket(hours) : INT64_MIN;
  part.store->Advance(t);
  // Forwarded events join the buckets they close with, before the snapshot
  // of those buckets is published.
  if (forwarding_ && !forwarders_of_[static_cast<size_t>(part.id)].empty()) {
    TakeForwards(part, before, part.store->final_bucket(hours));
  }
}

int64_t Engine::FinestFinalAt(TimeMs t) const {
  const TimeMs width = plan_->uses_hours() ? kMsPerHour : kMsPerDay;
  return FloorDiv(t - options_.allowed_lateness_ms, width) - 1;
}

bool Engine::ForwardsReady(PartitionState& part, TimeMs t) {
  if (!forwarding_ || forward_involved_[static_cast<size_t>(part.id)] == 0) return true;
  const WindowStore& ws = *part.store;
  const int64_t to = FinestFinalAt(t);
  const int64_t from = ws.has_clock() ? ws.final_bucket(plan_->uses_hours()) : INT64_MIN;
  if (to <= from) return true;
  if (part.forwards_through < to) PublishForwards(part, from, to);
  for (int source : forwarders_of_[static_cast<size_t>(part.id)]) {
    if (!forwards_->Covers(source, from, to)) return false;
  }
  return true;
}

void Engine::PublishForwards(PartitionState& part, int64_t from, int64_t to) {
  ForwardBatch batch;
  batch.partition = part.id;
  batch.after = from;
  batch.through = to;
  batch.events.swap(part.forwards_pending);
  part.forwards_through = to;
  // Kept for a restart as long as a partition behind may still need them
  // (the span national snapshots are published again for, ResetPartition).
  const int64_t keep =
      int64_t{plan_->uses_hours() ? 24 : 1} * (kReloadHistoryDays + options_.national_lag_days + 1);
  std::erase_if(part.forwards_sent, [&](const ForwardBatch& b) {
    return from != INT64_MIN && b.through < from - keep;
  });
  part.forwards_sent.push_back(batch);
  part.meta_dirty = true;
  if (options_.export_national) {
    national_out_.push_back(ForwardExchange::Encode(plan_->rule_set().version(), batch));
  }
  forwards_->Publish(std::move(batch));
}

void Engine::TakeForwards(PartitionState& part, int64_t from, int64_t to) {
  if (to <= from) return;
  const int64_t applied_before = stats_.forwards_applied;
  for (int source : forwarders_of_[static_cast<size_t>(part.id)]) {
    forwards_->ForEach(source, part.id, from, to, [&](const ForwardedEvent& e) {
      connectors::SourceRecord record;
      record.payload = e.payload;
      record.partition = source;
      DecodedEvent event;
      DecodeError error;
      // The same plan decoded it on arrival; a reload in between may not.
      auto origin = [&] { return fmt::format("forwarded from partition {}", source); };
      if (!forward_decoder_->Decode(e.payload, false, &event, &error)) {
        DeadLetter(error.reason, std::move(error.detail), record, origin(), part.id);
        return;
      }
      if (partition_of_[static_cast<size_t>(event.municipality)] != part.id) {
        WrongPartition(partition_of_[static_cast<size_t>(event.municipality)], part.id, event,
                       record, origin());
        return;
      }
      const int local = part.store->CountingUnit(part.store->Local(event.municipality));
      const int buurt =
          event.neighbourhood >= 0 ? part.store->LocalOfNeighbourhood(event.neighbourhood) : -1;
      CountEvent(part, event, local, buurt);
      ++stats_.forwards_applied;
    });
  }
  // Windows moved without an event of this partition: cached outcomes are stale.
  if (stats_.forwards_applied != applied_before) {
    ++part.epoch;
    part.meta_dirty = true;
  }
}

void Engine::FoldMergersDue(PartitionState& part, TimeMs t) {
  // SPEC 8.3: when T enters the effective day, the old codes' buckets are
  // summed into the new code's; its evidence takes theirs too. Rules for the
  // old codes stop; the new code's conditions see new windows.
  WindowStore& ws = *part.store;
  for (int s : ws.merger_steps()) {
    const reference::MergerStep& step = plan_->mergers()[static_cast<size_t>(s)];
    if (ws.folded(s) || t < step.effective_day * kMsPerDay) continue;
    ws.Fold(s);
    const int into = ws.Local(step.new_unit);
    for (int old : step.old_units) {
      const int from = ws.Local(old);
      if (from >= 0) MergeEvidence(part, from, into, static_cast<size_t>(options_.evidence_ids));
    }
    part.folded_steps.push_back(step.key);
    ++part.epoch;
    part.meta_dirty = true;
  }
}

TimeMs Engine::IdleTarget() const {
  // The moment a partition without events is moved to: as soon after its last
  // closed day as the newest closed day any partition has published. It
  // depends only on that day, so every instance layout and a file replay
  // move a quiet partition to the same time.
  auto newest = national_->NewestPublished(false);
  TimeMs target = kMinTime;
  if (newest) target = (*newest + 1) * kMsPerDay + options_.allowed_lateness_ms;
  // A partition waiting for a quiet one's forwarded events promised up to
  // where it wants to go: the quiet one is moved that far.
  if (forwarding_) {
    if (auto through = forwards_->NewestThrough(); through && *through != INT64_MIN) {
      const TimeMs width = plan_->uses_hours() ? kMsPerHour : kMsPerDay;
      target = std::max(target, (*through + 1) * width + options_.allowed_lateness_ms);
    }
  }
  if (target == kMinTime) return kMinTime;
  // Hourly series: the newest closed hour may lie a day past the newest
  // closed day; a partition moved only to the day would never close that
  // hour and a neighbour waiting for it would wait forever.
  if (plan_->uses_hours()) {
    if (auto hour = national_->NewestPublished(true)) {
      target = std::max(target, (*hour + 1) * kMsPerHour + options_.allowed_lateness_ms);
    }
  }
  return target;
}

Status Engine::Drain() {
  // No more input. Events held back for national figures can only be released
  // by moving lagging partitions forward, as Kafka does for idle partitions.
  if (active_partitions_.size() <= 1) return TryDrainBlocked();
  while (true) {
    ZICHT_RETURN_IF_ERROR(TryDrainBlocked());
    const TimeMs target = IdleTarget();
    if (target == kMinTime) return Status::Ok();
    bool behind = barrier_->held() > 0;
    for (int pid : active_partitions_) {
      const PartitionState& p = Partition(pid);
      if (p.owned && (!p.has_clock || p.clock < target)) behind = true;
    }
    if (!behind) return Status::Ok();
    bool stuck = false;
    ZICHT_RETURN_IF_ERROR(MoveIdleTo(target, &stuck));
    // Released events may have moved the newest closed day (and held ones may
    // wait for exactly that day from the others): go again.
    if (IdleTarget() == target) {
      return stuck ? Status::Internal("held-back events cannot be released") : Status::Ok();
    }
  }
}

Status Engine::AdvanceTo(TimeMs target) {
  bool stuck = false;
  ZICHT_RETURN_IF_ERROR(MoveIdleTo(target, &stuck));
  if (stuck) return Status::Internal("held-back events cannot be released");
  return Status::Ok();
}

Status Engine::MoveIdleTo(TimeMs target, bool* stuck) {
  *stuck = false;
  while (true) {
    ZICHT_RETURN_IF_ERROR(TryDrainBlocked());
    bool pending = false, moved = false;
    for (int pid : active_partitions_) {
      PartitionState& p = Partition(pid);
      if (!p.owned) continue;
      if (!p.pending.empty()) {
        pending = true;
        continue;
      }
      if (p.has_clock && p.clock >= target) continue;
      Tick(p, target);
      moved = true;
    }
    if (!pending && !moved) return Status::Ok();
    if (pending && !moved) {
      ZICHT_RETURN_IF_ERROR(TryDrainBlocked());
      // Events that wait for figures past `target`: only moving the others
      // further (Drain's next round) releases them.
      for (const auto& p : partitions_) {
        if (!p->pending.empty()) {
          *stuck = true;
          return Status::Ok();
        }
      }
    }
  }
}

void Engine::Tick(PartitionState& part, TimeMs now) {
  // As if an event at `now` arrived that counts nowhere: the clock moves and,
  // on a new day, every rule is evaluated for every municipality - once the
  // national figures for the new final bucket exist.
  // Held until forwarded events or national figures allow it; `advanced`:
  // the clock has moved already.
  auto hold = [&](bool advanced) {
    PendingEvent pe;
    pe.time = now;
    pe.tick = true;
    pe.advanced = advanced;
    pe.forwards = !advanced;
    barrier_->Hold(part, std::move(pe), /*at_front=*/false);
  };
  if (!ForwardsReady(part, now)) return hold(false);
  if (!AdvanceClock(part, now)) return hold(true);
  FinishTick(part, now);
}

void Engine::FinishTick(PartitionState& part, TimeMs now) {
  const bool day_changed =
      !part.has_clock || FloorDiv(now, kMsPerDay) > FloorDiv(part.clock, kMsPerDay);
  part.clock = std::max(part.clock, now);
  part.has_clock = true;
  part.meta_dirty = true;
  if (day_changed) EvaluateAll(part);
}

Status Engine::TryDrainBlocked() {
  bool progress = true;
  while (progress && barrier_->held() > 0) {
    progress = false;
    for (auto& pp : partitions_) {
      PartitionState& part = *pp;
      while (!part.pending.empty()) {
        const PendingEvent& front = part.pending.front();
        if (front.forwards && !ForwardsReady(part, front.time)) break;
        if (front.advanced && !barrier_->Ready(part)) break;
        PendingEvent pe = barrier_->TakeFront(part);
        progress = true;
        if (pe.tick) {
          if (!pe.advanced && !AdvanceClock(part, pe.time)) {
            pe.advanced = true;
            pe.forwards = false;
            barrier_->Hold(part, std::move(pe), /*at_front=*/true);
            break;
          }
          FinishTick(part, pe.time);
          continue;
        }
        pe.record.payload = pe.payload;
        DecodedEvent event;
        DecodeError error;
        // Records queued undecoded (Kafka) meet their checks here.
        if (!decoder_->Decode(pe.record.payload, false, &event, &error)) {
          DeadLetter(error.reason, std::move(error.detail), pe.record, pe.source_name, part.id);
          NoteProcessed(&part, pe.record);
          continue;
        }
        const int forward_to = Route(part.id, event, pe.record, pe.source_name);
        if (forward_to == kDeadLettered) {
          NoteProcessed(&part, pe.record);
          continue;
        }
        if (!pe.advanced && pe.record.next_offset <= part.applied_offset) {
          ++stats_.skipped_replayed;
          continue;
        }
        const Outcome outcome = ProcessDecoded(part, event, pe.record, pe.source_name, pe.advanced,
                                               nullptr, forward_to);
        if (outcome != Outcome::kDone) {
          const bool forwards = outcome == Outcome::kWaitForwards;
          HoldBack(part, pe.record, pe.source_name, event.time, /*advanced=*/!forwards,
                   /*at_front=*/true, forwards);
          break;
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace zicht::engine
