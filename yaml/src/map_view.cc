#include "zicht/yaml/map_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

namespace zicht::yaml {

std::string_view KindOf(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a single value";
    default:
      return "nothing";
  }
}

MapView::MapView(Diagnostics& d, const YAML::Node& map, Keys known, std::string_view where)
    : diagnostics_(d), mark_(d.Mark(map)) {
  const std::string in = where.empty() ? std::string() : " in " + std::string(where);
  std::map<std::string, int, std::less<>> first_line;
  // Copies, not references: yaml-cpp's it->first lives in a temporary proxy.
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node k = it->first;
    const YAML::Node v = it->second;
    Entry e;
    e.key_mark = d.Mark(k);
    if (!k.IsScalar()) {
      d.Error(e.key_mark, fmt::format("a key{} must be a plain name, not {}", in, KindOf(k)));
      continue;
    }
    e.key = k.Scalar();
    e.value = v;
    e.value_mark = v.IsNull() ? e.key_mark : d.Mark(v);
    auto [pos, inserted] = first_line.emplace(e.key, e.key_mark.line);
    if (!inserted) {
      d.Error(e.key_mark, fmt::format("duplicate key '{}'{} (first at line {})",
                                      PrintableText(e.key), in, pos->second));
      continue;
    }
    if (known.size() != 0 && std::find(known.begin(), known.end(), e.key) == known.end()) {
      std::string hint = Closest(e.key, known);
      d.Error(e.key_mark, hint.empty() ? fmt::format("unknown key '{}'{} (expected one of: {})",
                                                     PrintableText(e.key), in, JoinNames(known))
                                       : fmt::format("unknown key '{}'{} (did you mean '{}'?)",
                                                     PrintableText(e.key), in, hint));
      continue;
    }
    entries_.push_back(std::move(e));
  }
}

const Entry* MapView::Find(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

const Entry* MapView::Require(std::string_view key, std::string_view what) const {
  const Entry* e = Find(key);
  if (e == nullptr)
    diagnostics_.Error(mark_, fmt::format("{} is missing required key '{}'", what, key));
  return e;
}

bool ParseNumber(std::string_view s, double* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.front() == '+') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(*out);
}

bool ParseInteger(std::string_view s, int64_t* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

std::optional<bool> ParseBool(std::string_view s) {
  for (std::string_view t : {"true", "True", "TRUE", "yes", "on"}) {
    if (s == t) return true;
  }
  for (std::string_view f : {"false", "False", "FALSE", "no", "off"}) {
    if (s == f) return false;
  }
  return std::nullopt;
}

std::optional<TimeMs> ParseTimeOrDate(std::string_view s, bool end_of_day) {
  if (s.size() == 10) {
    auto t = ParseRfc3339(std::string(s) + "T00:00:00Z");
    if (t && end_of_day) return *t + kMsPerDay - 1;
    return t;
  }
  return ParseRfc3339(s);
}

std::optional<std::string> Text(Diagnostics& d, const Entry& e) {
  if (e.value.IsScalar()) return e.value.Scalar();
  if (e.value.IsNull() || !e.value.IsDefined()) {
    d.Error(e.value_mark, fmt::format("'{}' needs a value", PrintableText(e.key)));
  } else {
    d.Error(e.value_mark, fmt::format("'{}' must be a single value, not {}", PrintableText(e.key),
                                      KindOf(e.value)));
  }
  return std::nullopt;
}

std::optional<double> Number(Diagnostics& d, const Entry& e) {
  auto t = Text(d, e);
  if (!t) return std::nullopt;
  double v;
  if (!ParseNumber(*t, &v)) {
    d.Error(e.value_mark, fmt::format("'{}' must be a number, got '{}'", e.key, PrintableText(*t)));
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> Integer(Diagnostics& d, const Entry& e, int64_t min, int64_t max) {
  auto t = Text(d, e);
  if (!t) return std::nullopt;
  int64_t v;
  if (!ParseInteger(*t, &v) || v < min || v > max) {
    const bool bounded =
        min != std::numeric_limits<int64_t>::min() || max != std::numeric_limits<int64_t>::max();
    const std::string range = !bounded ? std::string()
                              : max == std::numeric_limits<int64_t>::max()
                                  ? fmt::format(" of at least {}", min)
                                  : fmt::format(" in {}..{}", min, max);
    d.Error(e.value_mark, fmt::format("'{}' must be a whole number{}, got '{}'", e.key, range,
                                      PrintableText(*t)));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> Bool(Diagnostics& d, const Entry& e) {
  auto t = Text(d, e);
  if (!t) return std::nullopt;
  auto b = ParseBool(*t);
  if (!b)
    d.Error(e.value_mark,
            fmt::format("'{}' must be true or false, got '{}'", e.key, PrintableText(*t)));
  return b;
}

std::optional<Duration> DurationOf(Diagnostics& d, const Entry& e) {
  auto t = Text(d, e);
  if (!t) return std::nullopt;
  auto v = ParseDuration(*t);
  if (!v) {
    d.Error(e.value_mark, fmt::format("'{}' must be a duration like 14d, 12h, 30m or 10s, got '{}'",
                                      e.key, PrintableText(*t)));
  }
  return v;
}

std::optional<Duration> PositiveDuration(Diagnostics& d, const Entry& e) {
  auto t = Text(d, e);
  if (!t) return std::nullopt;
  auto v = ParseDuration(*t);
  if (!v || v->ms() <= 0) {
    d.Error(e.value_mark,
            fmt::format("'{}' must be a positive duration like 1d, 12h or 30m, got '{}'", e.key,
                        PrintableText(*t)));
    return std::nullopt;
  }
  return v;
}

std::optional<TimeMs> TimeOf(Diagnostics& d, const Entry& e, bool end_of_day) {
  auto t = Text(d, e);
  if (!t) return std::nullopt;
  auto v = ParseTimeOrDate(*t, end_of_day);
  if (!v) {
    d.Error(e.value_mark,
            fmt::format("'{}' must be an RFC 3339 time (2026-03-01T12:00:00Z) or a date "
                        "(2026-03-01), got '{}'",
                        e.key, PrintableText(*t)));
  }
  return v;
}

bool IsListOrEmpty(Diagnostics& d, const Entry& e) {
  if (e.value.IsSequence() || e.value.IsNull()) return true;
  d.Error(e.value_mark,
          fmt::format("'{}' must be a list, not {}", PrintableText(e.key), KindOf(e.value)));
  return false;
}

bool IsMap(Diagnostics& d, const Entry& e) {
  if (e.value.IsMap()) return true;
  d.Error(e.value_mark,
          fmt::format("'{}' must be a mapping, not {}", PrintableText(e.key), KindOf(e.value)));
  return false;
}

}  // namespace zicht::yaml
