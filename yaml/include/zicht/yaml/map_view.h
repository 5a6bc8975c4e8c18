// MapView and the scalar readers: typed, located access to a YAML mapping.
// Unknown keys (with a "did you mean" hint), duplicate keys, missing required
// keys and values of the wrong kind or text are reported to Diagnostics, with
// one wording for every file zicht reads.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zicht/base/text.h"
#include "zicht/base/time.h"
#include "zicht/yaml/diagnostics.h"

namespace zicht::yaml {

using Keys = std::initializer_list<std::string_view>;

// "a mapping", "a list", "a single value" or "nothing".
std::string_view KindOf(const YAML::Node& node);

// The candidate close enough to `word` to be a typo, or "" (short words are
// close to everything: the allowed distance grows with the word).
template <typename Range>
std::string Closest(std::string_view word, const Range& candidates) {
  const size_t limit = word.size() <= 2 ? 0 : word.size() <= 3 ? 1 : word.size() <= 6 ? 2 : 3;
  return NearestName(word, candidates, limit);
}
// " (did you mean 'x'?)" or "".
template <typename Range>
std::string DidYouMean(std::string_view word, const Range& candidates) {
  std::string c = Closest(word, candidates);
  return c.empty() ? std::string() : " (did you mean '" + c + "'?)";
}
// "a, b, c"
template <typename Range>
std::string JoinNames(const Range& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}
// "unknown <what> 'x' (did you mean 'y'?)" or "... (expected one of: a, b)".
template <typename Range>
std::string UnknownName(std::string_view what, std::string_view name, const Range& known) {
  std::string hint = Closest(name, known);
  std::string out = "unknown " + std::string(what) + " '" + PrintableText(name) + "'";
  return hint.empty() ? out + " (expected one of: " + JoinNames(known) + ")"
                      : out + " (did you mean '" + hint + "'?)";
}

// One key of a mapping with its value and where both are.
struct Entry {
  std::string key;
  YAML::Node value;
  SourceMark key_mark;
  SourceMark value_mark;  // the key's mark when the value is empty (yaml-cpp marks
                          // an empty value at the next token, often the next line)
};

class MapView {
 public:
  // `known` empty: any key is allowed (labels, where, weights, fields).
  // `where` names the mapping in messages ("a test case"); empty: nothing.
  MapView(Diagnostics& diagnostics, const YAML::Node& map, Keys known, std::string_view where = {});

  const Entry* Find(std::string_view key) const;
  // Reports a missing key at the mapping, naming `what` ("indicator 'x'").
  const Entry* Require(std::string_view key, std::string_view what) const;
  const std::vector<Entry>& entries() const { return entries_; }
  const SourceMark& mark() const { return mark_; }

 private:
  Diagnostics& diagnostics_;
  SourceMark mark_;
  std::vector<Entry> entries_;
};

// Text parsers behind the readers (no diagnostics).
bool ParseNumber(std::string_view s, double* out);    // finite, optional leading '+'
bool ParseInteger(std::string_view s, int64_t* out);  // optional leading '+'
// true/false in YAML's spellings (True, TRUE), and yes/no, on/off.
std::optional<bool> ParseBool(std::string_view s);
// RFC 3339, or a date YYYY-MM-DD (midnight UTC; its last millisecond when
// `end_of_day`, for inclusive ends of ranges).
std::optional<TimeMs> ParseTimeOrDate(std::string_view s, bool end_of_day);

// Readers: the value of an entry, or nullopt with the error reported.
std::optional<std::string> Text(Diagnostics& d, const Entry& e);
std::optional<double> Number(Diagnostics& d, const Entry& e);
std::optional<int64_t> Integer(Diagnostics& d, const Entry& e,
                               int64_t min = std::numeric_limits<int64_t>::min(),
                               int64_t max = std::numeric_limits<int64_t>::max());
std::optional<bool> Bool(Diagnostics& d, const Entry& e);
std::optional<Duration> DurationOf(Diagnostics& d, const Entry& e);
// A duration above zero.
std::optional<Duration> PositiveDuration(Diagnostics& d, const Entry& e);
std::optional<TimeMs> TimeOf(Diagnostics& d, const Entry& e, bool end_of_day);
// A list value; a missing or empty (null) entry is an empty list.
bool IsListOrEmpty(Diagnostics& d, const Entry& e);
bool IsMap(Diagnostics& d, const Entry& e);

// A name from a fixed table (aggregates, measures, severities).
template <typename E>
struct Named {
  std::string_view name;
  E value;
};
template <typename E, size_t N>
std::optional<E> Lookup(const Named<E> (&table)[N], std::string_view s) {
  for (const auto& n : table) {
    if (n.name == s) return n.value;
  }
  return std::nullopt;
}
template <typename E, size_t N>
std::vector<std::string_view> NamesOf(const Named<E> (&table)[N]) {
  std::vector<std::string_view> out;
  for (const auto& n : table) out.push_back(n.name);
  return out;
}
// `what` names the value in messages ("field type"); default: the key.
template <typename E, size_t N>
std::optional<E> Enum(Diagnostics& d, const Entry& e, const Named<E> (&table)[N],
                      std::string_view what = {}) {
  auto t = Text(d, e);
  if (!t) return std::nullopt;
  auto v = Lookup(table, *t);
  if (!v)
    d.Error(e.value_mark,
            UnknownName(what.empty() ? std::string_view(e.key) : what, *t, NamesOf(table)));
  return v;
}

}  // namespace zicht::yaml
