#include "partition_store.h"

#include <fmt/format.h>

#include <algorithm>

#include "state_codec.h"
#include "zicht/engine/state_keys.h"

namespace zicht::engine {

uint64_t RuleKey(const RuleDef& rule) {
  Hash128 h = Murmur3_128(rule.pack + "/" + rule.spec->id + "|" + rule.spec->version);
  return h.lo;
}

int PartitionStore::CodeOf(const PartitionState& part, int local) const {
  const WindowStore& ws = *part.store;
  return MunicipalityTable::CodeNumber(
      plan_.municipalities()
          .at(static_cast<size_t>(ws.municipalities()[static_cast<size_t>(local)]))
          .code);
}

int PartitionStore::LocalOfCode(const PartitionState& part, int code_number) const {
  int m = plan_.municipalities().IndexOf(fmt::format("GM{:04d}", code_number));
  return m < 0 ? -1 : part.store->Local(m);
}

namespace {
constexpr uint32_t kNeighbourhoodFlag = 0x80000000u;
}  // namespace

// Series and rules kept per neighbourhood name their units with 32 bits: a
// municipality by its code number, a neighbourhood by its buurt number with
// the top bit set. Everything else keeps the 16-bit municipality codes.
uint32_t PartitionStore::UnitCodeOf(const PartitionState& part, int local) const {
  const WindowStore& ws = *part.store;
  if (!ws.is_neighbourhood(local)) return static_cast<uint32_t>(CodeOf(part, local));
  const auto& n = plan_.neighbourhoods()->at(static_cast<size_t>(ws.NeighbourhoodOf(local)));
  return kNeighbourhoodFlag | static_cast<uint32_t>(NeighbourhoodTable::CodeNumber(n.code));
}

int PartitionStore::LocalOfUnitCode(const PartitionState& part, uint32_t code) const {
  if ((code & kNeighbourhoodFlag) == 0) return LocalOfCode(part, static_cast<int>(code));
  if (plan_.neighbourhoods() == nullptr) return -1;
  const int n = plan_.neighbourhoods()->IndexOfNumber(code & ~kNeighbourhoodFlag);
  return n < 0 ? -1 : part.store->LocalOfNeighbourhood(n);
}

void PartitionStore::Write(PartitionState& part, StateBatch* batch) {
  const size_t entries_before = batch->size();
  WriteBuckets(part, batch);
  WriteEvidenceAndTimers(part, batch);
  WriteDedup(part, batch);
  // Every commit that changes a partition ends with its meta record (and its
  // commit sequence): a changelog reader can tell where a commit ends.
  if (part.meta_dirty || batch->size() != entries_before) {
    part.meta_dirty = false;
    const WindowStore& ws = *part.store;
    PartitionMeta m;
    m.has_clock = part.has_clock;
    m.clock = part.clock;
    m.first_event_time = part.first_event_time;
    m.current_day = ws.current_bucket(false);
    m.current_hour = ws.current_bucket(true);
    m.final_day = ws.final_bucket(false);
    m.final_hour = ws.final_bucket(true);
    m.applied_offset = part.applied_offset;
    m.evicted_before_day = part.evicted_before_day;
    m.store_clock = ws.has_clock();
    m.dedup_chunk = part.dedup_chunk;
    m.next_seq = part.next_seq;
    m.commit_seq = ++part.commit_seq;
    m.folded_steps = part.folded_steps;
    if (!part.forwards_pending.empty() || !part.forwards_sent.empty() ||
        part.forwards_through != INT64_MIN) {
      m.forwards = ForwardExchange::EncodeState(part.forwards_through, part.forwards_pending,
                                                part.forwards_sent);
    }
    batch->Put(Family::kMeta, StateKeys::PartitionMeta(part.id), PartitionCodec::EncodeMeta(m),
               part.id);
  }
}

void PartitionStore::WriteBuckets(PartitionState& part, StateBatch* batch) {
  WindowStore& ws = *part.store;
  const int p = part.id;
  // One value per (series, bucket) row: the non-empty buckets of every
  // municipality of the partition (a key per municipality made commits slow).
  ws.TakeDirty(&dirty_);
  for (const DirtyRow& d : dirty_) {
    const SeriesDef& series = plan_.series()[static_cast<size_t>(d.series)];
    const size_t locals = ws.rows(d.series);
    std::string value;
    for (size_t l = 0; l < locals; ++l) {
      BucketValue v = ws.Bucket(d.series, static_cast<int>(l), d.bucket);
      if (v.n_all == 0) continue;
      if (series.neighbourhood) {
        codec::PutU32(&value, UnitCodeOf(part, static_cast<int>(l)));
      } else {
        codec::PutU16(&value, static_cast<uint16_t>(CodeOf(part, static_cast<int>(l))));
      }
      codec::PutU32(&value, v.n_match);
      codec::PutU32(&value, v.n_all);
      if (series.sum_field >= 0) codec::PutI128(&value, v.sum);
    }
    std::string key = StateKeys::Bucket(p, series.key, d.bucket);
    if (value.empty()) {
      batch->Delete(Family::kBuckets, std::move(key), p);
    } else {
      batch->Put(Family::kBuckets, std::move(key), std::move(value), p);
    }
  }
  if (!ws.has_clock()) return;
  part.persisted_oldest.resize(plan_.series().size(), INT64_MIN);
  for (size_t s = 0; s < plan_.series().size(); ++s) {
    const int64_t oldest = ws.oldest_bucket(static_cast<int>(s));
    int64_t& persisted = part.persisted_oldest[s];
    if (oldest <= persisted) continue;
    const uint64_t key = plan_.series()[s].key;
    std::string begin = StateKeys::Series(p, key), end = StateKeys::Series(p, key);
    codec::PutI64(&end, oldest);
    batch->DeleteRange(Family::kBuckets, std::move(begin), std::move(end), p);
    // The changelog is compacted per key: it needs a tombstone per row that
    // left. Rows before the first known oldest were never written.
    if (persisted != INT64_MIN) {
      for (int64_t b = persisted; b < oldest && b < persisted + 4096; ++b) {
        batch->MirrorDelete(Family::kBuckets, StateKeys::Bucket(p, key, b), p);
      }
    }
    persisted = oldest;
  }
}

void PartitionStore::WriteEvidenceAndTimers(PartitionState& part, StateBatch* batch) {
  const int p = part.id;
  const size_t munis = part.store->municipalities().size();
  const size_t units = part.store->units();
  for (size_t s = 0; s < plan_.series().size(); ++s) {
    const bool buurt = plan_.series()[s].neighbourhood;
    const size_t locals = part.store->rows(static_cast<int>(s));
    for (size_t l = 0; l < locals; ++l) {
      EvidenceRing& ring =
          part.evidence[part.EvidenceSlot(static_cast<int>(s), static_cast<int>(l))];
      if (!ring.dirty) continue;
      ring.dirty = false;
      std::string value;
      codec::PutU8(&value, static_cast<uint8_t>(ring.entries.size()));
      for (size_t i = 0; i < ring.entries.size(); ++i) {
        const EvidenceEntry& e = ring.entries[(ring.head + i) % ring.entries.size()];
        codec::PutI64(&value, e.time);
        codec::PutI64(&value, e.bucket);
        codec::PutBytes(&value, e.id);
      }
      const uint64_t key = plan_.series()[s].key;
      batch->Put(Family::kEvidence,
                 buurt ? StateKeys::Unit(p, key, UnitCodeOf(part, static_cast<int>(l)))
                       : StateKeys::Municipality(p, key, CodeOf(part, static_cast<int>(l))),
                 std::move(value), p);
    }
  }
  for (size_t r = 0; r < plan_.rules().size(); ++r) {
    const uint64_t key = RuleKey(plan_.rules()[r]);
    const bool buurt = plan_.rules()[r].neighbourhood;
    for (size_t l = buurt ? munis : 0; l < (buurt ? units : munis); ++l) {
      size_t slot = part.RuleSlot(static_cast<int>(r), static_cast<int>(l));
      if (!part.timer_dirty[slot]) continue;
      part.timer_dirty[slot] = 0;
      std::string value;
      codec::PutI64(&value, part.timers[slot].held_since);
      codec::PutI64(&value, part.timers[slot].last_alert);
      batch->Put(Family::kTimers,
                 buurt ? StateKeys::Unit(p, key, UnitCodeOf(part, static_cast<int>(l)))
                       : StateKeys::Municipality(p, key, CodeOf(part, static_cast<int>(l))),
                 std::move(value), p);
    }
  }
}

void PartitionStore::WriteDedup(PartitionState& part, StateBatch* batch) {
  const int p = part.id;
  // New de-duplication entries: one append-only chunk per day per commit
  // (a Put per event would dominate the commit cost).
  if (!part.seen_new.empty()) {
    std::sort(part.seen_new.begin(), part.seen_new.end(),
              [](const DedupRecord& a, const DedupRecord& b) { return a.day < b.day; });
    for (size_t i = 0; i < part.seen_new.size();) {
      size_t j = i;
      std::string value;
      while (j < part.seen_new.size() && part.seen_new[j].day == part.seen_new[i].day) {
        codec::PutU64(&value, part.seen_new[j].key.lo);
        codec::PutU64(&value, part.seen_new[j].key.hi);
        codec::PutI64(&value, part.seen_new[j].time);
        ++j;
      }
      const int64_t day = part.seen_new[i].day;
      part.dedup_chunks[day].push_back(part.dedup_chunk);
      batch->Put(Family::kDedup, StateKeys::Dedup(p, day, part.dedup_chunk++), std::move(value), p);
      i = j;
    }
    part.seen_new.clear();
    part.meta_dirty = true;
  }
  if (part.evicted_before_day > part.persisted_evicted_before_day) {
    batch->DeleteRange(Family::kDedup, StateKeys::Partition(p),
                       StateKeys::DedupDay(p, part.evicted_before_day), p);
    while (!part.dedup_chunks.empty() &&
           part.dedup_chunks.begin()->first < part.evicted_before_day) {
      for (uint64_t chunk : part.dedup_chunks.begin()->second) {
        batch->MirrorDelete(Family::kDedup,
                            StateKeys::Dedup(p, part.dedup_chunks.begin()->first, chunk), p);
      }
      part.dedup_chunks.erase(part.dedup_chunks.begin());
    }
    part.persisted_evicted_before_day = part.evicted_before_day;
  }
}

Status PartitionStore::Load(StateStore* store, PartitionState& part) {
  std::string value;
  Status s = store->Get(Family::kMeta, StateKeys::PartitionMeta(part.id), &value);
  if (s.code() == StatusCode::kNotFound) return Status::Ok();  // fresh partition
  ZICHT_RETURN_IF_ERROR(s);
  auto meta = PartitionCodec::DecodeMeta(value);
  if (!meta) return Status::Corruption("undecodable partition meta (unknown format or truncated)");
  part.has_clock = meta->has_clock;
  part.clock = meta->clock;
  part.first_event_time = meta->first_event_time;
  part.applied_offset = meta->applied_offset;
  part.evicted_before_day = part.persisted_evicted_before_day = meta->evicted_before_day;
  part.dedup_chunk = meta->dedup_chunk;
  part.next_seq = meta->next_seq;
  part.commit_seq = meta->commit_seq;
  part.meta_dirty = false;
  part.folded_steps = meta->folded_steps;
  if (!meta->forwards.empty()) {
    ZICHT_RETURN_IF_ERROR(ForwardExchange::DecodeState(
        meta->forwards, &part.forwards_through, &part.forwards_pending, &part.forwards_sent));
  }
  WindowStore& ws = *part.store;
  // Folds persisted with the buckets: only the bookkeeping is redone.
  for (int step : ws.merger_steps()) {
    const std::string& key = plan_.mergers()[static_cast<size_t>(step)].key;
    if (std::find(part.folded_steps.begin(), part.folded_steps.end(), key) !=
        part.folded_steps.end()) {
      ws.MarkFolded(step);
    }
  }
  if (meta->store_clock)
    ws.RestoreClock(meta->current_day, meta->current_hour, meta->final_day, meta->final_hour);
  if (ws.municipalities().empty() || !meta->store_clock) return Status::Ok();
  ZICHT_RETURN_IF_ERROR(LoadSeries(store, part));
  ws.RecomputeWindows();
  for (size_t r = 0; r < plan_.rules().size(); ++r) {
    std::string prefix = StateKeys::Series(part.id, RuleKey(plan_.rules()[r]));
    ZICHT_RETURN_IF_ERROR(store->Scan(Family::kTimers, prefix, PrefixEnd(prefix),
                                      [&](std::string_view key, std::string_view row) {
                                        codec::Reader k(key.substr(prefix.size())), v(row);
                                        const int local = plan_.rules()[r].neighbourhood
                                                              ? LocalOfUnitCode(part, k.U32())
                                                              : LocalOfCode(part, k.U16());
                                        rules::RuleTimer t;
                                        t.held_since = v.I64();
                                        t.last_alert = v.I64();
                                        if (local >= 0 && v.ok())
                                          part.timers[part.RuleSlot(static_cast<int>(r), local)] =
                                              t;
                                        return true;
                                      }));
  }
  return LoadDedup(store, part);
}

Status PartitionStore::LoadSeries(StateStore* store, PartitionState& part) {
  WindowStore& ws = *part.store;
  Status corrupt;
  part.persisted_oldest.assign(plan_.series().size(), INT64_MIN);
  for (size_t si = 0; si < plan_.series().size(); ++si) {
    const SeriesDef& series = plan_.series()[si];
    std::string prefix = StateKeys::Series(part.id, series.key);
    ZICHT_RETURN_IF_ERROR(
        store->Scan(Family::kBuckets, prefix, PrefixEnd(prefix),
                    [&](std::string_view key, std::string_view value) {
                      codec::Reader k(key.substr(prefix.size())), v(value);
                      int64_t bucket = k.I64();
                      if (part.persisted_oldest[si] == INT64_MIN)
                        part.persisted_oldest[si] = bucket;
                      while (k.ok() && v.ok() && !v.done()) {
                        const int local = series.neighbourhood ? LocalOfUnitCode(part, v.U32())
                                                               : LocalOfCode(part, v.U16());
                        BucketValue bv;
                        bv.n_match = v.U32();
                        bv.n_all = v.U32();
                        if (series.sum_field >= 0) bv.sum = v.Int128();
                        if (v.ok() && local >= 0)
                          ws.RestoreBucket(static_cast<int>(si), local, bucket, bv);
                      }
                      if (!k.ok() || !v.ok()) {
                        corrupt = Status::Corruption("undecodable bucket row");
                        return false;
                      }
                      return true;
                    }));
    ZICHT_RETURN_IF_ERROR(corrupt);
    ZICHT_RETURN_IF_ERROR(store->Scan(
        Family::kEvidence, prefix, PrefixEnd(prefix),
        [&](std::string_view key, std::string_view value) {
          codec::Reader k(key.substr(prefix.size())), v(value);
          const int local =
              series.neighbourhood ? LocalOfUnitCode(part, k.U32()) : LocalOfCode(part, k.U16());
          if (local < 0) return true;
          EvidenceRing& ring = part.evidence[part.EvidenceSlot(static_cast<int>(si), local)];
          ring = EvidenceRing{};
          uint8_t n = v.U8();
          for (uint8_t i = 0; i < n && v.ok(); ++i) {
            EvidenceEntry e;
            e.time = v.I64();
            e.bucket = v.I64();
            e.id.assign(v.Bytes());
            if (ring.entries.size() < static_cast<size_t>(options_.evidence_ids)) {
              ring.entries.push_back(std::move(e));
            }
          }
          if (!v.ok()) corrupt = Status::Corruption("undecodable evidence");
          return v.ok();
        }));
    ZICHT_RETURN_IF_ERROR(corrupt);
  }
  return Status::Ok();
}

Status PartitionStore::LoadDedup(StateStore* store, PartitionState& part) {
  Status corrupt;
  std::string prefix = StateKeys::Partition(part.id);
  ZICHT_RETURN_IF_ERROR(store->Scan(
      Family::kDedup, prefix, PrefixEnd(prefix), [&](std::string_view key, std::string_view value) {
        codec::Reader k(key.substr(prefix.size())), v(value);
        const int64_t day = k.I64();
        const uint64_t chunk = k.U64();
        if (k.ok()) part.dedup_chunks[day].push_back(chunk);
        while (k.ok() && v.ok() && !v.done()) {
          Hash128 h;
          h.lo = v.U64();
          h.hi = v.U64();
          TimeMs t = v.I64();
          // Chunks are read in commit order, so a later acceptance wins.
          if (v.ok()) part.seen.Put(h, t, part.clock - options_.dedup_horizon_ms);
        }
        if (!v.ok()) corrupt = Status::Corruption("undecodable de-duplication chunk");
        return v.ok();
      }));
  return corrupt;
}

}  // namespace zicht::engine
