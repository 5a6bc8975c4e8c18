// EventDecoder: JSON bytes -> DecodedEvent, with the envelope and declared-field
// checks of SPEC section 2 (simdjson DOM: full JSON and UTF-8 validation).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zicht/engine/event.h"
#include "zicht/reference/municipalities.h"
#include "zicht/reference/neighbourhoods.h"

namespace simdjson::dom {
class parser;
}

namespace zicht::engine {

// The engine names municipalities by the reference table's dense indices.
using reference::Municipality;
using reference::MunicipalityTable;
using reference::MunicipalityTablePtr;
using reference::NeighbourhoodTable;
using reference::NeighbourhoodTablePtr;

struct DecoderOptions {
  size_t max_event_bytes = size_t{64} * 1024;  // larger events are parse_error (default 64 KiB)
  size_t max_depth = 32;                       // deeper nesting is parse_error (default 32)
  size_t max_fields = 256;                     // more top-level fields is parse_error (default 256)
  double max_abs_number = 1e15;                // declared numbers beyond this are bad_type
};

struct DecodeError {
  DeadLetterReason reason = DeadLetterReason::kParseError;
  std::string detail;  // "amount_eur: expected number"
};

class EventDecoder {
 public:
  // `neighbourhoods` may be null: neighbourhood codes are then checked for
  // their form only.
  EventDecoder(std::shared_ptr<const SchemaRegistry> schemas, MunicipalityTablePtr municipalities,
               DecoderOptions options = {}, NeighbourhoodTablePtr neighbourhoods = nullptr,
               std::vector<int> final_of = {});
  ~EventDecoder();
  EventDecoder(const EventDecoder&) = delete;
  EventDecoder& operator=(const EventDecoder&) = delete;

  // Decodes one event. `padded` says that at least 64 readable bytes follow
  // `bytes` (simdjson's padding), which avoids a copy. Returns false and fills
  // `error` for a rejected event; never throws, never crashes on any input.
  bool Decode(std::string_view bytes, bool padded, DecodedEvent* out, DecodeError* error);

  const SchemaRegistry& schemas() const { return *schemas_; }
  const MunicipalityTable& municipalities() const { return *municipalities_; }

 private:
  std::shared_ptr<const SchemaRegistry> schemas_;
  MunicipalityTablePtr municipalities_;
  NeighbourhoodTablePtr neighbourhoods_;
  std::vector<int> final_of_;  // mergers: the final code of each municipality
  DecoderOptions options_;
  std::unique_ptr<simdjson::dom::parser> parser_;
  struct Scratch;  // per-call buffers kept between calls (no allocation per event)
  std::unique_ptr<Scratch> scratch_;
  std::vector<FieldValue> values_;
  std::string padding_buffer_;
  bool allocated_ = false;  // reused copy for unpadded input
};

}  // namespace zicht::engine
