#include "zicht/engine/event.h"

namespace zicht::engine {

std::string_view DeadLetterReasonName(DeadLetterReason reason) {
  switch (reason) {
    case DeadLetterReason::kParseError:
      return "parse_error";
    case DeadLetterReason::kMissingField:
      return "missing_field";
    case DeadLetterReason::kUnknownType:
      return "unknown_type";
    case DeadLetterReason::kBadType:
      return "bad_type";
    case DeadLetterReason::kUnknownMunicipality:
      return "unknown_municipality";
    case DeadLetterReason::kTooLate:
      return "too_late";
    case DeadLetterReason::kDuplicate:
      return "duplicate";
    case DeadLetterReason::kWrongPartition:
      return "wrong_partition";
    case DeadLetterReason::kUnknownNeighbourhood:
      return "unknown_neighbourhood";
    case DeadLetterReason::kNeighbourhoodMismatch:
      return "neighbourhood_mismatch";
  }
  return "unknown";
}

int EventTypeSchema::FieldIndex(std::string_view name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

SchemaRegistry::SchemaRegistry(const std::vector<rules::EventTypeSpec>& types) {
  for (const rules::EventTypeSpec& spec : types) {
    if (index_.count(spec.type) != 0) continue;  // the rule set rejects conflicting duplicates
    EventTypeSchema schema;
    schema.type = spec.type;
    for (const rules::FieldSpec& f : spec.fields) {
      schema.fields.push_back(FieldSchema{f.name, f.type, f.values, f.optional});
    }
    max_fields_ = std::max(max_fields_, schema.fields.size());
    index_.emplace(spec.type, static_cast<int>(types_.size()));
    types_.push_back(std::move(schema));
  }
}

int SchemaRegistry::TypeIndex(std::string_view type) const {
  auto it = index_.find(std::string(type));
  return it == index_.end() ? -1 : it->second;
}

}  // namespace zicht::engine
