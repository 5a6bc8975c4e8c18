// Event schemas compiled from a rule set, decoded events, and dead-letter reasons.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "zicht/base/time.h"
#include "zicht/rules/rule_pack.h"

namespace zicht::engine {

// SPEC section 2 and 8.3. They are decided in the order parse_error,
// missing_field, unknown_type, bad_type, unknown_municipality,
// unknown_neighbourhood, neighbourhood_mismatch, too_late, duplicate; the
// enum keeps the older values' numbers. kWrongPartition is used only on Kafka,
// for an event keyed to another partition than its municipality's.
enum class DeadLetterReason : uint8_t {
  kParseError,
  kMissingField,
  kUnknownType,
  kBadType,
  kUnknownMunicipality,
  kTooLate,
  kDuplicate,
  kWrongPartition,
  kUnknownNeighbourhood,
  kNeighbourhoodMismatch,
};
inline constexpr int kDeadLetterReasonCount = 10;
std::string_view DeadLetterReasonName(DeadLetterReason reason);

// One declared field of an event type.
struct FieldSchema {
  std::string name;
  rules::FieldType type = rules::FieldType::kString;
  std::vector<std::string> values;  // allowed strings; empty = any
  bool optional = false;
};

struct EventTypeSchema {
  std::string type;
  std::vector<FieldSchema> fields;
  int FieldIndex(std::string_view name) const;
};

// Every event type the loaded packs know (built-ins first).
class SchemaRegistry {
 public:
  explicit SchemaRegistry(const std::vector<rules::EventTypeSpec>& types);
  int TypeIndex(std::string_view type) const;  // -1 when unknown
  const EventTypeSchema& type(int index) const { return types_[static_cast<size_t>(index)]; }
  size_t size() const { return types_.size(); }
  size_t max_fields() const { return max_fields_; }

 private:
  std::vector<EventTypeSchema> types_;
  std::unordered_map<std::string, int> index_;
  size_t max_fields_ = 0;
};

struct FieldValue {
  bool present = false;
  double number = 0;
  bool boolean = false;
  std::string_view text;     // strings; valid until the next decode
  int16_t value_index = -1;  // index into FieldSchema::values for enumerated strings
};

// A decoded, validated event. Views stay valid until the decoder's next call.
struct DecodedEvent {
  int type = -1;
  std::string_view type_name;
  std::string_view id;
  TimeMs time = 0;
  int municipality = -1;
  // The code as written (an alias of a merged code names its new code's row).
  std::string_view municipality_code;
  int neighbourhood = -1;              // index into the neighbourhood table, -1 without one
  std::span<const FieldValue> fields;  // in EventTypeSchema::fields order
};

}  // namespace zicht::engine
