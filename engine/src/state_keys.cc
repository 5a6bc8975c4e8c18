#include "zicht/engine/state_keys.h"

#include "state_codec.h"

namespace zicht::engine {
namespace {

constexpr uint8_t kMetaFormat = 3;

}  // namespace

std::string StateKeys::Partition(int partition) {
  std::string k;
  codec::PutU32(&k, static_cast<uint32_t>(partition));
  return k;
}

std::string StateKeys::Series(int partition, uint64_t series_key) {
  std::string k = Partition(partition);
  codec::PutU64(&k, series_key);
  return k;
}

std::string StateKeys::Bucket(int partition, uint64_t series_key, int64_t bucket) {
  std::string k = Series(partition, series_key);
  codec::PutI64(&k, bucket);
  return k;
}

std::string StateKeys::Municipality(int partition, uint64_t key, int code_number) {
  std::string k = Series(partition, key);
  codec::PutU16(&k, static_cast<uint16_t>(code_number));
  return k;
}

std::string StateKeys::Unit(int partition, uint64_t key, uint32_t unit_code) {
  std::string k = Series(partition, key);
  codec::PutU32(&k, unit_code);
  return k;
}

std::string StateKeys::DedupDay(int partition, int64_t day) {
  std::string k = Partition(partition);
  codec::PutI64(&k, day);
  return k;
}

std::string StateKeys::Dedup(int partition, int64_t day, uint64_t chunk) {
  std::string k = DedupDay(partition, day);
  codec::PutU64(&k, chunk);
  return k;
}

std::string StateKeys::PartitionMeta(int partition) {
  return "p" + Partition(partition);
}
std::string StateKeys::SourceMeta(int partition) {
  return "s" + Partition(partition);
}

std::string StateKeys::Outbox(int partition, uint64_t seq) {
  std::string k = Partition(partition);
  codec::PutU64(&k, seq);
  return k;
}

std::string PartitionCodec::EncodeMeta(const PartitionMeta& m) {
  std::string value;
  codec::PutU8(&value, kMetaFormat);
  codec::PutU8(&value, m.has_clock ? 1 : 0);
  codec::PutI64(&value, m.clock);
  codec::PutI64(&value, m.first_event_time);
  codec::PutI64(&value, m.current_day);
  codec::PutI64(&value, m.current_hour);
  codec::PutI64(&value, m.final_day);
  codec::PutI64(&value, m.final_hour);
  codec::PutI64(&value, m.applied_offset);
  codec::PutI64(&value, m.evicted_before_day);
  codec::PutU8(&value, m.store_clock ? 1 : 0);
  codec::PutU64(&value, m.dedup_chunk);
  codec::PutU64(&value, m.next_seq);
  codec::PutU64(&value, m.commit_seq);
  if (!m.folded_steps.empty() || !m.forwards.empty()) {
    codec::PutU32(&value, static_cast<uint32_t>(m.folded_steps.size()));
    for (const std::string& k : m.folded_steps) codec::PutBytes(&value, k);
  }
  if (!m.forwards.empty()) codec::PutBytes(&value, m.forwards);
  return value;
}

std::optional<PartitionMeta> PartitionCodec::DecodeMeta(std::string_view value) {
  codec::Reader in(value);
  if (in.U8() != kMetaFormat) return std::nullopt;
  PartitionMeta m;
  m.has_clock = in.U8() == 1;
  m.clock = in.I64();
  m.first_event_time = in.I64();
  m.current_day = in.I64();
  m.current_hour = in.I64();
  m.final_day = in.I64();
  m.final_hour = in.I64();
  m.applied_offset = in.I64();
  m.evicted_before_day = in.I64();
  m.store_clock = in.U8() == 1;
  m.dedup_chunk = in.U64();
  m.next_seq = in.U64();
  m.commit_seq = in.U64();
  if (in.ok() && !in.done()) {
    const uint32_t n = in.U32();
    for (uint32_t i = 0; i < n && in.ok(); ++i) m.folded_steps.emplace_back(in.Bytes());
  }
  if (in.ok() && !in.done()) m.forwards = std::string(in.Bytes());
  if (!in.ok()) return std::nullopt;
  return m;
}

std::string PartitionCodec::EncodePosition(const SourcePosition& p) {
  std::string value;
  codec::PutI64(&value, p.next_offset);
  codec::PutI64(&value, p.line);
  codec::PutBytes(&value, p.source_id);
  return value;
}

std::optional<SourcePosition> PartitionCodec::DecodePosition(std::string_view value) {
  codec::Reader v(value);
  SourcePosition pos;
  pos.next_offset = v.I64();
  pos.line = v.I64();
  pos.source_id.assign(v.Bytes());
  if (!v.ok()) return std::nullopt;
  return pos;
}

std::string PartitionCodec::EncodeOutbox(bool alert, const connectors::OutRecord& r) {
  std::string v;
  codec::PutU8(&v, alert ? 1 : 0);
  codec::PutBytes(&v, r.key);
  codec::PutU16(&v, static_cast<uint16_t>(r.headers.size()));
  for (const auto& [hk, hv] : r.headers) {
    codec::PutBytes(&v, hk);
    codec::PutBytes(&v, hv);
  }
  codec::PutBytes(&v, r.value);
  return v;
}

bool PartitionCodec::DecodeOutbox(std::string_view data, bool* alert, connectors::OutRecord* r) {
  codec::Reader in(data);
  *alert = in.U8() == 1;
  r->key.assign(in.Bytes());
  uint16_t n = in.U16();
  for (uint16_t i = 0; i < n && in.ok(); ++i) {
    std::string hk(in.Bytes());
    std::string hv(in.Bytes());
    r->headers.emplace_back(std::move(hk), std::move(hv));
  }
  r->value.assign(in.Bytes());
  return in.ok() && in.done();
}

std::optional<uint64_t> CommitSeqOfMeta(std::string_view meta) {
  auto m = PartitionCodec::DecodeMeta(meta);
  if (!m) return std::nullopt;
  return m->commit_seq;
}

Status WipePartitionState(StateStore* store, int partition) {
  StateBatch batch;
  const std::string prefix = StateKeys::Partition(partition);
  for (Family f :
       {Family::kBuckets, Family::kEvidence, Family::kTimers, Family::kDedup, Family::kOutbox}) {
    batch.DeleteRange(f, prefix, PrefixEnd(prefix), partition);
  }
  batch.Delete(Family::kMeta, StateKeys::PartitionMeta(partition), partition);
  batch.Delete(Family::kMeta, StateKeys::SourceMeta(partition), partition);
  return store->Write(batch);
}

}  // namespace zicht::engine
