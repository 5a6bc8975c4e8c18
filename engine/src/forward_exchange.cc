#include "forward_exchange.h"

#include "state_codec.h"

namespace zicht::engine {
namespace {
// First byte of a batch on the national topic; national snapshots start with
// their own format byte (2), so one topic carries both.
constexpr uint8_t kForwardFormat = 0x46;
constexpr uint8_t kForwardStateFormat = 1;
// The key's unit byte: 0 and 1 are national snapshots (days, hours).
constexpr uint8_t kForwardUnit = 2;

void PutBatch(std::string* out, const ForwardBatch& b) {
  codec::PutU32(out, static_cast<uint32_t>(b.partition));
  codec::PutI64(out, b.after);
  codec::PutI64(out, b.through);
  codec::PutU32(out, static_cast<uint32_t>(b.events.size()));
  for (const ForwardedEvent& e : b.events) {
    codec::PutU32(out, static_cast<uint32_t>(e.target));
    codec::PutBytes(out, e.payload);
  }
}

void PutEvents(std::string* out, const std::vector<ForwardedEvent>& events) {
  codec::PutU32(out, static_cast<uint32_t>(events.size()));
  for (const ForwardedEvent& e : events) {
    codec::PutU32(out, static_cast<uint32_t>(e.target));
    codec::PutBytes(out, e.payload);
  }
}

void ReadEvents(codec::Reader& in, std::vector<ForwardedEvent>* events) {
  const uint32_t n = in.U32();
  for (uint32_t i = 0; i < n && in.ok(); ++i) {
    ForwardedEvent e;
    e.target = static_cast<int>(in.U32());
    e.payload = std::string(in.Bytes());
    events->push_back(std::move(e));
  }
}

ForwardBatch ReadBatch(codec::Reader& in) {
  ForwardBatch b;
  b.partition = static_cast<int>(in.U32());
  b.after = in.I64();
  b.through = in.I64();
  ReadEvents(in, &b.events);
  return b;
}

}  // namespace

void ForwardExchange::Publish(ForwardBatch batch) {
  auto& of = batches_[batch.partition];
  of[batch.after] = std::move(batch);
  // Keep what a partition up to `history_` buckets behind can still ask for.
  int64_t newest = INT64_MIN;
  for (const auto& [after, b] : of) newest = std::max(newest, b.through);
  while (!of.empty() && of.begin()->second.through < newest - history_) of.erase(of.begin());
}

bool ForwardExchange::Covers(int source, int64_t from, int64_t to) const {
  auto it = batches_.find(source);
  if (it == batches_.end()) return false;
  const auto& of = it->second;
  // The batch the source was in at `from` (the last one starting at or
  // before it), then batches chained through to `to`.
  auto b = of.upper_bound(from);
  if (b == of.begin()) return false;
  --b;
  int64_t reached = b->second.through;
  while (reached < to) {
    auto next = of.find(reached);
    if (next == of.end()) return false;
    reached = next->second.through;
  }
  return true;
}

void ForwardExchange::ForEach(int source, int target, int64_t from, int64_t to,
                              const std::function<void(const ForwardedEvent&)>& fn) const {
  auto it = batches_.find(source);
  if (it == batches_.end()) return;
  // Events accepted at final bucket `after` close with bucket after + 1.
  for (auto b = it->second.lower_bound(from); b != it->second.end() && b->first < to; ++b) {
    for (const ForwardedEvent& e : b->second.events) {
      if (e.target == target) fn(e);
    }
  }
}

std::optional<int64_t> ForwardExchange::NewestThrough() const {
  std::optional<int64_t> newest;
  for (const auto& [p, of] : batches_) {
    for (const auto& [after, b] : of) {
      if (!newest || b.through > *newest) newest = b.through;
    }
  }
  return newest;
}

std::pair<std::string, std::string> ForwardExchange::Encode(std::string_view rule_version,
                                                            const ForwardBatch& batch) {
  // Keyed like snapshots (partition, unit, slot): the compacted topic keeps
  // the last 64 batches of each partition; one republished after a restart
  // replaces the one it repeats.
  std::string key;
  codec::PutU32(&key, static_cast<uint32_t>(batch.partition));
  codec::PutU8(&key, kForwardUnit);
  codec::PutU8(&key, static_cast<uint8_t>(static_cast<uint64_t>(batch.after) % 64));
  std::string value;
  codec::PutU8(&value, kForwardFormat);
  codec::PutBytes(&value, rule_version);
  PutBatch(&value, batch);
  return {std::move(key), std::move(value)};
}

bool ForwardExchange::IsBatch(std::string_view value) {
  return !value.empty() && static_cast<uint8_t>(value[0]) == kForwardFormat;
}

Result<std::optional<ForwardBatch>> ForwardExchange::Decode(std::string_view rule_version,
                                                            std::string_view value) {
  codec::Reader in(value);
  if (in.U8() != kForwardFormat) return Status::InvalidArgument("not a forward batch");
  const std::string_view version = in.Bytes();
  if (!in.ok()) return Status::Corruption("truncated forward batch");
  if (version != rule_version) return std::optional<ForwardBatch>();
  ForwardBatch b = ReadBatch(in);
  if (!in.ok() || !in.done()) return Status::Corruption("undecodable forward batch");
  return std::optional<ForwardBatch>(std::move(b));
}

std::string ForwardExchange::EncodeState(int64_t through,
                                         const std::vector<ForwardedEvent>& pending,
                                         const std::vector<ForwardBatch>& sent) {
  std::string out;
  codec::PutU8(&out, kForwardStateFormat);
  codec::PutI64(&out, through);
  PutEvents(&out, pending);
  codec::PutU32(&out, static_cast<uint32_t>(sent.size()));
  for (const ForwardBatch& b : sent) PutBatch(&out, b);
  return out;
}

Status ForwardExchange::DecodeState(std::string_view data, int64_t* through,
                                    std::vector<ForwardedEvent>* pending,
                                    std::vector<ForwardBatch>* sent) {
  codec::Reader in(data);
  if (in.U8() != kForwardStateFormat) return Status::Corruption("unknown forward state format");
  *through = in.I64();
  ReadEvents(in, pending);
  const uint32_t n = in.U32();
  for (uint32_t i = 0; i < n && in.ok(); ++i) sent->push_back(ReadBatch(in));
  if (!in.ok() || !in.done()) return Status::Corruption("undecodable forward state");
  return Status::Ok();
}

}  // namespace zicht::engine
