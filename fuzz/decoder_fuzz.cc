// Fuzz target (a): EventDecoder::Decode on arbitrary bytes, with the four
// built-in types and a declared type (strings with allowed values, numbers,
// an optional field). Checks what the decoder promises for any input: no
// crash, a rejected event has one reason and a short detail, an accepted
// event satisfies the envelope rules of SPEC section 2.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.h"
#include "zicht/engine/decoder.h"
#include "zicht/engine/plan.h"
#include "zicht/runtime/plan_loader.h"

namespace {

using zicht::engine::DecodedEvent;
using zicht::engine::DecodeError;
using zicht::engine::EventDecoder;

struct Decoders {
  zicht::engine::PlanPtr plan;
  std::unique_ptr<EventDecoder> decoder;
  std::unique_ptr<EventDecoder> tight;  // small limits: size, depth and field count paths
};

Decoders& Get() {
  static Decoders* d = [] {
    auto* out = new Decoders;
    zicht::runtime::PlanSources setup;
    setup.rule_files = {zicht::fuzz::SourcePath("tests/rules/data/spec_reference.yaml")};
    setup.municipalities_path = zicht::fuzz::SourcePath("config/reference/municipalities.csv");
    auto plan = zicht::runtime::LoadPlan(setup);
    ZICHT_FUZZ_CHECK(plan.ok(), "the fixed pack loads");
    out->plan = *plan;
    out->decoder =
        std::make_unique<EventDecoder>(out->plan->schemas(), out->plan->municipalities_ptr());
    zicht::engine::DecoderOptions tight;
    tight.max_event_bytes = 256;
    tight.max_depth = 3;
    tight.max_fields = 6;
    out->tight = std::make_unique<EventDecoder>(out->plan->schemas(),
                                                out->plan->municipalities_ptr(), tight);
    return out;
  }();
  return *d;
}

void Check(EventDecoder& decoder, std::string_view bytes, bool padded, size_t max_bytes) {
  DecodedEvent event;
  DecodeError error;
  const bool ok = decoder.Decode(bytes, padded, &event, &error);
  if (!ok) {
    ZICHT_FUZZ_CHECK(static_cast<int>(error.reason) < zicht::engine::kDeadLetterReasonCount,
                     "reason in range");
    ZICHT_FUZZ_CHECK(!error.detail.empty(), "a rejection says why");
    // Details quote at most a short prefix of the input (they go to headers
    // and logs): never the payload itself.
    ZICHT_FUZZ_CHECK(error.detail.size() <= 512, "detail is short");
    return;
  }
  ZICHT_FUZZ_CHECK(bytes.size() <= max_bytes, "size limit");
  const auto& schemas = decoder.schemas();
  ZICHT_FUZZ_CHECK(event.type >= 0 && static_cast<size_t>(event.type) < schemas.size(),
                   "type index");
  ZICHT_FUZZ_CHECK(!event.id.empty(), "id not empty");
  ZICHT_FUZZ_CHECK(event.municipality >= 0 &&
                       static_cast<size_t>(event.municipality) < decoder.municipalities().size(),
                   "municipality index");
  const auto& schema = schemas.type(event.type);
  ZICHT_FUZZ_CHECK(event.fields.size() == schema.fields.size(), "one value per declared field");
  for (size_t f = 0; f < schema.fields.size(); ++f) {
    const auto& fs = schema.fields[f];
    const auto& v = event.fields[f];
    ZICHT_FUZZ_CHECK(v.present || fs.optional, "required fields present");
    if (v.present && !fs.values.empty() && fs.type == zicht::rules::FieldType::kString) {
      ZICHT_FUZZ_CHECK(v.value_index >= 0 &&
                           static_cast<size_t>(v.value_index) < fs.values.size() &&
                           fs.values[static_cast<size_t>(v.value_index)] == v.text,
                       "enumerated value index");
    }
  }
}

}  // namespace

extern "C" int ZICHT_FUZZ_ENTRY(const uint8_t* data, size_t size) {
  Decoders& d = Get();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Check(*d.decoder, bytes, /*padded=*/false, 64 * 1024);
  // The zero-copy path: simdjson reads up to 64 bytes past the end.
  std::string padded(bytes);
  padded.append(64, '\0');
  Check(*d.decoder, std::string_view(padded.data(), size), /*padded=*/true, 64 * 1024);
  Check(*d.tight, bytes, /*padded=*/false, 256);
  return 0;
}
