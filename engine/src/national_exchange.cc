#include "national_exchange.h"

#include <fmt/format.h>

#include "state_codec.h"

namespace zicht::engine {
namespace {
// 2: unit codes and counts as 32 bits (neighbourhood indicators, SPEC 8.3).
constexpr uint8_t kNationalFormat = 2;
}  // namespace

std::pair<std::string, std::string> NationalExchange::Encode(const Plan& plan, int partition,
                                                             bool hours, int64_t final_bucket,
                                                             const WindowStore& ws, int lag_days) {
  // key: partition, unit, final bucket modulo the history kept, so a
  // compacted topic keeps the last `history` snapshots of each partition.
  std::string key;
  codec::PutU32(&key, static_cast<uint32_t>(partition));
  codec::PutU8(&key, static_cast<uint8_t>(hours ? 1 : 0));
  codec::PutU8(&key, static_cast<uint8_t>(((final_bucket % 64) + 64) % 64));
  std::string value;
  codec::PutU8(&value, kNationalFormat);
  codec::PutBytes(&value, plan.rule_set().version());
  codec::PutU32(&value, static_cast<uint32_t>(partition));
  codec::PutU8(&value, static_cast<uint8_t>(hours ? 1 : 0));
  codec::PutI64(&value, final_bucket);
  const MunicipalityTable& munis = plan.municipalities();
  uint16_t count = 0;
  for (const IndicatorDef& ind : plan.indicators()) {
    if (ind.series >= 0 && ws.series_hours(ind.series) == hours) ++count;
  }
  codec::PutU16(&value, count);
  for (const IndicatorDef& ind : plan.indicators()) {
    if (ind.series < 0 || ws.series_hours(ind.series) != hours) continue;
    codec::PutU16(&value, static_cast<uint16_t>(ind.index));
    // Units by code, not by index: instances may order their tables
    // differently; empty windows are left out (they pool as zero).
    std::vector<std::pair<int, WindowAgg>> finals;
    ForEachUnit(plan, ws, ind.index, [&](int unit, int local) {
      const WindowAgg a = NationalWindow(plan, ws, ind.index, local, final_bucket, lag_days);
      if (!(a == WindowAgg{})) finals.emplace_back(unit, a);
    });
    codec::PutU32(&value, static_cast<uint32_t>(finals.size()));
    for (const auto& [unit, a] : finals) {
      const int64_t code =
          ind.neighbourhood
              ? NeighbourhoodTable::CodeNumber(
                    plan.neighbourhoods()->at(static_cast<size_t>(unit)).code)
              : MunicipalityTable::CodeNumber(munis.at(static_cast<size_t>(unit)).code);
      codec::PutU32(&value, static_cast<uint32_t>(code));
      codec::PutI64(&value, a.n_match);
      codec::PutI64(&value, a.n_all);
      codec::PutI128(&value, a.sum);
    }
  }
  return {std::move(key), std::move(value)};
}

Result<NationalExchange::Decoded> NationalExchange::Decode(const Plan& plan,
                                                           std::string_view data) {
  codec::Reader v(data);
  if (v.U8() != kNationalFormat) return Status::InvalidArgument("unknown national snapshot format");
  std::string_view version = v.Bytes();
  Decoded out;
  out.partition = static_cast<int>(v.U32());
  out.hours = v.U8() != 0;
  out.snapshot.final_bucket = v.I64();
  if (!v.ok()) return Status::Corruption("truncated national snapshot");
  if (version != plan.rule_set().version()) return Decoded{};
  out.same_rule_set = true;
  const MunicipalityTable& munis = plan.municipalities();
  const uint16_t count = v.U16();
  for (uint16_t i = 0; i < count && v.ok(); ++i) {
    const int indicator = v.U16();
    const uint32_t n = v.U32();
    if (indicator < 0 || static_cast<size_t>(indicator) >= plan.indicators().size()) {
      return Status::InvalidArgument("national snapshot names an unknown indicator");
    }
    const bool buurt = plan.indicators()[static_cast<size_t>(indicator)].neighbourhood;
    if (buurt && plan.neighbourhoods() == nullptr) {
      return Status::InvalidArgument("national snapshot of a neighbourhood indicator, no table");
    }
    std::vector<std::pair<int, WindowAgg>> values;
    values.reserve(std::min<uint32_t>(n, 1u << 16));
    for (uint32_t j = 0; j < n && v.ok(); ++j) {
      const uint32_t code = v.U32();
      const int m = buurt ? plan.neighbourhoods()->IndexOfNumber(code)
                          : munis.IndexOf(fmt::format("GM{:04d}", code));
      WindowAgg a;
      a.n_match = v.I64();
      a.n_all = v.I64();
      a.sum = v.Int128();
      if (m >= 0) values.emplace_back(m, a);
    }
    out.snapshot.values.emplace_back(indicator, std::move(values));
  }
  if (!v.ok() || !v.done()) return Status::Corruption("undecodable national snapshot");
  return out;
}

}  // namespace zicht::engine
