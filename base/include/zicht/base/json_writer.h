// A small JSON *writer* (output only; parsing is simdjson's job): objects,
// arrays, escaped strings and shortest round-trip numbers, into a std::string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace zicht {

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // Inside an object: the next value's key.
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& Uint(uint64_t v);
  // Non-finite doubles are written as null.
  JsonWriter& Double(double v);
  JsonWriter& Bool(bool b);
  JsonWriter& Null();
  // Inserts already-encoded JSON as a value.
  JsonWriter& Raw(std::string_view json);

  // Appends s to out with JSON escaping (no quotes). Invalid UTF-8 bytes are
  // replaced by U+FFFD so the output is always valid JSON.
  static void Escape(std::string_view s, std::string* out);

 private:
  void Separate();
  std::string* out_;
  bool need_comma_ = false;
};

}  // namespace zicht
