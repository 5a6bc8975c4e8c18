#include "zicht/engine/decoder.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <array>
#include <cmath>
#include <cstring>

namespace zicht::engine {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// The four required envelope fields, then the optional neighbourhood (SPEC 8.3).
constexpr std::array<std::string_view, 5> kEnvelope = {"type", "id", "time", "municipality",
                                                       "neighbourhood"};
constexpr size_t kRequiredEnvelope = 4;

std::string_view JsonTypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY:
      return "array";
    case element_type::OBJECT:
      return "object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "number";
    case element_type::STRING:
      return "string";
    case element_type::BOOL:
      return "bool";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "value";
}

bool IsNumber(element_type t) {
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

// Number of UTF-8 code points (the input is already validated UTF-8).
size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

struct RawField {
  std::string_view key;
  element value;
};

}  // namespace

struct EventDecoder::Scratch {
  std::vector<RawField> rest;         // non-envelope fields of the current event
  std::vector<element> field_values;  // declared fields by schema index
};

EventDecoder::EventDecoder(std::shared_ptr<const SchemaRegistry> schemas,
                           MunicipalityTablePtr municipalities, DecoderOptions options,
                           NeighbourhoodTablePtr neighbourhoods, std::vector<int> final_of)
    : schemas_(std::move(schemas)),
      municipalities_(std::move(municipalities)),
      neighbourhoods_(std::move(neighbourhoods)),
      final_of_(std::move(final_of)),
      options_(options),
      parser_(std::make_unique<simdjson::dom::parser>()),
      scratch_(std::make_unique<Scratch>()) {
  scratch_->rest.reserve(64);
  scratch_->field_values.resize(schemas_->max_fields());
  // Capacity for the largest accepted event; simdjson counts the outermost
  // object as level 1, as SPEC does.
  allocated_ =
      parser_->allocate(options_.max_event_bytes + 1, options_.max_depth) == simdjson::SUCCESS;
  values_.resize(schemas_->max_fields());
}

EventDecoder::~EventDecoder() = default;

bool EventDecoder::Decode(std::string_view bytes, bool padded, DecodedEvent* out,
                          DecodeError* error) {
  auto fail = [&](DeadLetterReason reason, std::string detail) {
    error->reason = reason;
    error->detail = std::move(detail);
    return false;
  };
  if (bytes.size() > options_.max_event_bytes) {
    return fail(DeadLetterReason::kParseError,
                fmt::format("event is {} bytes, larger than the maximum of {}", bytes.size(),
                            options_.max_event_bytes));
  }
  if (!allocated_) return fail(DeadLetterReason::kParseError, "decoder has no memory");
  element doc;
  simdjson::error_code ec;
  if (padded) {
    ec = parser_->parse(bytes.data(), bytes.size(), false).get(doc);
  } else {
    if (padding_buffer_.size() < bytes.size() + simdjson::SIMDJSON_PADDING) {
      padding_buffer_.resize(bytes.size() + simdjson::SIMDJSON_PADDING);
    }
    std::memcpy(padding_buffer_.data(), bytes.data(), bytes.size());
    ec = parser_->parse(padding_buffer_.data(), bytes.size(), false).get(doc);
  }
  if (ec != simdjson::SUCCESS) {
    if (ec == simdjson::DEPTH_ERROR) {
      return fail(DeadLetterReason::kParseError,
                  fmt::format("nested deeper than {} levels", options_.max_depth));
    }
    if (ec == simdjson::UTF8_ERROR) return fail(DeadLetterReason::kParseError, "not valid UTF-8");
    if (ec == simdjson::EMPTY) return fail(DeadLetterReason::kParseError, "empty input");
    return fail(DeadLetterReason::kParseError,
                fmt::format("not JSON: {}", simdjson::error_message(ec)));
  }
  if (doc.type() != element_type::OBJECT) {
    return fail(DeadLetterReason::kParseError,
                fmt::format("not a JSON object but {}", JsonTypeName(doc.type())));
  }

  // One pass over the object: envelope fields into slots, the rest kept for
  // the declared fields once the type is known.
  std::array<element, kEnvelope.size()> envelope;
  std::array<bool, kEnvelope.size()> has_envelope{};
  std::vector<RawField>& rest = scratch_->rest;
  rest.clear();
  size_t field_count = 0;
  for (auto [key, value] : simdjson::dom::object(doc)) {
    if (++field_count > options_.max_fields) {
      return fail(DeadLetterReason::kParseError,
                  fmt::format("more than {} fields", options_.max_fields));
    }
    bool is_envelope = false;
    for (size_t i = 0; i < kEnvelope.size(); ++i) {
      if (key == kEnvelope[i]) {
        if (has_envelope[i]) {
          return fail(DeadLetterReason::kParseError, fmt::format("duplicate key '{}'", key));
        }
        has_envelope[i] = true;
        envelope[i] = value;
        is_envelope = true;
        break;
      }
    }
    if (!is_envelope) rest.push_back(RawField{key, value});
  }
  for (size_t i = 0; i < kRequiredEnvelope; ++i) {
    if (!has_envelope[i] || envelope[i].is_null()) {
      return fail(DeadLetterReason::kMissingField, fmt::format("{}: missing", kEnvelope[i]));
    }
  }
  if (!envelope[0].is_string()) {
    return fail(DeadLetterReason::kBadType,
                fmt::format("type: expected string, got {}", JsonTypeName(envelope[0].type())));
  }
  std::string_view type_name = envelope[0].get_string().value_unsafe();
  int type = schemas_->TypeIndex(type_name);
  if (type < 0) {
    std::string shown(type_name.substr(0, 64));
    return fail(DeadLetterReason::kUnknownType, fmt::format("type '{}' is not declared", shown));
  }
  const EventTypeSchema& schema = schemas_->type(type);

  // Declared fields: first find them (missing_field wins over bad_type).
  auto find = [&](std::string_view name, element* value) -> int {
    int found = 0;
    for (const RawField& f : rest) {
      if (f.key == name) {
        if (found++ == 0) *value = f.value;
      }
    }
    return found;
  };
  element* field_values = scratch_->field_values.data();
  for (size_t f = 0; f < schema.fields.size(); ++f) {
    const FieldSchema& fs = schema.fields[f];
    FieldValue& v = values_[f];
    v = FieldValue{};
    int found = find(fs.name, &field_values[f]);
    if (found > 1) {
      return fail(DeadLetterReason::kParseError, fmt::format("duplicate key '{}'", fs.name));
    }
    v.present = found == 1 && !field_values[f].is_null();
    if (!v.present && !fs.optional) {
      return fail(DeadLetterReason::kMissingField, fmt::format("{}: missing", fs.name));
    }
  }

  // Types and values.
  for (size_t f = 0; f < schema.fields.size(); ++f) {
    const FieldSchema& fs = schema.fields[f];
    FieldValue& v = values_[f];
    if (!v.present) continue;
    const element& e = field_values[f];
    switch (fs.type) {
      case rules::FieldType::kString: {
        if (!e.is_string()) {
          return fail(DeadLetterReason::kBadType,
                      fmt::format("{}: expected string, got {}", fs.name, JsonTypeName(e.type())));
        }
        v.text = e.get_string().value_unsafe();
        if (!fs.values.empty()) {
          for (size_t i = 0; i < fs.values.size(); ++i) {
            if (fs.values[i] == v.text) {
              v.value_index = static_cast<int16_t>(i);
              break;
            }
          }
          if (v.value_index < 0) {
            std::string shown(v.text.substr(0, 64));
            return fail(DeadLetterReason::kBadType,
                        fmt::format("{}: '{}' is not one of {}", fs.name, shown,
                                    fmt::join(fs.values, ", ")));
          }
        }
        break;
      }
      case rules::FieldType::kNumber: {
        if (!IsNumber(e.type())) {
          return fail(DeadLetterReason::kBadType,
                      fmt::format("{}: expected number, got {}", fs.name, JsonTypeName(e.type())));
        }
        double d = 0;
        if (e.type() == element_type::INT64) {
          d = static_cast<double>(e.get_int64().value_unsafe());
        } else if (e.type() == element_type::UINT64) {
          d = static_cast<double>(e.get_uint64().value_unsafe());
        } else {
          d = e.get_double().value_unsafe();
        }
        if (!std::isfinite(d) || std::fabs(d) > options_.max_abs_number) {
          return fail(DeadLetterReason::kBadType,
                      fmt::format("{}: {} is outside ±{:g}", fs.name, d, options_.max_abs_number));
        }
        v.number = d;
        break;
      }
      case rules::FieldType::kBool: {
        if (!e.is_bool()) {
          return fail(DeadLetterReason::kBadType,
                      fmt::format("{}: expected bool, got {}", fs.name, JsonTypeName(e.type())));
        }
        v.boolean = e.get_bool().value_unsafe();
        break;
      }
    }
  }

  // Envelope types and values.
  if (!envelope[1].is_string()) {
    return fail(DeadLetterReason::kBadType,
                fmt::format("id: expected string, got {}", JsonTypeName(envelope[1].type())));
  }
  std::string_view id = envelope[1].get_string().value_unsafe();
  size_t id_len = CodePoints(id);
  if (id_len == 0 || id_len > 128) {
    return fail(DeadLetterReason::kBadType, fmt::format("id: length {} is outside 1..128", id_len));
  }
  if (!envelope[2].is_string()) {
    return fail(DeadLetterReason::kBadType,
                fmt::format("time: expected string, got {}", JsonTypeName(envelope[2].type())));
  }
  std::string_view time_text = envelope[2].get_string().value_unsafe();
  auto time = ParseRfc3339(time_text);
  if (!time) {
    std::string shown(time_text.substr(0, 64));
    return fail(DeadLetterReason::kBadType,
                fmt::format("time: '{}' is not an RFC 3339 timestamp", shown));
  }
  if (!envelope[3].is_string()) {
    return fail(DeadLetterReason::kBadType, fmt::format("municipality: expected string, got {}",
                                                        JsonTypeName(envelope[3].type())));
  }
  std::string_view code = envelope[3].get_string().value_unsafe();
  // neighbourhood: optional (absent or null); a malformed one is bad_type,
  // which SPEC decides before the reference lookups.
  std::string_view buurt;
  const bool has_buurt = has_envelope[4] && !envelope[4].is_null();
  if (has_buurt) {
    if (!envelope[4].is_string()) {
      return fail(DeadLetterReason::kBadType, fmt::format("neighbourhood: expected string, got {}",
                                                          JsonTypeName(envelope[4].type())));
    }
    buurt = envelope[4].get_string().value_unsafe();
    if (NeighbourhoodTable::CodeNumber(buurt) < 0) {
      return fail(DeadLetterReason::kBadType,
                  fmt::format("neighbourhood: '{}' is not a CBS buurt code (BU + 8 digits)",
                              buurt.substr(0, 64)));
    }
  }
  int municipality = municipalities_->IndexOf(code);
  if (municipality < 0) {
    std::string shown(code.substr(0, 64));
    return fail(DeadLetterReason::kUnknownMunicipality,
                fmt::format("municipality '{}' is not in the reference data", shown));
  }
  // Without a neighbourhood table the code is checked for its form only and
  // the event counts at municipality level.
  int neighbourhood = -1;
  if (has_buurt && neighbourhoods_ != nullptr) {
    neighbourhood = neighbourhoods_->IndexOf(buurt);
    if (neighbourhood < 0) {
      return fail(DeadLetterReason::kUnknownNeighbourhood,
                  fmt::format("neighbourhood '{}' is not in the reference data", buurt));
    }
    const int in = neighbourhoods_->at(static_cast<size_t>(neighbourhood)).municipality;
    // A buurt of a code merged with the event's lies in the same municipality
    // now or soon (SPEC 8.3: old and new codes name one history).
    const bool same = in == municipality ||
                      (!final_of_.empty() && final_of_[static_cast<size_t>(in)] ==
                                                 final_of_[static_cast<size_t>(municipality)]);
    if (!same) {
      return fail(DeadLetterReason::kNeighbourhoodMismatch,
                  fmt::format("neighbourhood {} lies in {}, not in {}", buurt,
                              municipalities_->at(static_cast<size_t>(in)).code, code));
    }
  }

  out->type = type;
  out->type_name = schema.type;
  out->id = id;
  out->time = *time;
  out->municipality = municipality;
  out->municipality_code = code;
  out->neighbourhood = neighbourhood;
  out->fields = std::span<const FieldValue>(values_.data(), schema.fields.size());
  return true;
}

}  // namespace zicht::engine
