// Records crossing the connector seam: what sources deliver and what sinks take.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zicht/base/time.h"

namespace zicht::connectors {

// One raw event as read. Views stay valid until the source's next Poll().
struct SourceRecord {
  std::string_view payload;
  bool padded = false;      // ≥ 64 readable bytes follow payload (simdjson padding)
  int32_t partition = 0;    // Kafka partition; 0 for files
  int64_t offset = 0;       // Kafka offset, or byte offset of the line in a file
  int64_t next_offset = 0;  // the position to resume from after this record
  int64_t line = 0;         // 1-based line number (files), 0 otherwise
  std::string_view key;     // Kafka message key (empty for files)
  TimeMs ingest_time = 0;   // broker timestamp, or when the line was read
};

using Header = std::pair<std::string, std::string>;

// One record to deliver: an alert (value = JSON) or a dead letter (value = the
// original bytes, reason/detail/source in headers, as on Kafka).
struct OutRecord {
  std::string key;
  std::string value;
  std::vector<Header> headers;

  // Value of a header, or empty.
  std::string_view header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return {};
  }
};

// Dead-letter header names (SPEC section 2).
inline constexpr std::string_view kReasonHeader = "zicht.reason";
inline constexpr std::string_view kDetailHeader = "zicht.detail";
inline constexpr std::string_view kSourceHeader = "zicht.source";

}  // namespace zicht::connectors
