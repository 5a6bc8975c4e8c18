// YAML values of a test file as JSON event text, and the scalar helpers.
#include "test_case.h"
#include "zicht/base/json_writer.h"

namespace zicht::tools::rule_test {
namespace {

bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  } else {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t digits = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == digits) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t digits = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == digits) return false;
  }
  return i == s.size();
}

std::string ReplaceIndex(std::string text, int64_t index) {
  if (index < 0) return text;
  const std::string number = std::to_string(index);
  for (size_t at = text.find("{i}"); at != std::string::npos;
       at = text.find("{i}", at + number.size())) {
    text.replace(at, 3, number);
  }
  return text;
}

}  // namespace

void AppendJson(const YAML::Node& n, int64_t index, std::string* out) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar: {
      std::string text = ReplaceIndex(n.Scalar(), index);
      if (n.Tag() == "?") {
        if (IsJsonNumber(text)) {
          out->append(text);
          return;
        }
        if (text == "true" || text == "True" || text == "TRUE") {
          out->append("true");
          return;
        }
        if (text == "false" || text == "False" || text == "FALSE") {
          out->append("false");
          return;
        }
        if (text == "null" || text == "~") {
          out->append("null");
          return;
        }
      }
      out->push_back('"');
      JsonWriter::Escape(text, out);
      out->push_back('"');
      return;
    }
    case YAML::NodeType::Sequence: {
      out->push_back('[');
      bool first = true;
      for (const YAML::Node& v : n) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(v, index, out);
      }
      out->push_back(']');
      return;
    }
    case YAML::NodeType::Map: {
      out->push_back('{');
      bool first = true;
      for (auto it = n.begin(); it != n.end(); ++it) {
        if (!first) out->push_back(',');
        first = false;
        out->push_back('"');
        JsonWriter::Escape(it->first.IsScalar() ? it->first.Scalar() : std::string(), out);
        out->append("\":");
        AppendJson(it->second, index, out);
      }
      out->push_back('}');
      return;
    }
    default:
      out->append("null");
      return;
  }
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  JsonWriter::Escape(s, &out);
  out.push_back('"');
  return out;
}

std::vector<YAML::Node> ScalarList(yaml::Diagnostics& d, const Entry& e) {
  std::vector<YAML::Node> out;
  if (e.value.IsScalar()) {
    out.push_back(e.value);
  } else if (e.value.IsSequence() && e.value.size() > 0) {
    for (const YAML::Node& v : e.value) {
      if (!v.IsScalar()) {
        d.Error(v, fmt::format("an item of '{}' must be a single value, not {}", e.key, KindOf(v)));
        continue;
      }
      out.push_back(v);
    }
  } else {
    d.Error(e.value_mark, fmt::format("'{}' needs a value or a non-empty list of values", e.key));
  }
  return out;
}

std::optional<TimeMs> DurationMs(yaml::Diagnostics& d, const Entry& e) {
  auto v = yaml::PositiveDuration(d, e);
  if (!v) return std::nullopt;
  return v->ms();
}

}  // namespace zicht::tools::rule_test
