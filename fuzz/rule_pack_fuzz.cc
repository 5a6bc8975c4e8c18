// Fuzz target (b): rule pack text through everything a reload does with it:
// LoadRulePackText (YAML + validation), BuildRuleSet, Plan::Build against the
// real municipality table; then, for every event type of the plan, one
// synthesized event through the decoder and every compiled `where` filter.
// Invariants: diagnostics carry a position inside the text; a pack either
// loads or has errors; Plan::Build of a validated pack succeeds; a filter
// accepts an event exactly when its value is in the clause's list.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.h"
#include "zicht/base/json_writer.h"
#include "zicht/engine/decoder.h"
#include "zicht/engine/plan.h"
#include "zicht/rules/loader.h"

namespace {

using zicht::engine::MunicipalityTable;

const zicht::engine::MunicipalityTablePtr& Municipalities() {
  static auto* table = [] {
    auto t =
        MunicipalityTable::Load(zicht::fuzz::SourcePath("config/reference/municipalities.csv"));
    ZICHT_FUZZ_CHECK(t.ok(), "municipalities load");
    return new zicht::engine::MunicipalityTablePtr(*t);
  }();
  return *table;
}

// One event of `schema` whose strings take the `pick`-th allowed value.
std::string SynthesizeEvent(const zicht::engine::EventTypeSchema& schema, size_t pick) {
  std::string out;
  zicht::JsonWriter w(&out);
  w.BeginObject();
  w.Key("type").String(schema.type).Key("id").String("fuzz-1");
  w.Key("time").String("2026-03-01T12:00:00Z").Key("municipality").String("GM0363");
  for (const auto& f : schema.fields) {
    if (f.name == "type" || f.name == "id" || f.name == "time" || f.name == "municipality")
      continue;
    w.Key(f.name);
    switch (f.type) {
      case zicht::rules::FieldType::kString:
        w.String(f.values.empty() ? std::string("x") : f.values[pick % f.values.size()]);
        break;
      case zicht::rules::FieldType::kNumber:
        w.Double(1);
        break;
      case zicht::rules::FieldType::kBool:
        w.Bool(true);
        break;
    }
  }
  w.EndObject();
  return out;
}

void ExerciseFilters(const zicht::engine::Plan& plan) {
  zicht::engine::EventDecoder decoder(plan.schemas(), plan.municipalities_ptr());
  const auto& schemas = *plan.schemas();
  for (size_t t = 0; t < schemas.size(); ++t) {
    const auto& schema = schemas.type(static_cast<int>(t));
    size_t most = 1;
    for (const auto& f : schema.fields) most = std::max(most, f.values.size());
    // The first value, the last one and one past 64 (the filter's bit mask).
    for (size_t pick : {size_t{0}, most - 1, std::min(most - 1, size_t{64})}) {
      std::string json = SynthesizeEvent(schema, pick);
      zicht::engine::DecodedEvent event;
      zicht::engine::DecodeError error;
      if (!decoder.Decode(json, false, &event, &error))
        continue;  // e.g. a field named like the envelope
      for (int s : plan.series_of_type(static_cast<int>(t))) {
        for (const auto& filter : plan.series()[static_cast<size_t>(s)].filters) {
          const auto& v = event.fields[static_cast<size_t>(filter.field)];
          const bool matches = filter.Matches(v);
          if (filter.type == zicht::rules::FieldType::kString) {
            const bool listed = std::find(filter.strings.begin(), filter.strings.end(), v.text) !=
                                filter.strings.end();
            ZICHT_FUZZ_CHECK(matches == listed, "string filter matches exactly its listed values");
          }
        }
      }
    }
  }
}

}  // namespace

extern "C" int ZICHT_FUZZ_ENTRY(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  zicht::rules::LoadOptions options;
  options.max_pack_bytes = 64 * 1024;  // keep executions fast; the limit itself is a path too
  zicht::rules::PackLoadResult loaded = zicht::rules::LoadRulePackText(text, "fuzz.yaml", options);
  ZICHT_FUZZ_CHECK(loaded.pack.has_value() != !loaded.errors.empty(), "a pack or errors, not both");
  for (const auto& d : loaded.errors) {
    ZICHT_FUZZ_CHECK(!d.message.empty(), "diagnostic has a message");
    ZICHT_FUZZ_CHECK(d.ToString().rfind("fuzz.yaml:", 0) == 0, "diagnostic names the file");
  }
  if (!loaded.pack) return 0;
  // Reference indicators read a fixed table, never a path from the input.
  for (auto& ind : loaded.pack->indicators) {
    if (ind.source)
      ind.source->path = zicht::fuzz::SourcePath("config/reference/youth_at_risk.csv");
  }
  zicht::rules::RuleSetLoadResult set = zicht::rules::BuildRuleSet({*loaded.pack});
  if (!set.rule_set) {
    ZICHT_FUZZ_CHECK(!set.errors.empty(), "a rejected rule set says why");
    return 0;
  }
  auto plan = zicht::engine::Plan::Build(set.rule_set, Municipalities());
  if (!plan.ok()) {
    // The reference column may be missing from the fixed table; anything
    // else means the validator let through a pack the engine cannot run.
    const bool reference =
        std::any_of(loaded.pack->indicators.begin(), loaded.pack->indicators.end(),
                    [](const auto& i) { return i.is_reference(); });
    ZICHT_FUZZ_CHECK(reference, "Plan::Build accepts every validated pack");
    return 0;
  }
  ExerciseFilters(**plan);
  return 0;
}
